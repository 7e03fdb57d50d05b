// Package suitekit is the only Ginkgo-aware helper package of mtastorm's
// suites: it gives each Ginkgo process its own Toxiproxy backend, runs a
// scenario for a spec with its logs on GinkgoWriter, and on failure keeps
// the run's bundle and attaches its timeline to the report.
package suitekit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// ArtifactsEnv names the folder where failed specs leave their bundles
// (default: the spec's temporary folder, removed after the spec).
const ArtifactsEnv = "MTASTORM_ARTIFACTS"

var backend toxi.Backend

// SetupBackend opens this Ginkgo process's Toxiproxy: an embedded server,
// or the external one at TOXIPROXY_URL. Call it from BeforeSuite; it
// registers its own cleanup.
func SetupBackend(ctx SpecContext) {
	GinkgoHelper()
	b, err := toxi.Open(ctx, "", Logger())
	Expect(err).NotTo(HaveOccurred(), "open the Toxiproxy backend")
	backend = b
	DeferCleanup(func(ctx SpecContext) {
		Expect(b.Close(ctx)).To(Succeed())
		backend = nil
	})
}

// Logger returns a logger that writes to GinkgoWriter (shown on failure).
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Scenario loads a scenario from YAML text, failing the spec on error.
func Scenario(name, text string) *scenario.Scenario {
	GinkgoHelper()
	sc, err := scenario.LoadBytes(name, []byte(text))
	Expect(err).NotTo(HaveOccurred(), "scenario %s", name)
	return sc
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Run runs sc on this process's backend and returns its result. The run's
// timeline goes to GinkgoWriter; if the spec fails, the bundle is kept in
// $MTASTORM_ARTIFACTS (when set) and the timeline is attached to the report.
func Run(ctx context.Context, sc *scenario.Scenario) *harness.Result {
	GinkgoHelper()
	Expect(backend).NotTo(BeNil(), "suitekit.SetupBackend was not called in BeforeSuite")
	var tl bytes.Buffer
	out := filepath.Join(GinkgoT().TempDir(), sc.Name)
	res, err := harness.Run(ctx, sc, harness.Options{Out: out, Backend: backend, Logger: Logger(),
		Timeline: &tl, SampleEvery: 25 * time.Millisecond})
	fmt.Fprint(GinkgoWriter, tl.String())
	Expect(err).NotTo(HaveOccurred(), "run %s", sc.Name)
	DeferOnFailure(func() {
		AddReportEntry("timeline "+sc.Name, tl.String())
		if dir := os.Getenv(ArtifactsEnv); dir != "" {
			dst := filepath.Join(dir, unsafe.ReplaceAllString(CurrentSpecReport().FullText(), "_"))
			if err := os.CopyFS(dst, os.DirFS(out)); err == nil {
				AddReportEntry("bundle", dst)
			}
		}
	})
	return res
}

// Check returns the named check of a result, failing the spec if absent.
func Check(res *harness.Result, name string) harness.Check {
	GinkgoHelper()
	for _, c := range res.Summary.Checks {
		if c.Name == name {
			return c
		}
	}
	Fail(fmt.Sprintf("no check %q in %s", name, checkNames(res)))
	return harness.Check{}
}

func checkNames(res *harness.Result) string {
	var n []string
	for _, c := range res.Summary.Checks {
		n = append(n, c.Name)
	}
	return strings.Join(n, ", ")
}

// Events returns how many events with id the named MTA logged in res.
func Events(res *harness.Result, mta string, id int) int {
	GinkgoHelper()
	m, ok := res.Summary.MTAs[mta]
	Expect(ok).To(BeTrue(), "no MTA %q in the run", mta)
	return m.Events[fmt.Sprint(id)]
}

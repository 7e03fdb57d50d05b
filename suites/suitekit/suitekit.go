// Package suitekit is the only Ginkgo-aware helper package of mtastorm's
// suites: it gives each Ginkgo process its own Toxiproxy backend, runs a
// scenario for a spec with its logs on GinkgoWriter, keeps the bundle of a
// failed spec and attaches its timeline and events to the report, checks
// that no goroutine or socket survives a spec, and provides the gcustom
// matchers the suites assert with (HaveEmitted, HaveDeliveredExactlyOnce,
// HaveNoLeakedKCBs, HaveRecoveredWithin, HaveVerdict).
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
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

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

// External reports whether the suites run against an external
// toxiproxy-server (TOXIPROXY_URL is set) rather than an embedded one.
func External() bool { return os.Getenv(toxi.EnvURL) != "" }

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

// LoadFile loads a scenario file; a relative path is taken from the
// module root (so "scenarios/q152877-sp0.yaml" works from any suite).
func LoadFile(path string) *scenario.Scenario {
	GinkgoHelper()
	if !filepath.IsAbs(path) {
		path = filepath.Join(Root(), path)
	}
	sc, err := scenario.Load(path)
	Expect(err).NotTo(HaveOccurred(), "scenario file %s", path)
	return sc
}

var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// runInfo is what suitekit remembers about a result it produced, for the
// matchers' failure messages.
type runInfo struct {
	sc       *scenario.Scenario
	out      string // the bundle as written (a temporary folder)
	timeline string
}

var (
	runsMu sync.Mutex
	runs   = map[*harness.Result]runInfo{}
)

func info(res *harness.Result) (runInfo, bool) {
	runsMu.Lock()
	defer runsMu.Unlock()
	ri, ok := runs[res]
	return ri, ok
}

// Run runs sc on this process's backend and returns its result. The run's
// logs go to GinkgoWriter (and its timeline too, if the run itself fails).
// If the spec fails, the bundle is copied to
// $MTASTORM_ARTIFACTS/<spec> (when set) and the timeline and the events
// table are attached to the report. Called from BeforeAll, the same holds
// for every spec of the ordered container.
func Run(ctx context.Context, sc *scenario.Scenario) *harness.Result {
	GinkgoHelper()
	Expect(backend).NotTo(BeNil(), "suitekit.SetupBackend was not called in BeforeSuite")
	var tl bytes.Buffer
	out := filepath.Join(GinkgoT().TempDir(), sc.Name)
	res, err := harness.Run(ctx, sc, harness.Options{Out: out, Backend: backend, Logger: Logger(),
		Timeline: &tl, SampleEvery: 25 * time.Millisecond})
	if err != nil {
		fmt.Fprint(GinkgoWriter, tl.String()) // no result to attach it to
	}
	Expect(err).NotTo(HaveOccurred(), "run %s", sc.Name)
	runsMu.Lock()
	runs[res] = runInfo{sc: sc, out: out, timeline: tl.String()}
	runsMu.Unlock()
	DeferCleanup(func() {
		runsMu.Lock()
		delete(runs, res)
		runsMu.Unlock()
	})
	DeferOnFailure(func() {
		AddReportEntry("timeline "+sc.Name, tl.String())
		AddReportEntry("events "+sc.Name, EventsTable(res, maxTableRows))
		if dst := bundleDest(); dst != "" {
			if err := os.CopyFS(dst, os.DirFS(out)); err == nil {
				AddReportEntry("bundle "+sc.Name, dst)
			} else {
				AddReportEntry("bundle "+sc.Name, fmt.Sprintf("copy to %s failed: %v", dst, err))
			}
		}
	})
	return res
}

// bundleDest is where a failed current spec's bundle is copied, or "" when
// $MTASTORM_ARTIFACTS is not set: bundles/<spec>-p<pid>-a<attempt>, so
// repeated runs (nightly, MustPassRepeatedly) never overwrite each other.
func bundleDest() string {
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		return ""
	}
	r := CurrentSpecReport()
	text := unsafe.ReplaceAllString(r.FullText(), "_")
	if len(text) > 150 { // file names stay well under 255 bytes
		text = text[:150]
	}
	name := fmt.Sprintf("%s-p%d-a%d", text, os.Getpid(), max(r.NumAttempts, 1))
	return filepath.Join(dir, "bundles", name)
}

// where tells a failure message's reader where to look.
func where(res *harness.Result) string {
	if dst := bundleDest(); dst != "" {
		return fmt.Sprintf("bundle: %s (copied there on failure; the report holds the timeline and the events table)", dst)
	}
	dir := res.Dir
	if ri, ok := info(res); ok {
		dir = ri.out
	}
	return fmt.Sprintf("bundle: %s (removed after the spec: set %s to keep it; the report holds the timeline and the events table)", dir, ArtifactsEnv)
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

// ExpectAll asserts every matcher on res and, when some fail, fails the
// spec once with all their messages (not just the first), under what.
func ExpectAll(res *harness.Result, what string, ms ...types.GomegaMatcher) {
	GinkgoHelper()
	msgs := InterceptGomegaFailures(func() {
		for _, m := range ms {
			Expect(res).To(m)
		}
	})
	if len(msgs) > 0 {
		Fail(fmt.Sprintf("%s: %d of %d expectations failed\n\n%s", what, len(msgs), len(ms), strings.Join(msgs, "\n\n")))
	}
}

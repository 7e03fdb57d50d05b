package regression_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// shippedScenarios are the scenarios the CLI ships at the top of
// scenarios/. The fault files under scenarios/faults are the events suite's
// matrix; scenarios/compose needs the compose lab.
const shippedScenarios = "scenarios/*.yaml"

// heavyScenarios are shipped scenarios too big for the default set, which
// runs under -race with specs in parallel on 2 cores: each is labelled
// speed:soak (so the nightly soak set runs it, without -race) and
// scale:org200, which ci/org200.sh runs on its own without -race in every
// CI run (.ci/run and the workflow's default job). The value says why.
var heavyScenarios = map[string]string{
	"scenarios/org-200.yaml": "200 MTAs and 398 links under a storm: under -race beside the other specs its timeline would not keep time",
}

// Every scenario shipped at the top of scenarios/ must keep passing its own
// checks, so one that stops passing fails CI. The table is the glob's
// files, read while the tree is built; an empty table (no file matches: a
// wrong glob, a moved folder) leaves "finds the shipped scenarios", which
// fails, instead of a suite that passes without running anything. The
// Q152877 pair has specs of its own that assert more; it is in the table as
// well, like any shipped file (leaving it out left the table empty).
var _ = Describe("shipped scenarios", Label("speed:fast"), func() {
	files := Files(shippedScenarios)
	var entries []TableEntry
	for _, f := range files {
		if _, heavy := heavyScenarios[Rel(f)]; heavy {
			entries = append(entries, Entry(Rel(f), f, Label("speed:soak", "scale:org200"), SpecTimeout(120*time.Second)))
			continue
		}
		entries = append(entries, Entry(Rel(f), f, SpecTimeout(60*time.Second)))
	}

	It("finds the shipped scenarios", func(ctx SpecContext) {
		Expect(entries).NotTo(BeEmpty(), "no file matches %s under %s: the table of shipped scenarios would pass without running anything",
			shippedScenarios, Root())
		rels := make([]string, len(files))
		for i, f := range files {
			rels[i] = Rel(f)
		}
		for heavy := range heavyScenarios {
			Expect(rels).To(ContainElement(heavy), "%s is listed as heavy (run by ci/org200.sh) but is not shipped: drop it from heavyScenarios", heavy)
		}
		AddReportEntry("shipped scenarios", strings.Join(rels, " "), ReportEntryVisibilityFailureOrVerbose)
	}, SpecTimeout(10*time.Second))

	DescribeTable("pass their own checks", func(ctx SpecContext, file string) {
		Expect(Run(ctx, LoadFile(file))).To(HaveVerdict(harness.Passed))
	}, entries)
})

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
		entries = append(entries, Entry(Rel(f), f, SpecTimeout(60*time.Second)))
	}

	It("finds the shipped scenarios", func(ctx SpecContext) {
		Expect(entries).NotTo(BeEmpty(), "no file matches %s under %s: the table of shipped scenarios would pass without running anything",
			shippedScenarios, Root())
		rels := make([]string, len(files))
		for i, f := range files {
			rels[i] = Rel(f)
		}
		AddReportEntry("shipped scenarios", strings.Join(rels, " "), ReportEntryVisibilityFailureOrVerbose)
	}, SpecTimeout(10*time.Second))

	DescribeTable("pass their own checks", func(ctx SpecContext, file string) {
		Expect(Run(ctx, LoadFile(file))).To(HaveVerdict(harness.Passed))
	}, entries)
})

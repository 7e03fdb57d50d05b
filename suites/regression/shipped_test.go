package regression_test

import (
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// Every other scenario shipped at the top of scenarios/ (the CLI's
// scenarios) must keep passing its own checks, so one that stops passing
// fails CI. The Q152877 pair has specs of its own above; the fault files
// under scenarios/faults are the events suite's matrix.
var _ = Describe("shipped scenarios", Label("speed:fast"), func() {
	var entries []TableEntry
	for _, f := range Files("scenarios/*.yaml") {
		if strings.HasPrefix(filepath.Base(f), "q152877-") {
			continue
		}
		entries = append(entries, Entry(Rel(f), f, SpecTimeout(60*time.Second)))
	}
	DescribeTable("pass their own checks", func(ctx SpecContext, file string) {
		Expect(Run(ctx, LoadFile(file))).To(HaveVerdict(harness.Passed))
	}, entries)
})

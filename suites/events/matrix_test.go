package events_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/suites/suitekit"
)

// faultScenarios are the shipped fault scenarios the matrix runs: one per
// fault type, each running an sp0 pair and an sp2 pair side by side.
const faultScenarios = "scenarios/faults/*.yaml"

// The matrix of DESIGN.md section 5: every file in scenarios/faults × {sp2,
// sp0}. Each file runs once (BeforeAll of an ordered container, so both
// builds' specs share the run and the process); its specs then assert
//   - the file's own expectations, as the harness judged them (verdict);
//   - per build, the key event ids of the file's section-5 row;
//   - that the sp2 build never logged 1198 or 1277 (outside the
//     pool-pressure row).
//
// The list of files is read while the tree is built; an empty or missing
// folder leaves only the "finds the fault scenarios" spec, which fails. So
// does a fault type (registered in package faults, or known to the scenario
// loader) that no file in the matrix declares.
var _ = Describe("fault matrix (DESIGN.md section 5)", func() {
	files := suitekit.Files(faultScenarios)

	It("finds the fault scenarios, one for every fault type", Label("speed:fast", "backend:external"), func(ctx SpecContext) {
		Expect(files).NotTo(BeEmpty(), "no file matches %s under %s: the fault matrix would pass without running anything",
			faultScenarios, suitekit.Root())
		types := faults.Types()
		Expect(types).NotTo(BeEmpty(), "no fault type registered: nothing to check the matrix against")
		declared := map[string][]string{} // fault type → the files declaring a fault of it
		for _, f := range files {
			sc, err := scenario.Load(f)
			if err != nil {
				continue // its own "loads" spec fails, and its types count as missing
			}
			for _, fl := range sc.Faults {
				if !slices.Contains(declared[fl.Type], suitekit.Rel(f)) {
					declared[fl.Type] = append(declared[fl.Type], suitekit.Rel(f))
				}
			}
		}
		var missing []string
		for _, typ := range types {
			if len(declared[typ]) == 0 {
				missing = append(missing, fmt.Sprintf("%s: no file of %s declares a %s fault (want scenarios/faults/%s.yaml)",
					typ, faultScenarios, typ, typ))
			}
		}
		AddReportEntry("fault scenarios", fmt.Sprintf("%d files: %s; fault types: %v; declared by: %v",
			len(files), strings.Join(rels(files), " "), types, declared), ReportEntryVisibilityFailureOrVerbose)
		Expect(missing).To(BeEmpty(), "fault types with no scenario in the matrix: they would ship untested")
	}, SpecTimeout(10*time.Second))

	for _, file := range files {
		matrixFile(file)
	}
})

func rels(files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = suitekit.Rel(f)
	}
	return out
}

// matrixFile declares the ordered container of one fault scenario file.
func matrixFile(file string) {
	rel := suitekit.Rel(file)
	sc, err := scenario.Load(file)
	if err != nil {
		It("loads "+rel, Label("speed:fast"), func(ctx SpecContext) {
			Expect(err).NotTo(HaveOccurred(), "a shipped fault scenario must load")
		}, SpecTimeout(10*time.Second))
		return
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	rowName := rowOf(file, sc)
	r := rows[rowName]
	labels := Label("fault:"+name, "speed:fast")
	if sc.Duration > 15*time.Second {
		labels = Label("fault:"+name, "speed:slow")
	}
	if !usesCustomToxic(sc) {
		labels = append(labels, "backend:external")
	}
	for _, id := range r.events {
		labels = append(labels, fmt.Sprintf("event:%d", id))
	}
	bds := builds(sc)
	if len(bds) != 2 {
		// The row's table and the sp2 specs iterate over the builds: with
		// one missing they would check nothing for it.
		It(rel+" runs an sp2 and an sp0 build side by side", Label("speed:fast"), func(ctx SpecContext) {
			modes := make([]string, len(bds))
			for i, bd := range bds {
				modes[i] = bd.mode
			}
			Fail(fmt.Sprintf("%s: builds %v; want sp2 and sp0, each with a link between two of its MTAs", rel, modes))
		}, SpecTimeout(10*time.Second))
	}

	Describe(rel, Ordered, ContinueOnFailure, labels, func() {
		var res *harness.Result
		BeforeAll(func(ctx SpecContext) {
			res = suitekit.Run(ctx, sc)
		}, NodeTimeout(sc.Duration+30*time.Second))

		// The first spec of the ordered container runs BeforeAll, within
		// its own SpecTimeout: that must cover the run.
		It("meets its own expectations (harness verdict)", modeLabels(bds), func(ctx SpecContext) {
			Expect(res).To(suitekit.HaveVerdict(harness.Passed), "%s: the file's own expect: block", rel)
		}, SpecTimeout(sc.Duration+40*time.Second))

		if rowName != "" {
			var entries []TableEntry
			for _, bd := range bds {
				entries = append(entries, Entry(fmt.Sprintf("%s (%s->%s)", bd.mode, bd.a, bd.b), Label("mode:"+bd.mode), bd, SpecTimeout(10*time.Second)))
			}
			DescribeTable(fmt.Sprintf("section 5 row %q: key events", r.title),
				func(ctx SpecContext, bd build) {
					suitekit.ExpectAll(res, fmt.Sprintf("%s, row %q, build %s (A=%s, B=%s)", rel, r.title, bd.mode, bd.a, bd.b),
						r.expect(bd)...)
				}, entries)
		}

		if rowName == "slice-short" {
			It("short-delay slicing logs nothing, in either build", modeLabels(bds), func(ctx SpecContext) {
				Expect(res.Events).To(BeEmpty(), "%s: no event at any MTA over the whole run; %s", rel, suitekit.Counts(res))
			}, SpecTimeout(10*time.Second))
		}

		// sp2 never logs 1198 or 1277 outside the pool-pressure row. The
		// recorded history covers the whole run, so asserting on all of it
		// is Consistently over the run, without polling.
		for _, bd := range bds {
			if bd.mode != "sp2" || rowName == "pressure" {
				continue
			}
			It(fmt.Sprintf("sp2 never logs 1198 or 1277 (%s)", strings.Join(bd.mtas, ",")),
				Label("mode:sp2", "event:1198", "event:1277"), func(ctx SpecContext) {
					suitekit.ExpectAll(res, fmt.Sprintf("%s, build sp2 over the whole recorded history", rel),
						Not(suitekit.HaveEmitted(eventlog.IDStateCheck).From(bd.mtas...)),
						Not(suitekit.HaveEmitted(eventlog.IDConnRefused).From(bd.mtas...)))
				}, SpecTimeout(10*time.Second))
		}
	})
}

// modeLabels labels a spec with the modes of the builds it covers.
func modeLabels(bds []build) Labels {
	var l Labels
	for _, bd := range bds {
		l = append(l, "mode:"+bd.mode)
	}
	return l
}

// usesCustomToxic reports whether a scenario needs mtastorm's cut_at toxic,
// which a stock toxiproxy-server refuses.
func usesCustomToxic(sc *scenario.Scenario) bool {
	for _, f := range sc.Faults {
		if f.Type == "cut_at" || slices.Contains(f.Strings("kinds"), "cut_at") {
			return true
		}
	}
	return false
}

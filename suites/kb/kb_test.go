package kb_test

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
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/suites/suitekit"
)

// kbScenarios are the catalogue's oracle files (CATALOGUE.md C5): one per
// KB entry, named after it, each running two builds side by side on the
// same fault.
const kbScenarios = "scenarios/kb/*.yaml"

// conditions are the catalogue's network conditions (C3): KB entries with
// no defect, each of which ships a file too. Q166602's file covers Q200259.
var conditions = map[string][]string{
	"Q175354": {"Q175354"},
	"Q170056": {"Q170056"},
	"Q169143": {"Q169143"},
	"Q166602": {"Q166602", "Q200259"},
}

// The catalogue suite. Each file runs once (BeforeAll of an ordered
// container); its specs then assert
//   - the file's own expectations, as the harness judged them (verdict);
//   - per build in the file (labels kb:<KB>, build:<name>), every
//     expectation about that build's MTAs: event counts, leaked KCBs and
//     deliveries of the pairs it sends on;
//   - for a defect, that moving it into the file's fixed build (defects:
//     override) makes that build's spec fail: the expectations tell the
//     builds apart by the defect, not by anything else.
var _ = Describe("known-issue catalogue (CATALOGUE.md C5)", func() {
	files := suitekit.Files(kbScenarios)

	It("finds a scenario for every catalogue entry", Label("speed:fast", "backend:external"), func(ctx SpecContext) {
		Expect(files).NotTo(BeEmpty(), "no file matches %s under %s", kbScenarios, suitekit.Root())
		var want []string
		for _, d := range kernel.Defects() {
			want = append(want, d.KB)
		}
		for kb := range conditions {
			want = append(want, kb)
		}
		var missing []string
		for _, kb := range want {
			if !slices.ContainsFunc(files, func(f string) bool { return kbOf(f) == kb }) {
				missing = append(missing, fmt.Sprintf("scenarios/kb/%s.yaml", kb))
			}
		}
		Expect(missing).To(BeEmpty(), "catalogue entries with no oracle file")
	}, SpecTimeout(10*time.Second))

	for _, file := range files {
		kbFile(file)
	}
})

// kbOf is the KB id a file is named after.
func kbOf(file string) string {
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}

// kbFile declares the ordered container of one oracle file.
func kbFile(file string) {
	rel := suitekit.Rel(file)
	kb := kbOf(file)
	sc, err := scenario.Load(file)
	if err != nil {
		It("loads "+rel, Label("speed:fast", "kb:"+kb), func(ctx SpecContext) {
			Expect(err).NotTo(HaveOccurred(), "a shipped catalogue scenario must load")
		}, SpecTimeout(10*time.Second))
		return
	}
	var labels Labels
	for _, id := range append([]string{kb}, conditions[kb]...) {
		if !slices.Contains(labels, "kb:"+id) {
			labels = append(labels, "kb:"+id)
		}
	}
	// The oracle files use stock toxics only (cut_at would need mtastorm's
	// own server): they run against an external toxiproxy-server too.
	if !slices.ContainsFunc(sc.Faults, func(f scenario.Fault) bool { return f.Type == faults.TypeCutAt }) {
		labels = append(labels, "backend:external")
	}
	defect, isDefect := kernel.LookupDefect(kb)
	groups := buildGroups(sc)

	// The first spec of the ordered container runs BeforeAll: its timeout
	// covers the run.
	runTimeout := SpecTimeout(sc.Duration + 40*time.Second)
	Describe(rel, Ordered, ContinueOnFailure, labels, Label("speed:fast"), func() {
		var res *harness.Result
		BeforeAll(func(ctx SpecContext) {
			res = suitekit.Run(ctx, sc)
		}, NodeTimeout(sc.Duration+30*time.Second))

		It("meets its own expectations (harness verdict)", func(ctx SpecContext) {
			Expect(res).To(suitekit.HaveVerdict(harness.Passed), "%s: the file's own expect: block", rel)
		}, runTimeout)

		It("runs two builds side by side", func(ctx SpecContext) {
			Expect(groups).To(HaveLen(2), "%s: builds %v; want two, side by side on the same fault", rel, groups)
			if isDefect {
				var has, hasNot []string
				for _, g := range groups {
					if slices.Contains(g.defects, defect.KB) {
						has = append(has, g.build)
					} else {
						hasNot = append(hasNot, g.build)
					}
				}
				Expect(has).To(ConsistOf(defect.Build), "%s: the build with the defect", rel)
				Expect(hasNot).To(ConsistOf(defect.FixedIn), "%s: the build that fixes it", rel)
			}
		}, SpecTimeout(10*time.Second))

		for _, g := range groups {
			It(fmt.Sprintf("build %s (%s): %s", g.build, strings.Join(g.mtas, ", "), defectText(g.defects)), Label("build:"+g.build), func(ctx SpecContext) {
				Expect(buildProblems(sc, res, g.mtas)).To(BeEmpty(),
					"%s, build %s: expectations about %v broken\n%s", rel, g.build, g.mtas, suitekit.EventsTable(res, 40))
			}, SpecTimeout(10*time.Second))
		}
	})

	if !isDefect {
		return
	}
	fixed := slices.IndexFunc(groups, func(g buildGroup) bool { return !slices.Contains(g.defects, defect.KB) })
	if fixed < 0 {
		return // "runs two builds side by side" fails
	}
	g := groups[fixed]
	It(fmt.Sprintf("%s: %s moved into the fixed build %s fails that build's expectations", rel, defect.KB, g.build),
		labels, Label("build:"+g.build, "speed:fast"), func(ctx SpecContext) {
			swapped := *sc
			swapped.Name = sc.Name + "-swapped"
			swapped.MTAs = slices.Clone(sc.MTAs)
			for i, m := range swapped.MTAs {
				if slices.Contains(g.mtas, m.Name) {
					swapped.MTAs[i].Defects = append(slices.Clone(m.DefectSet()), defect.KB)
					swapped.MTAs[i].OverrideDefects = true
				}
			}
			res := suitekit.Run(ctx, &swapped)
			Expect(buildProblems(&swapped, res, g.mtas)).NotTo(BeEmpty(),
				"%s with %s in build %s: its expectations still hold, so they do not show the defect\n%s",
				rel, defect.KB, g.build, suitekit.EventsTable(res, 40))
		}, SpecTimeout(sc.Duration+40*time.Second))
}

// buildGroup is the MTAs of one build (and defect set) in a file.
type buildGroup struct {
	build   string
	defects []string
	mtas    []string
}

func (g buildGroup) String() string { return g.build + "[" + strings.Join(g.mtas, ",") + "]" }

// buildGroups groups a scenario's MTAs by build, in the file's order.
func buildGroups(sc *scenario.Scenario) []buildGroup {
	var out []buildGroup
	for _, m := range sc.MTAs {
		i := slices.IndexFunc(out, func(g buildGroup) bool { return g.build == m.BuildName() })
		if i < 0 {
			out = append(out, buildGroup{build: m.BuildName(), defects: m.DefectSet()})
			i = len(out) - 1
		}
		out[i].mtas = append(out[i].mtas, m.Name)
	}
	return out
}

func defectText(defects []string) string {
	if len(defects) == 0 {
		return "no known defect"
	}
	return strings.Join(defects, "+")
}

// buildProblems evaluates, for the MTAs mtas only, every expectation of sc
// that concerns them: event counts and leaked KCBs (an expectation on "*"
// included), and the deliveries of the pairs they send on (a pair the
// file bounds within its bounds, any other delivering everything), and no
// duplicate. It returns what is broken.
func buildProblems(sc *scenario.Scenario, res *harness.Result, mtas []string) []string {
	var out []string
	in := func(m string) bool { return m == "*" || slices.Contains(mtas, m) }
	within := func(n int, lo, hi *int) bool { return (lo == nil || n >= *lo) && (hi == nil || n <= *hi) }
	show := func(lo, hi *int) string {
		s := ""
		if lo != nil {
			s += fmt.Sprintf("≥%d", *lo)
		}
		if hi != nil {
			s += fmt.Sprintf("≤%d", *hi)
		}
		return s
	}
	for _, e := range sc.Expect.Events {
		if !in(e.MTA) {
			continue
		}
		for _, m := range mtas {
			if e.MTA != "*" && e.MTA != m {
				continue
			}
			if n := res.Summary.MTAs[m].Events[fmt.Sprint(e.ID)]; !within(n, e.Min, e.Max) {
				out = append(out, fmt.Sprintf("%s logged %d×%d, want %s (line %d)", m, n, e.ID, show(e.Min, e.Max), e.Line))
			}
		}
	}
	for _, l := range sc.Expect.Leaked {
		if !in(l.MTA) {
			continue
		}
		for _, m := range mtas {
			if l.MTA != "*" && l.MTA != m {
				continue
			}
			if n := res.Summary.MTAs[m].KCBsLeaked; !within(n, l.Min, l.Max) {
				out = append(out, fmt.Sprintf("%s leaked at most %d KCBs at once, want %s (line %d)", m, n, show(l.Min, l.Max), l.Line))
			}
		}
	}
	for _, p := range res.Summary.Pairs {
		if !slices.Contains(mtas, p.From) {
			continue
		}
		if p.Duplicates > 0 {
			out = append(out, fmt.Sprintf("%s->%s: %d duplicate deliveries", p.From, p.To, p.Duplicates))
		}
		i := slices.IndexFunc(sc.Expect.DeliveredPairs, func(d scenario.DeliveredExpect) bool { return d.From == p.From && d.To == p.To })
		switch {
		case i >= 0:
			d := sc.Expect.DeliveredPairs[i]
			if !within(p.Delivered, d.Min, d.Max) {
				out = append(out, fmt.Sprintf("%s->%s delivered %d of %d, want %s (line %d)", p.From, p.To, p.Delivered, p.Submitted, show(d.Min, d.Max), d.Line))
			}
		case p.Undelivered > 0:
			out = append(out, fmt.Sprintf("%s->%s delivered %d of %d, want all", p.From, p.To, p.Delivered, p.Submitted))
		}
	}
	return out
}

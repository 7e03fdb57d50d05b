package repro

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// diagCase is a customer's log and the diagnosis a support engineer expects
// (testdata/oos/manifest.json; the fit set below).
type diagCase struct {
	File       string   `json:"file"`
	Kind       string   `json:"kind"`
	Reproduced bool     `json:"reproduced"`
	Mode       string   `json:"mode"`
	Families   []string `json:"families"`
	Names      []int    `json:"names"`
	// KB is the catalogue entry a support engineer names first; Issue is
	// 14 for the logs added with the catalogue (the issue-11 figure is
	// measured without them).
	KB    string `json:"kb"`
	Issue int    `json:"issue"`
	oos   bool
	sig   Signature
}

var q152877Families = []string{FamilyCycle, FamilyTruncate, FamilyLatency}

// fitCases are the logs the shipped weights and threshold were fitted on.
var fitCases = []diagCase{
	{File: "q152877-paris.csv", Kind: "defect", KB: "Q152877", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "q152877-boston.txt", Kind: "defect", KB: "Q152877", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "q152877-lab.jsonl", Kind: "defect", KB: "Q152877", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "mixed.csv", Kind: "defect", KB: "Q152877", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "outage.csv", Kind: "outage", KB: "Q175354", Reproduced: true, Mode: "either", Families: []string{FamilyRefuse}},
}

// diagCases returns the fit set and the out-of-sample logs, with their
// signatures.
func diagCases(t *testing.T) []diagCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oos", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Logs []diagCase `json:"logs"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("oos/manifest.json: %v", err)
	}
	if len(m.Logs) < 6 {
		t.Fatalf("oos/manifest.json lists %d logs, want at least 6", len(m.Logs))
	}
	out := slices.Clone(fitCases)
	for _, c := range m.Logs {
		c.File, c.oos = filepath.Join("oos", c.File), true
		out = append(out, c)
	}
	for i := range out {
		out[i].sig = sigOf(t, out[i].File)
	}
	return out
}

// labRun is a recorded lab run: its signature with and without the
// companion events, and the lab's leak indicator (a KCB leaked and 1277).
type labRun struct {
	labRunEntry
	full, plain Signature
	// restarted is full with B stopped and started after the last event:
	// what a Restart plan (the search's for a log with 9299) adds.
	restarted Signature
}

func labRuns(t *testing.T) []labRun {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", labIndex))
	if err != nil {
		t.Fatal(err)
	}
	var index []labRunEntry
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatalf("%s: %v", labIndex, err)
	}
	want := 0
	for _, f := range Families {
		want += len(FamilyBuilds(f))
	}
	if len(index) < want {
		t.Fatalf("%s lists %d runs, want one per family and build (%d)", labIndex, len(index), want)
	}
	var out []labRun
	for _, e := range index {
		recs, _ := importFile(t, e.File)
		var plain []eventlog.Record
		for _, r := range recs {
			if !eventlog.Companion(r.ID) {
				plain = append(plain, r)
			}
		}
		end := recs[0].Time
		for _, rec := range recs {
			if rec.Time.After(end) {
				end = rec.Time
			}
		}
		banner := eventlog.Record{Source: eventlog.Source, MTA: "B", Build: eventlog.BuildFor(e.Mode)}
		stop, start := banner, banner
		stop.ID, stop.Time = eventlog.IDStop, end.Add(restartDelay)
		start.ID, start.Time = eventlog.IDStart, end.Add(restartDelay+50*time.Millisecond)
		r := labRun{labRunEntry: e, full: NewSignature(recs), plain: NewSignature(plain),
			restarted: NewSignature(append(slices.Clone(recs), stop, start))}
		r.full.Leak = e.Leaked > 0 && r.full.Has(eventlog.IDConnRefused)
		r.plain.Leak = e.Leaked > 0 && r.plain.Has(eventlog.IDConnRefused)
		r.restarted.Leak = r.full.Leak
		out = append(out, r)
	}
	return out
}

// params are what the leave-one-out fit chooses: the weights and the
// threshold.
type params struct {
	w         weights
	threshold float64
}

// diagnosis is what the search would conclude from the recorded runs.
type diagnosis struct {
	reproduced bool
	mode       string
	family     string
	kb         string
	score      float64
	names      []int
}

func (d diagnosis) String() string {
	if !d.reproduced {
		return fmt.Sprintf("not reproduced (best %s %s %.3f, names %v)", d.kb, d.family, d.score, d.names)
	}
	return fmt.Sprintf("%s %s %s %.3f", d.kb, d.mode, d.family, d.score)
}

// scored is one recorded run's parts against a log, and the catalogued
// IDs of the log it lacks.
type scored struct {
	run     *labRun
	parts   [4]float64
	missing []int
}

// prepare scores every recorded run's parts against c once: a log with
// companion events is compared with the runs as recorded (the search turns
// companions on for it), any other log with the runs stripped of them; a
// log that shows the MTA stopped (9299) with the runs followed by B's
// restart (the search restarts B in every plan for it). A
// log whose banner names a build is compared with the runs the search
// would make under that build alone (standIns).
func prepare(c diagCase, runs []labRun) []scored {
	ext := hasCompanions(c.sig)
	if c.sig.Build != "" {
		runs = standIns(runs, c.sig.Build)
	}
	restart := c.sig.Has(eventlog.IDStop)
	out := make([]scored, len(runs))
	for i := range runs {
		sig := runs[i].plain
		switch {
		case restart:
			sig = runs[i].restarted
		case ext:
			sig = runs[i].full
		}
		out[i] = scored{&runs[i], ScoreParts(c.sig, sig), Missing(c.sig, sig)}
	}
	return out
}

// standIns returns, for a log whose banner names build, one recorded run
// per family standing for that family under the build, as the search runs
// every family under the banner's build alone: the family's run under that
// build when one was recorded, else its run under a build that agrees on
// the family's defect (carries it or not), of the same product version
// first (a 5.5 build logs 4284 + 4287 where a 4.0 build does not). The runs
// are relabelled with the banner's build. An approximation: a Q152877
// family under a 5.5 banner stands in with its 4.0-sp2 run.
func standIns(runs []labRun, build string) []labRun {
	bi, ok := kernel.LookupBuild(build)
	if !ok {
		return runs
	}
	carries := func(b kernel.BuildInfo, family string) bool {
		d := familyDefect[family]
		return d != "" && slices.Contains(b.Defects, d)
	}
	var out []labRun
	for _, f := range Families {
		pick, rank := -1, 0
		for i, r := range runs {
			rb, ok := kernel.LookupBuild(r.Mode)
			if r.Family != f || !ok {
				continue
			}
			k := 0
			switch {
			case rb.Name == bi.Name:
				k = 3
			case carries(rb, f) == carries(bi, f) && rb.Product == bi.Product:
				k = 2
			case carries(rb, f) == carries(bi, f):
				k = 1
			}
			if k > rank {
				pick, rank = i, k
			}
		}
		if pick >= 0 {
			r := runs[pick]
			r.Mode = bi.ModeName()
			out = append(out, r)
		}
	}
	return out
}

func hasCompanions(s Signature) bool { return s.Companions() }

// diagnose applies the search's decision rule to the recorded runs: the best
// run (a build without defects on a tie) names the family and the KB entry
// (hypothesisOf), the best score per build decides the mode (a banner
// decides it alone), and the log is reproduced when the best score reaches
// the threshold and the log has no ID the stub does not model; a log not
// reproduced names the IDs the best run missed and those not modelled.
func diagnose(c diagCase, sc []scored, p params) diagnosis {
	best, bestScore := -1, -1.0
	modes := map[string]float64{}
	for i, s := range sc {
		v := p.w.score(s.parts, len(s.missing) > 0)
		modes[s.run.Mode] = max(modes[s.run.Mode], v)
		if v > bestScore || v == bestScore && defectFree(s.run.Mode) && !defectFree(sc[best].run.Mode) {
			best, bestScore = i, v
		}
	}
	run := sc[best].run
	kb, _ := hypothesisOf(Plan{Family: run.Family, Mode: run.Mode}, c.sig)
	d := diagnosis{family: run.Family, kb: kb, score: bestScore, mode: decideMode(modes)}
	if b, ok := kernel.LookupBuild(c.sig.Build); ok {
		d.mode = b.ModeName()
	}
	d.reproduced = bestScore >= p.threshold && len(sc[best].missing) == 0 && len(c.sig.NotModelled) == 0
	if !d.reproduced {
		d.names = append(slices.Clone(sc[best].missing), c.sig.NotModelled...)
	}
	return d
}

// judge reports whether a diagnosis is the one a case expects.
type judge func(diagCase, diagnosis) bool

// correct reports whether d is the diagnosis c expects by family and build
// (the issue-11 figure).
func correct(c diagCase, d diagnosis) bool {
	if d.reproduced != c.Reproduced {
		return false
	}
	if !c.Reproduced {
		return namesAll(c, d)
	}
	return d.mode == c.Mode && slices.Contains(c.Families, d.family)
}

// correctKB reports whether d names the KB entry c expects first, with the
// verdict it expects: top-1 accuracy over the catalogue.
func correctKB(c diagCase, d diagnosis) bool {
	if d.reproduced != c.Reproduced {
		return false
	}
	if !c.Reproduced {
		return namesAll(c, d)
	}
	return d.kb == c.KB
}

func namesAll(c diagCase, d diagnosis) bool {
	for _, id := range c.Names {
		if !slices.Contains(d.names, id) {
			return false
		}
	}
	return true
}

// grid is every candidate fit: weights on the simplex in steps of 0.05 and
// thresholds from 0.60 to 0.90.
func paramGrid() []params {
	var out []params
	for a := 0; a <= 20; a++ {
		for b := 0; a+b <= 20; b++ {
			for c := 0; a+b+c <= 20; c++ {
				d := 20 - a - b - c
				w := weights{float64(a) / 20, float64(b) / 20, float64(c) / 20, float64(d) / 20}
				for th := 60; th <= 90; th += 5 {
					out = append(out, params{w, float64(th) / 100})
				}
			}
		}
	}
	return out
}

// distance is how far p is from the shipped weights and threshold (L1).
func (p params) distance() float64 {
	d := math.Abs(p.threshold - Threshold)
	for i := range p.w {
		d += math.Abs(p.w[i] - shipped[i])
	}
	return d
}

// looResult is the leave-one-out measurement.
type looResult struct {
	n, correct     int // leave-one-out over every log
	oos, oosOK     int // the shipped parameters on the out-of-sample logs
	all, allOK     int // the shipped parameters on every log
	wrong, shipped []string
	// left is each case's diagnosis with the parameters fitted without it.
	left []diagnosis
}

// leaveOneOut fits the parameters on every log but one — the grid point
// that diagnoses most of them right by ok, the nearest to the shipped
// parameters on a tie (fitting is only allowed to move them when that
// pays) — and diagnoses the one left out; it also diagnoses every log with
// the shipped parameters.
func leaveOneOut(cases []diagCase, runs []labRun, good judge) looResult {
	grid := paramGrid()
	sort.SliceStable(grid, func(i, j int) bool { return grid[i].distance() < grid[j].distance() })
	prepared := make([][]scored, len(cases))
	for i, c := range cases {
		prepared[i] = prepare(c, runs)
	}
	ok := make([][]bool, len(grid)) // ok[g][i]: grid point g diagnoses case i right
	for g, p := range grid {
		ok[g] = make([]bool, len(cases))
		for i, c := range cases {
			ok[g][i] = good(c, diagnose(c, prepared[i], p))
		}
	}
	var r looResult
	for out := range cases {
		bestG, bestN := 0, -1
		for g := range grid {
			n := 0
			for i := range cases {
				if i != out && ok[g][i] {
					n++
				}
			}
			if n > bestN { // grid is sorted by distance: the first best is the nearest
				bestG, bestN = g, n
			}
		}
		r.n++
		p := grid[bestG]
		d := diagnose(cases[out], prepared[out], p)
		r.left = append(r.left, d)
		if ok[bestG][out] {
			r.correct++
		} else {
			r.wrong = append(r.wrong, fmt.Sprintf("%s: %s (fit w=%v threshold %.2f)", cases[out].File, d, p.w, p.threshold))
		}
	}
	ship := params{shipped, Threshold}
	for i, c := range cases {
		d := diagnose(c, prepared[i], ship)
		right := good(c, d)
		r.all++
		if right {
			r.allOK++
		}
		if c.oos {
			r.oos++
			if right {
				r.oosOK++
			}
		}
		mark := "ok   "
		if !right {
			mark = "WRONG"
		}
		r.shipped = append(r.shipped, fmt.Sprintf("%s %-36s want %-8s got %s", mark, c.File, label(c.Reproduced, c.KB), d))
	}
	return r
}

// looFloor is the leave-one-out top-1 accuracy the score must keep (the
// figure in the package documentation).
const looFloor = 0.92

// issue11Runs keeps the recorded runs of the hypotheses the figure of the
// package documentation was measured over: the seven families of issue 11
// under the two 4.0 builds.
func issue11Runs(runs []labRun) []labRun {
	var out []labRun
	for _, r := range runs {
		if (r.Mode == "sp0" || r.Mode == "sp2") && slices.Contains(Families[:7], r.Family) {
			out = append(out, r)
		}
	}
	return out
}

// issue11Cases keeps the 14 logs of issue 11 (none has a banner).
func issue11Cases(cases []diagCase) []diagCase {
	var out []diagCase
	for _, c := range cases {
		if c.Issue < 14 {
			out = append(out, c)
		}
	}
	return out
}

// catalogueKBs are the catalogue's entries (CATALOGUE.md C2, C3) in the
// confusion matrix's order; noneLabel stands for "not reproduced".
var catalogueKBs = []string{"Q152877", "Q229643", "Q232602", "Q247419", "Q175354", "Q170056", "Q169143", "Q166602"}

const noneLabel = "none"

// label is a diagnosis's row or column in the confusion matrix: its KB when
// reproduced, else none.
func label(reproduced bool, kb string) string {
	if !reproduced {
		return noneLabel
	}
	return kb
}

// confusion counts, per expected label, the labels diagnosed.
type confusion map[string]map[string]int

func confusionOf(cases []diagCase, ds []diagnosis) confusion {
	m := confusion{}
	for i, c := range cases {
		want, got := label(c.Reproduced, c.KB), label(ds[i].reproduced, ds[i].kb)
		if m[want] == nil {
			m[want] = map[string]int{}
		}
		m[want][got]++
	}
	return m
}

// String renders the matrix: a row per expected entry, a column per
// diagnosed one.
func (m confusion) String() string {
	labels := append(slices.Clone(catalogueKBs), noneLabel)
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s", "want \\ got")
	for _, l := range labels {
		fmt.Fprintf(&b, " %7s", l)
	}
	b.WriteString("\n")
	for _, w := range labels {
		if m[w] == nil {
			continue
		}
		n := 0
		for _, v := range m[w] {
			n += v
		}
		fmt.Fprintf(&b, "%-16s", fmt.Sprintf("%s (%d)", w, n))
		for _, g := range labels {
			if v := m[w][g]; v > 0 {
				fmt.Fprintf(&b, " %7d", v)
			} else {
				fmt.Fprintf(&b, " %7s", ".")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// catalogueFloor is the leave-one-out top-1 accuracy (the KB entry named
// first, with the verdict expected) over every log and every recorded
// hypothesis, the 5.5 builds and the KB families included, as measured
// (see the package documentation); it was not tuned for.
const catalogueFloor = 0.87 // 21/24

// notableConfusions are the confusions between the catalogue's look-alike
// entries (CATALOGUE.md C6, issue 14) and, per ordered pair (want, got), the
// most the leave-one-out measurement may show: the measured counts.
var notableConfusions = map[[2]string]int{
	{"Q152877", "Q247419"}: 0, {"Q247419", "Q152877"}: 0,
	{"Q232602", "Q175354"}: 0, {"Q175354", "Q232602"}: 0,
	{"Q229643", "Q166602"}: 0, {"Q166602", "Q229643"}: 1, // Milan: 1004 [3 20 1 4] then 9156, no banner
}

// TestLeaveOneOutAccuracyCatalogue measures the top-1 accuracy of the KB
// diagnosis over every log (the fit set and testdata/oos) with every
// recorded hypothesis, and the confusion between the catalogue's entries.
func TestLeaveOneOutAccuracyCatalogue(t *testing.T) {
	cases, runs := diagCases(t), labRuns(t)
	if len(issue11Runs(runs)) == len(runs) {
		t.Fatal("no recorded run of a 5.5 build or a KB family")
	}
	per := map[string]int{}
	for _, c := range cases {
		per[c.KB]++
	}
	for _, kb := range catalogueKBs {
		if per[kb] < 2 {
			t.Errorf("%d logs of %s, want at least 2 for every catalogue entry", per[kb], kb)
		}
	}
	r := leaveOneOut(cases, runs, correctKB)
	acc := float64(r.correct) / float64(r.n)
	m := confusionOf(cases, r.left)
	t.Logf("catalogue: leave-one-out top-1 accuracy %d/%d = %.2f; shipped parameters: %d/%d on every log, %d/%d out of sample\n%s",
		r.correct, r.n, acc, r.allOK, r.all, r.oosOK, r.oos, strings.Join(r.shipped, "\n"))
	t.Logf("confusion (leave-one-out):\n%s", m)
	if len(r.wrong) > 0 {
		t.Logf("wrong when left out:\n%s", strings.Join(r.wrong, "\n"))
	}
	if acc < catalogueFloor {
		t.Errorf("catalogue leave-one-out accuracy %.2f < floor %.2f", acc, catalogueFloor)
	}
	for pair, most := range notableConfusions {
		if got := m[pair[0]][pair[1]]; got > most {
			t.Errorf("%s diagnosed as %s %d times, at most %d measured", pair[0], pair[1], got, most)
		}
	}
}

func TestLeaveOneOutAccuracy(t *testing.T) {
	cases, runs := issue11Cases(diagCases(t)), issue11Runs(labRuns(t))
	r := leaveOneOut(cases, runs, correct)
	acc := float64(r.correct) / float64(r.n)
	t.Logf("leave-one-out top-1 accuracy %d/%d = %.2f; shipped parameters: %d/%d on every log, %d/%d out of sample",
		r.correct, r.n, acc, r.allOK, r.all, r.oosOK, r.oos)
	t.Logf("shipped parameters:\n%s", strings.Join(r.shipped, "\n"))
	if len(r.wrong) > 0 {
		t.Logf("wrong when left out:\n%s", strings.Join(r.wrong, "\n"))
	}
	if acc < looFloor {
		t.Errorf("leave-one-out accuracy %.2f < floor %.2f", acc, looFloor)
	}
}

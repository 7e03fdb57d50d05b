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

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
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
	oos        bool
	sig        Signature
}

var q152877Families = []string{FamilyCycle, FamilyTruncate, FamilyLatency}

// fitCases are the logs the shipped weights and threshold were fitted on.
var fitCases = []diagCase{
	{File: "q152877-paris.csv", Kind: "defect", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "q152877-boston.txt", Kind: "defect", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "q152877-lab.jsonl", Kind: "defect", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "mixed.csv", Kind: "defect", Reproduced: true, Mode: "sp0", Families: q152877Families},
	{File: "outage.csv", Kind: "outage", Reproduced: true, Mode: "either", Families: []string{FamilyRefuse}},
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
		r := labRun{labRunEntry: e, full: NewSignature(recs), plain: NewSignature(plain)}
		r.full.Leak = e.Leaked > 0 && r.full.Has(eventlog.IDConnRefused)
		r.plain.Leak = e.Leaked > 0 && r.plain.Has(eventlog.IDConnRefused)
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
	score      float64
	names      []int
}

func (d diagnosis) String() string {
	if !d.reproduced {
		return fmt.Sprintf("not reproduced (best %s %.3f, names %v)", d.family, d.score, d.names)
	}
	return fmt.Sprintf("%s %s %.3f", d.mode, d.family, d.score)
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
// companions on for it), any other log with the runs stripped of them.
func prepare(c diagCase, runs []labRun) []scored {
	ext := hasCompanions(c.sig)
	out := make([]scored, len(runs))
	for i := range runs {
		sig := runs[i].plain
		if ext {
			sig = runs[i].full
		}
		out[i] = scored{&runs[i], ScoreParts(c.sig, sig), Missing(c.sig, sig)}
	}
	return out
}

func hasCompanions(s Signature) bool { return s.Companions() }

// diagnose applies the search's decision rule to the recorded runs: the best
// run (the fixed build on a tie) names the family, the best score per build
// decides the mode, and the log is reproduced when the best score reaches
// the threshold and the log has no ID the stub does not model; a log not
// reproduced names the IDs the best run missed and those not modelled.
func diagnose(c diagCase, sc []scored, p params) diagnosis {
	best, bestScore := -1, -1.0
	modes := map[string]float64{}
	for i, s := range sc {
		v := p.w.score(s.parts, len(s.missing) > 0)
		modes[s.run.Mode] = max(modes[s.run.Mode], v)
		if v > bestScore || v == bestScore && s.run.Mode == "sp2" {
			best, bestScore = i, v
		}
	}
	d := diagnosis{family: sc[best].run.Family, score: bestScore, mode: decideMode(modes)}
	d.reproduced = bestScore >= p.threshold && len(sc[best].missing) == 0 && len(c.sig.NotModelled) == 0
	if !d.reproduced {
		d.names = append(slices.Clone(sc[best].missing), c.sig.NotModelled...)
	}
	return d
}

// correct reports whether d is the diagnosis c expects.
func correct(c diagCase, d diagnosis) bool {
	if d.reproduced != c.Reproduced {
		return false
	}
	if !c.Reproduced {
		for _, id := range c.Names {
			if !slices.Contains(d.names, id) {
				return false
			}
		}
		return true
	}
	return d.mode == c.Mode && slices.Contains(c.Families, d.family)
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
}

// leaveOneOut fits the parameters on every log but one — the grid point
// that diagnoses most of them right, the nearest to the shipped parameters
// on a tie (fitting is only allowed to move them when that pays) — and
// diagnoses the one left out; it also diagnoses every log with the shipped
// parameters.
func leaveOneOut(cases []diagCase, runs []labRun) looResult {
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
			ok[g][i] = correct(c, diagnose(c, prepared[i], p))
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
		if ok[bestG][out] {
			r.correct++
		} else {
			p := grid[bestG]
			r.wrong = append(r.wrong, fmt.Sprintf("%s: %s (fit w=%v threshold %.2f)", cases[out].File,
				diagnose(cases[out], prepared[out], p), p.w, p.threshold))
		}
	}
	ship := params{shipped, Threshold}
	for i, c := range cases {
		d := diagnose(c, prepared[i], ship)
		good := correct(c, d)
		r.all++
		if good {
			r.allOK++
		}
		if c.oos {
			r.oos++
			if good {
				r.oosOK++
			}
		}
		mark := "ok   "
		if !good {
			mark = "WRONG"
		}
		r.shipped = append(r.shipped, fmt.Sprintf("%s %-32s %s", mark, c.File, d))
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

// catalogueFloor is the leave-one-out top-1 accuracy over every recorded
// hypothesis, the 5.5 builds and the KB families included, on the same 14
// logs (none of which has a banner); it was measured, not tuned: see the
// package documentation for its two new confusions.
const catalogueFloor = 0.78

// TestLeaveOneOutAccuracyCatalogue measures the same figure with the
// catalogue's hypotheses: a shortage of control blocks (Q166602) and a
// 5.5-sp2 slow link (Q229643) log the same ids, as CATALOGUE.md warns.
func TestLeaveOneOutAccuracyCatalogue(t *testing.T) {
	cases, runs := diagCases(t), labRuns(t)
	if len(issue11Runs(runs)) == len(runs) {
		t.Fatal("no recorded run of a 5.5 build or a KB family")
	}
	r := leaveOneOut(cases, runs)
	acc := float64(r.correct) / float64(r.n)
	t.Logf("catalogue: leave-one-out top-1 accuracy %d/%d = %.2f\n%s", r.correct, r.n, acc, strings.Join(r.shipped, "\n"))
	if len(r.wrong) > 0 {
		t.Logf("wrong when left out:\n%s", strings.Join(r.wrong, "\n"))
	}
	if acc < catalogueFloor {
		t.Errorf("catalogue leave-one-out accuracy %.2f < floor %.2f", acc, catalogueFloor)
	}
}

func TestLeaveOneOutAccuracy(t *testing.T) {
	cases, runs := diagCases(t), issue11Runs(labRuns(t))
	r := leaveOneOut(cases, runs)
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

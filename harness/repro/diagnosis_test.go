package repro

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// labTrial is a recorded lab run of a family under a build as a scored
// trial against customer.
func labTrial(t *testing.T, customer Signature, family, mode string) Trial {
	t.Helper()
	p := grid(family)[0].WithMode(mode)
	p.KCBs, p.Seed, p.Extended = 4, 1, true
	sig := sigOf(t, labRunFile(family, mode))
	return Trial{Plan: p, Sig: sig, Score: Score(customer, sig)}
}

// The diagnosis ranks one hypothesis per KB entry and build: a defect
// where the build carries the family's defect, a condition otherwise, with
// its title, fix, hit rate (when measured) and what it does not explain.
func TestDiagnosisRanksHypotheses(t *testing.T) {
	customer := sigOf(t, "runs/lab/slice-short-5.5-sp3.jsonl")
	trials := []Trial{
		labTrial(t, customer, FamilySliceShort, "5.5-sp3"),
		labTrial(t, customer, FamilySliceShort, "5.5-sp4"),
		labTrial(t, customer, FamilyReset, "5.5-sp4"),      // Q169143 on 5.5-sp4
		labTrial(t, customer, FamilySliceShort, "5.5-sp3"), // the same hypothesis again: not listed twice
	}
	trials[3].Score = 0.1
	best := trials[0]
	o := &Outcome{Customer: customer, Trials: trials, Best: best, Final: best, Score: best.Score, Reproduced: true,
		hitRates: map[string]measurement{best.Plan.Key() + "|" + best.Plan.Mode: {hits: 2, n: 3}}}
	d := o.Diagnose("log.jsonl")
	if len(d.Hypotheses) != 3 {
		t.Fatalf("%d hypotheses: %+v", len(d.Hypotheses), d.Hypotheses)
	}
	top := d.Hypotheses[0]
	if top.KB != "Q247419" || top.Kind != KindDefect || top.Build != "5.5-sp3" || top.FixedIn != "5.5-sp4" ||
		top.HitRuns != 3 || top.HitRate != 0.667 || len(top.Missing) != 0 || top.Title == "" {
		t.Errorf("top %+v", top)
	}
	fixed := d.Hypotheses[1]
	if fixed.KB != "Q175354" || fixed.Kind != KindCondition || fixed.Build != "5.5-sp4" || fixed.FixedIn != "" || fixed.HitRuns != 0 {
		t.Errorf("the fixed build's run: %+v", fixed)
	}
	if !slices.Contains(fixed.NotExplained, 1277) || !slices.Contains(fixed.Missing, 1277) || slices.Contains(fixed.Explains, 1277) {
		t.Errorf("the fixed build logs no 1277: explains %v, not %v, missing %v", fixed.Explains, fixed.NotExplained, fixed.Missing)
	}
	lines := strings.Split(d.Lines(3), "\n")
	for _, want := range []string{"Q247419", top.Title, "build 5.5-sp3, fixed in 5.5-sp4", "hit rate 0.67 over 3"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line %q lacks %q", lines[0], want)
		}
	}
	if !strings.Contains(lines[1], "runner-up 1: Q175354 condition on 5.5-sp4") || !strings.Contains(lines[1], "does not explain") {
		t.Errorf("runner-up line %q", lines[1])
	}
	if !strings.HasPrefix(o.String(), lines[0]+"\n") {
		t.Errorf("the outcome's first line is not the diagnosis:\n%s", o.String())
	}
	// Not reproduced: the first line says so and names what the closest
	// hypothesis did not produce.
	no := *o
	no.Reproduced = false
	first := strings.SplitN(no.Diagnose("log.jsonl").Lines(3), "\n", 2)[0]
	if !strings.HasPrefix(first, "diagnosis: NOT reproduced") || !strings.Contains(first, "closest Q247419") {
		t.Errorf("not reproduced, first line %q", first)
	}
	no.Trials = trials[1:2] // the fixed build's run alone: it logged no 1277
	first = strings.SplitN(no.Diagnose("log.jsonl").Lines(3), "\n", 2)[0]
	if !strings.Contains(first, "no hypothesis produced") || !strings.Contains(first, "1277") {
		t.Errorf("not reproduced, first line %q does not name 1277", first)
	}
	dir := t.TempDir()
	if err := o.Write(dir, "log.jsonl"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, FileDiagnosis))
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Hypotheses []map[string]any `json:"hypotheses"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Hypotheses) != 3 {
		t.Fatalf("diagnosis.json: %v, %s", err, data)
	}
	for _, k := range []string{"kb", "kind", "build", "fixed_in", "fault", "score", "hit_rate", "hit_runs", "explains", "not_explained", "missing"} {
		if _, ok := raw.Hypotheses[0][k]; !ok {
			t.Errorf("diagnosis.json hypothesis lacks %q", k)
		}
	}
}

// A Q152877 family is the defect only under the build that carries it.
func TestHypothesisOf(t *testing.T) {
	outage := sigOf(t, "oos/outage-lisbon.csv") // 9215: connect refused
	for _, c := range []struct {
		family, mode, kb, kind string
	}{
		{FamilyCycle, "sp0", "Q152877", KindDefect},
		{FamilyCycle, "sp2", "Q175354", KindCondition},
		{FamilySlowLink, "5.5-sp2", "Q229643", KindDefect},
		{FamilySlowLink, "5.5-sp3", "Q175354", KindCondition},
		{FamilyDrop, "5.5-sp2", "Q232602", KindDefect},
		{FamilyReset, "5.5-sp4", "Q169143", KindCondition},
		{FamilyPressure, "sp2", "Q166602", KindCondition},
		{FamilyRefuse, "sp2", "Q170056", KindCondition},
		{FamilyDrop, "5.5-sp3", "Q170056", KindCondition}, // a refusal mid-transfer, fixed build
		{FamilySliceShort, "5.5-sp4", "Q175354", KindCondition},
	} {
		kb, kind := hypothesisOf(Plan{Family: c.family, Mode: c.mode}, outage)
		if kb != c.kb || kind != c.kind {
			t.Errorf("%s under %s: %s %s, want %s %s", c.family, c.mode, kb, kind, c.kb, c.kind)
		}
	}
}

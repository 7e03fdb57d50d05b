package repro

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
)

// Recorded lab runs (testdata/runs, events.jsonl of generated scenarios):
// link cycling with latency under each build, and a plain refusal.
func TestScoreSeparatesDefectFromOutage(t *testing.T) {
	cycle0, cycle2 := sigOf(t, "runs/cycle-sp0.jsonl"), sigOf(t, "runs/cycle-sp2.jsonl")
	refuse0, refuse2 := sigOf(t, "runs/refuse-sp0.jsonl"), sigOf(t, "runs/refuse-sp2.jsonl")
	outage := sigOf(t, "outage.csv")
	for _, file := range []string{"q152877-paris.csv", "q152877-boston.txt", "q152877-lab.jsonl", "mixed.csv"} {
		q := sigOf(t, file)
		if s := Score(q, cycle0); s < Threshold {
			t.Errorf("%s vs an sp0 cycling run: %.3f, want ≥ %.2f (parts %v)", file, s, Threshold, ScoreParts(q, cycle0))
		}
		if s := Score(q, cycle2); s >= Threshold {
			t.Errorf("%s vs an sp2 cycling run: %.3f, want < %.2f (parts %v)", file, s, Threshold, ScoreParts(q, cycle2))
		}
		for name, run := range map[string]Signature{"sp0 refusal": refuse0, "sp2 refusal": refuse2, "the outage log": outage} {
			if s := Score(q, run); s >= 0.6 {
				t.Errorf("%s vs %s: %.3f, want < 0.6 (parts %v)", file, name, s, ScoreParts(q, run))
			}
		}
	}
	for name, run := range map[string]Signature{"sp0 refusal": refuse0, "sp2 refusal": refuse2} {
		if s := Score(outage, run); s < Threshold {
			t.Errorf("outage vs %s: %.3f, want ≥ %.2f", name, s, Threshold)
		}
	}
	if s := Score(outage, cycle0); s >= Threshold {
		t.Errorf("outage vs an sp0 cycling run: %.3f, want < %.2f", s, Threshold)
	}
}

func TestScoreMatrix(t *testing.T) {
	logs := []string{"q152877-paris.csv", "q152877-boston.txt", "q152877-lab.jsonl", "mixed.csv", "outage.csv"}
	runs := []string{"runs/cycle-sp0.jsonl", "runs/cycle-sp2.jsonl", "runs/refuse-sp0.jsonl", "runs/refuse-sp2.jsonl"}
	for _, l := range logs {
		line := l
		for _, r := range runs {
			line += fmt.Sprintf("  %s %.3f", r[5:len(r)-6], Score(sigOf(t, l), sigOf(t, r)))
		}
		t.Log(line)
	}
}

func TestScoreBounds(t *testing.T) {
	q := sigOf(t, "q152877-paris.csv")
	if s := Score(q, q); s != 1 {
		t.Errorf("a log against itself: %.3f", s)
	}
	if s := Score(q, NewSignature(nil)); s < 0 || s > 0.5 {
		t.Errorf("against an empty run: %.3f", s)
	}
	for _, f := range []string{"q152877-paris.csv", "q152877-boston.txt", "q152877-lab.jsonl", "mixed.csv", "outage.csv"} {
		for _, g := range []string{"runs/cycle-sp0.jsonl", "runs/refuse-sp2.jsonl", "outage.csv"} {
			s := Score(sigOf(t, f), sigOf(t, g))
			if s < 0 || s > 1 {
				t.Errorf("%s vs %s: %.3f outside [0,1]", f, g, s)
			}
			for i, p := range ScoreParts(sigOf(t, f), sigOf(t, g)) {
				if p < 0 || p > 1 {
					t.Errorf("%s vs %s: part %d = %.3f", f, g, i, p)
				}
			}
		}
	}
}

// The same separation, with fresh runs of the generated scenarios.
func TestScoreLiveRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three scenarios (≈4s)")
	}
	ctx := context.Background()
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	runs := map[string]Plan{"cycle-sp0": grid(FamilyCycle)[0].WithMode("sp0"), "refuse-sp0": grid(FamilyRefuse)[0].WithMode("sp0"),
		"refuse-sp2": grid(FamilyRefuse)[0].WithMode("sp2")}
	sigs := map[string]Signature{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, p := range runs {
		p.KCBs, p.Seed = 4, 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc, err := p.Scenario(name)
			if err != nil {
				t.Error(err)
				return
			}
			res, err := harness.Run(ctx, sc, harness.Options{Backend: b})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			sigs[name] = NewSignature(res.Events)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	q, outage := sigOf(t, "q152877-boston.txt"), sigOf(t, "outage.csv")
	if s := Score(q, sigs["cycle-sp0"]); s < Threshold {
		t.Errorf("Q152877 vs sp0 cycling: %.3f", s)
	}
	if s := Score(q, sigs["refuse-sp0"]); s >= Threshold {
		t.Errorf("Q152877 vs an outage run: %.3f", s)
	}
	for _, m := range []string{"refuse-sp0", "refuse-sp2"} {
		if s := Score(outage, sigs[m]); s < Threshold {
			t.Errorf("outage vs %s: %.3f", m, s)
		}
	}
}

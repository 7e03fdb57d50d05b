package repro

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// expectedRate runs the further seeds of t's plan on lab, as the search
// should, and counts the hits by the rule: at least Threshold and no
// catalogued ID of the log missing.
func expectedRate(t *testing.T, sig Signature, lab func(context.Context, *scenario.Scenario) (*harness.Result, error), tr Trial) float64 {
	t.Helper()
	hits := 0
	for k := 1; k <= DefaultSeeds; k++ {
		p := tr.Plan.clone()
		p.Seed = tr.Plan.Seed + int64(k)
		sc, err := p.Scenario(fmt.Sprintf("check-%d", k))
		if err != nil {
			t.Fatal(err)
		}
		res, err := lab(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		r := trialOf(p, res, sig)
		if r.Score >= Threshold && len(Missing(sig, r.Sig)) == 0 {
			hits++
		}
	}
	return round3(float64(hits) / float64(DefaultSeeds))
}

// trialFor is the trial of o that stands for hypothesis h (its fault and
// build).
func trialFor(t *testing.T, o *Outcome, h Hypothesis) Trial {
	t.Helper()
	for _, tr := range ranked(o.Customer, &o.Best, o.Trials) {
		kb, _ := hypothesisOf(tr.Plan, o.Customer)
		if tr.Plan.String() == h.Fault && kb == h.KB {
			return tr
		}
	}
	t.Fatalf("no trial for %s %s (%s)", h.KB, h.Build, h.Fault)
	return Trial{}
}

// The runner-ups the diagnosis shows get a hit rate measured over the
// search's further seeds, by the top's rule, and the CLI lines show it; on
// the deterministic fake lab the rate is what running those seeds gives.
func TestRunnerUpHitRates(t *testing.T) {
	someHit := false
	for _, c := range []struct {
		log   string
		match func(string) bool
	}{
		{"q152877-paris.csv", func(d string) bool { return strings.HasPrefix(d, "latency-above-transfer sp0") }},
		{"outage.csv", func(d string) bool { return strings.HasPrefix(d, "refuse") }},
		{"outage.csv", func(d string) bool { return strings.HasPrefix(d, "refuse sp2") }},
	} {
		sig := sigOf(t, c.log)
		lab := fakeLab(sig, c.match)
		o, err := Search(context.Background(), sig, Options{Budget: time.Hour, Parallel: 4, Name: "customer", Seed: 7, run: lab})
		if err != nil {
			t.Fatal(err)
		}
		if !o.Reproduced {
			t.Fatalf("%s: not reproduced on the fake lab: %s", c.log, o)
		}
		d := o.Diagnose(c.log)
		if len(d.Hypotheses) < 1+RunnerUps {
			t.Fatalf("%s: %d hypotheses, want at least %d", c.log, len(d.Hypotheses), 1+RunnerUps)
		}
		lines := strings.Split(d.Lines(RunnerUps), "\n")
		for i, h := range d.Hypotheses[1 : 1+RunnerUps] {
			if h.HitRuns < MinSeeds || h.HitRuns != DefaultSeeds || h.NotMeasured != "" {
				t.Errorf("%s: runner-up %d %s on %s: hit_runs %d (%q), want %d", c.log, i+1, h.KB, h.Build, h.HitRuns, h.NotMeasured, DefaultSeeds)
				continue
			}
			if want := expectedRate(t, sig, lab, trialFor(t, o, h)); h.HitRate != want {
				t.Errorf("%s: runner-up %d %s on %s (%s): hit rate %.3f, want %.3f", c.log, i+1, h.KB, h.Build, h.Fault, h.HitRate, want)
			}
			someHit = someHit || h.HitRate > 0
			if w := fmt.Sprintf("hit rate %.2f over %d", h.HitRate, h.HitRuns); !strings.Contains(lines[i+1], w) {
				t.Errorf("%s: line %q lacks %q", c.log, lines[i+1], w)
			}
		}
		if h := d.Hypotheses[1+RunnerUps:]; len(h) > 0 && h[0].HitRuns != 0 {
			t.Errorf("%s: a hypothesis the CLI does not show was measured: %+v", c.log, h[0])
		}
	}
	if !someHit {
		t.Error("no runner-up hit in any case: the rates are not compared with anything but 0")
	}
}

// A runner-up whose seeds do not fit in what the budget leaves (with the
// reserve kept back) keeps hit_runs 0, says "not measured (budget)", and
// launches nothing; those before it that fit are measured.
func TestRunnerUpRatesBudget(t *testing.T) {
	sig := sigOf(t, "q152877-paris.csv")
	lab := fakeLab(sig, func(d string) bool { return strings.HasPrefix(d, "latency-above-transfer sp0") })
	full, err := Search(context.Background(), sig, Options{Budget: time.Hour, Parallel: 4, Name: "customer", Seed: 7, run: lab})
	if err != nil {
		t.Fatal(err)
	}
	ups := ranked(sig, &full.Best, full.Trials)[1 : 1+RunnerUps]
	for _, c := range []struct {
		name string
		fit  int // how many runner-ups the budget pays for
	}{{"none fits", 0}, {"the first fits", 1}} {
		t.Run(c.name, func(t *testing.T) {
			s := &searcher{opts: Options{Seeds: DefaultSeeds, Parallel: 1, Name: "customer", run: lab}, log: slog.New(slog.DiscardHandler),
				customer: sig, start: time.Now(), reserve: time.Minute} // longer than every runner-up's seeds
			// With Parallel 1 each seed is a wave of its own; the lab
			// answers at once, so the clock barely moves.
			left := s.reserve + 200*time.Millisecond
			for _, u := range ups[:c.fit] {
				left += time.Duration(DefaultSeeds) * (u.Plan.Duration() + runOverhead)
			}
			s.deadline = s.start.Add(left)
			out := &Outcome{Customer: sig, Best: full.Best, Trials: full.Trials}
			out.measured(full.Best.Plan, measurement{hits: 3, n: 3})
			if err := s.runnerUpRates(context.Background(), out); err != nil {
				t.Fatal(err)
			}
			if len(s.launches) != c.fit*DefaultSeeds {
				t.Errorf("%d runs launched, want %d", len(s.launches), c.fit*DefaultSeeds)
			}
			out.Reproduced = true
			d := out.Diagnose("customer.csv")
			lines := strings.Split(d.Lines(RunnerUps), "\n")
			for i, h := range d.Hypotheses[1 : 1+RunnerUps] {
				if i < c.fit {
					if h.HitRuns != DefaultSeeds || h.NotMeasured != "" {
						t.Errorf("runner-up %d: hit_runs %d (%q), want %d", i+1, h.HitRuns, h.NotMeasured, DefaultSeeds)
					}
					continue
				}
				if h.HitRuns != 0 || h.HitRate != 0 || h.NotMeasured != "budget" {
					t.Errorf("runner-up %d: hit rate %.2f over %d (%q), want not measured (budget)", i+1, h.HitRate, h.HitRuns, h.NotMeasured)
				}
				if !strings.Contains(lines[i+1], "hit rate not measured (budget)") {
					t.Errorf("line %q does not say the budget left it unmeasured", lines[i+1])
				}
			}
		})
	}
}

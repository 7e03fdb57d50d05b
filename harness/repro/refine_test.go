package repro

import (
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// trialOfPrediction is a scored trial of plan whose run logged what its
// family is predicted to log under its build.
func trialOfPrediction(customer Signature, p Plan) Trial {
	sig := predicted(p.Family, p.Mode)
	return Trial{Plan: p, Sig: sig, Score: Score(customer, sig)}
}

func firstPlan(t *testing.T, family, mode string, kcbs int) Plan {
	t.Helper()
	p := grid(family)[0].WithMode(mode)
	p.KCBs, p.Seed = kcbs, 7
	return p
}

// A log with 2035 whose best run so far (a refusal) missed it: the next
// batch runs the family predicted to log 2035 (drop-mid-transfer under
// 5.5-sp2), before the refusal's neighbours; it never repeats a plan run
// already, every plan settles within MaxDuration, and the batch is the same
// every time it is computed.
func TestFollowUpsLookForTheMissingIDs(t *testing.T) {
	customer := sigOf(t, "oos/q232602-toronto.txt")
	trials := []Trial{
		trialOfPrediction(customer, firstPlan(t, FamilyRefuse, "5.5-sp4", 4)),
		trialOfPrediction(customer, firstPlan(t, FamilyReset, "5.5-sp4", 4)),
	}
	if m := Missing(customer, trials[0].Sig); !slices.Contains(m, eventlog.IDLostConnections) {
		t.Fatalf("the refusal is expected to miss 2035, misses %v", m)
	}
	fu := FollowUps(customer, trials, 7)
	t.Logf("follow-ups:\n%s", strings.Join(fu.Why, "\n"))
	if len(fu.Plans) == 0 || len(fu.Plans) > RefineBatch || len(fu.Why) != len(fu.Plans) {
		t.Fatalf("%d plans, %d reasons", len(fu.Plans), len(fu.Why))
	}
	if p := fu.Plans[0]; p.Family != FamilyDrop || p.Mode != "5.5-sp2" {
		t.Errorf("first follow-up %s, want drop-mid-transfer under 5.5-sp2\n%s", p, strings.Join(fu.Why, "\n"))
	}
	perFamily := map[string]int{}
	for _, p := range fu.Plans {
		if perFamily[p.Family]++; perFamily[p.Family] > refinePerFamily {
			t.Errorf("more than %d plans of %s in one batch", refinePerFamily, p.Family)
		}
	}
	tried := map[string]bool{}
	for _, tr := range trials {
		tried[tr.Plan.Key()+"|"+tr.Plan.Mode] = true
	}
	for _, p := range fu.Plans {
		if tried[p.Key()+"|"+p.Mode] {
			t.Errorf("%s was run already", p)
		}
		tried[p.Key()+"|"+p.Mode] = true
		if p.Seed != 7 || !p.Extended {
			t.Errorf("%s: seed %d extended %v, want the search's seed and companions on", p, p.Seed, p.Extended)
		}
		if p.LastHeal()+settle > MaxDuration {
			t.Errorf("%s heals at %s, after the run's end", p, p.LastHeal())
		}
		if _, err := p.Scenario("followup"); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	again := FollowUps(customer, trials, 7)
	if len(again.Plans) != len(fu.Plans) || !slices.Equal(again.Why, fu.Why) {
		t.Errorf("a second computation differs:\n%s\n--\n%s", strings.Join(fu.Why, "\n"), strings.Join(again.Why, "\n"))
	}
}

// A banner fixes the build of every follow-up; the neighbours of the best
// run vary its parameters.
func TestFollowUpsNeighboursUnderTheBanner(t *testing.T) {
	customer := sigOf(t, "oos/q229643-chicago.csv") // Build 2448.4: 5.5-sp2
	if customer.Build != "5.5-sp2" {
		t.Fatalf("banner build %q", customer.Build)
	}
	best := trialOfPrediction(customer, firstPlan(t, FamilySlowLink, "5.5-sp2", 4))
	best.Score = 0.9 // below refineGoal: worth following up
	fu := FollowUps(customer, []Trial{best}, 7)
	if len(fu.Plans) == 0 {
		t.Fatal("no follow-up")
	}
	var latency bool
	for i, p := range fu.Plans {
		if p.Mode != "5.5-sp2" {
			t.Errorf("%s: not under the banner's build", p)
		}
		if p.Family == FamilySlowLink && strings.Contains(fu.Why[i], "latency latency 500ms → 750ms") {
			latency = true
		}
	}
	if !latency {
		t.Errorf("no neighbour with the latency ×1.5:\n%s", strings.Join(fu.Why, "\n"))
	}
}

// A best run that scores refineGoal or more and misses nothing leaves
// nothing to follow up; no trial at all neither.
func TestFollowUpsNoneWhenDone(t *testing.T) {
	customer := sigOf(t, "oos/outage-denver.txt")
	best := trialOfPrediction(customer, firstPlan(t, FamilyRefuse, "sp2", 4))
	best.Score = 1
	if fu := FollowUps(customer, []Trial{best}, 7); len(fu.Plans) != 0 {
		t.Errorf("follow-ups after a perfect run: %v", fu.Why)
	}
	if fu := FollowUps(customer, nil, 7); len(fu.Plans) != 0 {
		t.Errorf("follow-ups without a run: %v", fu.Why)
	}
}

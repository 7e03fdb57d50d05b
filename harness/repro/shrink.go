package repro

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// shrinkStep is one way to make a plan smaller, described for the report.
type shrinkStep struct {
	plan Plan
	what string
}

// shrinkSteps returns the ways to make p smaller, biggest cut first: drop a
// fault, halve a cycle train, halve a fault's span, halve the traffic,
// fewer KCBs, fewer senders.
func shrinkSteps(p Plan) []shrinkStep {
	p = p.clone()
	p.Variant = "" // a shrunk plan is described by its faults
	var out []shrinkStep
	if len(p.Faults) > 1 {
		for i, f := range p.Faults {
			q := p.clone()
			q.Faults = slices.Delete(q.Faults, i, i+1)
			out = append(out, shrinkStep{q, "dropped the " + f.Type + " fault"})
		}
	}
	for i, f := range p.Faults {
		if f.Type == faults.TypeCycle && f.Params["count"].Int > 2 {
			q := p.clone()
			old := q.Faults[i].end()
			n := max(2, f.Params["count"].Int/2)
			q.Faults[i].Params["count"] = scenario.IntValue(n)
			retarget(q.Faults, old, q.Faults[i].end())
			out = append(out, shrinkStep{q, fmt.Sprintf("cycle count %d → %d", f.Params["count"].Int, n)})
		}
	}
	for i, f := range p.Faults {
		if f.Until > 0 && f.Until-f.At > 400*time.Millisecond {
			q := p.clone()
			span := ((f.Until - f.At) / 2).Round(50 * time.Millisecond)
			q.Faults[i].Until = f.At + span
			out = append(out, shrinkStep{q, fmt.Sprintf("%s span %s → %s", f.Type, f.Until-f.At, span)})
		}
	}
	if p.Senders <= 1 && p.Messages > 40 {
		q := p.clone()
		q.Messages = p.Messages / 2
		out = append(out, shrinkStep{q, fmt.Sprintf("messages %d → %d", p.Messages, q.Messages)})
	}
	if p.KCBs > 4 {
		q := p.clone()
		q.KCBs = 4
		out = append(out, shrinkStep{q, fmt.Sprintf("kcbs %d → 4", p.KCBs)})
	}
	if p.Senders > p.KCBs+1 {
		q := p.clone()
		q.Senders = p.Senders - 2
		out = append(out, shrinkStep{q, fmt.Sprintf("senders %d → %d", p.Senders, q.Senders)})
	}
	return out
}

// retarget moves the end of every fault that ended at old (a latency that
// spans a cycle train) to end.
func retarget(fs []FaultPlan, old, end time.Duration) {
	for i := range fs {
		if fs[i].Type != faults.TypeCycle && fs[i].Until == old {
			fs[i].Until = end
		}
	}
}

// keeps reports whether a shrunk trial still matches as the original did:
// the same core IDs and leak indicator, a score at least Threshold and not
// more than 0.05 below the original's.
func keeps(orig, t Trial) bool {
	return t.Score >= Threshold && t.Score >= orig.Score-0.05 &&
		slices.Equal(t.Sig.Core(), orig.Sig.Core()) && t.Sig.Leak == orig.Sig.Leak
}

// shrink greedily applies shrinking steps to best while the result keeps
// matching, trying Parallel steps at a time, until no step helps or the
// budget is spent. It returns the smallest trial kept and the steps taken.
func (s *searcher) shrink(ctx context.Context, best Trial) (Trial, []string, error) {
	cur := best
	var kept []string
	tried := map[string]bool{}
	for {
		var steps []shrinkStep
		for _, st := range shrinkSteps(cur.Plan) {
			if !tried[st.plan.Key()] {
				steps = append(steps, st)
			}
		}
		if len(steps) == 0 {
			return cur, kept, nil
		}
		progressed := false
		for i := 0; i < len(steps) && !progressed; i += s.opts.Parallel {
			batch := steps[i:min(i+s.opts.Parallel, len(steps))]
			plans := make([]Plan, len(batch))
			for j, st := range batch {
				plans[j] = st.plan
				tried[st.plan.Key()] = true
			}
			res, launched, err := s.runAll(ctx, "shrink", plans)
			if err != nil {
				return cur, kept, err
			}
			if launched == 0 {
				return cur, kept, nil // out of budget
			}
			for _, st := range batch {
				for _, t := range res {
					if t.Plan.Key() == st.plan.Key() && keeps(best, t) {
						cur, progressed = t, true
						kept = append(kept, st.what)
						break
					}
				}
				if progressed {
					break
				}
			}
		}
		if !progressed {
			return cur, kept, nil
		}
	}
}

package repro

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Follow-up batches (CATALOGUE.md C6): after the initial batch — the
// candidates in predicted order — the search does not walk the rest of a
// fixed grid; each further batch is derived from what the runs so far
// scored and which of the log's events they logged or missed.
const (
	// RefineRounds is the most follow-up batches a search runs.
	RefineRounds = 2
	// RefineBatch is the most plans of one follow-up batch. It does not
	// depend on Options.Parallel, so that the batches, and the winner, are
	// the same at any --parallel.
	RefineBatch = 8
	// refineGoal is the score at or above which a best run that misses no
	// ID of the log leaves nothing to follow up.
	refineGoal = 0.95
	// refineShare is the share of the budget after which no follow-up
	// batch starts (the rest pays for hit rates, shrinking, verification).
	refineShare = 60
	// refinePerFamily is the most plans of one family in a batch: a batch
	// looks in several places at once, and eight slice runs side by side
	// (Toxiproxy's slicer holds a heal until its delayed pieces are out)
	// were seen to time out the Toxiproxy API on 2 cores.
	refinePerFamily = 3
)

// FollowUp is one follow-up batch: the plans and why each was chosen.
type FollowUp struct {
	// Round counts the follow-up batches from 1.
	Round int `json:"round"`
	// Plans are the batch's plans, in run order.
	Plans []Plan `json:"-"`
	// Why says, per plan, what it follows up ("neighbour of ...: latency
	// ×1.5", "logs 9156, which the best run missed").
	Why []string `json:"why"`
}

// FollowUps returns the next batch of plans after the runs in trials (in
// the order they ran), or nil when there is nothing to follow up. It is a
// function of the customer's signature, the trials and the seed alone, so
// the batch is the same whoever computes it (one search process, or the
// finish phase after a merge of shards). In order of priority:
//
//  1. When the best run misses catalogued IDs of the log: the runs that
//     did log some of them, varied (their neighbours, below), then the
//     families predicted to log them (candidates.go predictions), under the
//     builds allowed (the banner's, else the family's), every grid variant
//     and pool size not run yet, the family covering the most missing IDs
//     first.
//  2. The neighbours of the best runs (of up to four plans, best first,
//     until the batch is full): each fault's
//     span doubled and halved, its latency, delay or down/up phase ×1.5
//     and ×2/3, a cycle train half as long again, the pool size doubled or
//     halved (more KCBs when the run logged a core ID the log has not, such
//     as 1277), twice the traffic, two senders more or fewer under pressure.
//
// Plans already run (same key and build) are skipped; at most RefineBatch
// are returned, at most refinePerFamily of one family. Nothing is returned when the best run scores refineGoal or
// more and misses nothing.
func FollowUps(customer Signature, trials []Trial, seed int64) FollowUp {
	var fu FollowUp
	if len(trials) == 0 {
		return fu
	}
	ranked := slices.Clone(trials)
	sort.SliceStable(ranked, func(i, j int) bool {
		if ranked[i].Score != ranked[j].Score {
			return ranked[i].Score > ranked[j].Score
		}
		return defectFree(ranked[i].Plan.Mode) && !defectFree(ranked[j].Plan.Mode)
	})
	best := ranked[0]
	missing := Missing(customer, best.Sig)
	if best.Score >= refineGoal && len(missing) == 0 {
		return fu
	}
	tried := map[string]bool{}
	for _, t := range trials {
		tried[t.Plan.Key()+"|"+t.Plan.Mode] = true
	}
	ext, restart := customer.Companions(), customer.Has(eventlog.IDStop)
	perFamily := map[string]int{}
	add := func(p Plan, why string) {
		if len(fu.Plans) >= RefineBatch || perFamily[p.Family] >= refinePerFamily {
			return
		}
		p.Seed, p.Extended, p.Restart = seed, ext, restart
		k := p.Key() + "|" + p.Mode
		if tried[k] || !p.fitsDuration() {
			return
		}
		tried[k] = true
		perFamily[p.Family]++
		fu.Plans = append(fu.Plans, p)
		fu.Why = append(fu.Why, fmt.Sprintf("%s: %s", p, why))
	}
	if len(missing) > 0 {
		// Runs that logged some of the missing IDs, best first.
		for _, t := range ranked {
			got := logged(t.Sig, missing)
			if len(got) == 0 {
				continue
			}
			for _, n := range neighbours(t.Plan, customer, t.Sig) {
				add(n.plan, fmt.Sprintf("neighbour of a run that logged %v (%s)", got, n.what))
			}
			break
		}
		for _, f := range familiesLogging(customer, missing) {
			for _, kcbs := range []int{4, 8} {
				for _, g := range grid(f.family) {
					if f.family == FamilyPressure && g.Senders < kcbs {
						continue
					}
					for _, m := range f.modes {
						q := g.WithMode(m)
						q.KCBs = kcbs
						add(q, fmt.Sprintf("predicted to log %v, which the best run missed", f.covers))
					}
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, t := range ranked {
		if seen[t.Plan.Key()] || len(seen) == 4 {
			continue
		}
		seen[t.Plan.Key()] = true
		for _, n := range neighbours(t.Plan, customer, t.Sig) {
			add(n.plan, fmt.Sprintf("neighbour of %s (score %.3f): %s", t.Plan.Family, t.Score, n.what))
		}
	}
	return fu
}

// logged returns the IDs of ids that sig has.
func logged(sig Signature, ids []int) []int {
	var out []int
	for _, id := range ids {
		if sig.Has(id) {
			out = append(out, id)
		}
	}
	return out
}

// coverage is a family predicted to log some of the missing IDs, under the
// builds that do.
type coverage struct {
	family string
	covers []int
	modes  []string
}

// familiesLogging returns the families predicted to log any of ids, under
// the builds that log the most of them (the banner's build alone when the
// log has one), the family covering most first (Families order on a tie).
func familiesLogging(customer Signature, ids []int) []coverage {
	fixed := ""
	if b, ok := kernel.LookupBuild(customer.Build); ok {
		fixed = b.ModeName()
	}
	var out []coverage
	for _, f := range Families {
		c := coverage{family: f}
		for _, m := range FamilyBuilds(f) {
			got := logged(predicted(f, m), ids)
			switch {
			case len(got) == 0 || len(got) < len(c.covers):
			case len(got) > len(c.covers):
				c.covers, c.modes = got, []string{m}
			default:
				c.modes = append(c.modes, m)
			}
		}
		if len(c.covers) == 0 {
			continue
		}
		if fixed != "" {
			c.modes = []string{fixed}
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i].covers) > len(out[j].covers) })
	return out
}

// fitsDuration reports whether the plan's faults heal early enough for its
// run to settle within MaxDuration.
func (p Plan) fitsDuration() bool {
	return p.LastHeal()+settle+500*time.Millisecond <= MaxDuration
}

// neighbour is a variation of a plan and what was varied.
type neighbour struct {
	plan Plan
	what string
}

// neighbours returns the plans one step from p (see FollowUps), in a fixed
// order; sig is what p's run logged.
func neighbours(p Plan, customer Signature, sig Signature) []neighbour {
	var out []neighbour
	vary := func(what string, edit func(q *Plan) bool) {
		q := p.clone()
		if !edit(&q) {
			return
		}
		q.Variant = strings.TrimSpace(strings.TrimPrefix(p.Variant+"; "+what, "; "))
		out = append(out, neighbour{q, what})
	}
	// Fewer leaks, fewer refusals: a core ID the run logged and the log has not.
	extra := false
	for _, id := range CoreIDs {
		if sig.Has(id) && !customer.Has(id) {
			extra = true
		}
	}
	if extra && p.KCBs < 16 {
		vary(fmt.Sprintf("kcbs %d → %d (the run logged core IDs the log has not)", p.KCBs, 2*p.KCBs), func(q *Plan) bool { q.KCBs *= 2; return true })
	}
	for i, f := range p.Faults {
		if f.Until > f.At {
			span := f.Until - f.At
			vary(fmt.Sprintf("%s span %s → %s", f.Type, span, 2*span), func(q *Plan) bool {
				q.Faults[i].Until = f.At + 2*span
				stretch(q.Faults, f.Until, q.Faults[i].Until)
				return true
			})
			if span >= 400*time.Millisecond {
				vary(fmt.Sprintf("%s span %s → %s", f.Type, span, span/2), func(q *Plan) bool {
					q.Faults[i].Until = f.At + span/2
					stretch(q.Faults, f.Until, q.Faults[i].Until)
					return true
				})
			}
		}
		for _, name := range []string{"latency", "delay", "down", "up"} {
			v, ok := f.Params[name]
			if !ok || v.Duration <= 0 {
				continue
			}
			for _, k := range []struct {
				num, den int64
				what     string
			}{{3, 2, "×1.5"}, {2, 3, "×2/3"}} {
				d := (v.Duration * time.Duration(k.num) / time.Duration(k.den)).Round(10 * time.Millisecond)
				vary(fmt.Sprintf("%s %s %s → %s", f.Type, name, v.Duration, d), func(q *Plan) bool {
					old := q.Faults[i].end()
					q.Faults[i].Params[name] = scenario.DurationValue(d)
					if f.Type == faults.TypeCycle {
						retarget(q.Faults, old, q.Faults[i].end())
					}
					return true
				})
			}
		}
		if f.Type == faults.TypeCycle {
			n := f.Params["count"].Int
			vary(fmt.Sprintf("cycle count %d → %d", n, n+n/2), func(q *Plan) bool {
				old := q.Faults[i].end()
				q.Faults[i].Params["count"] = scenario.IntValue(n + n/2)
				retarget(q.Faults, old, q.Faults[i].end())
				return true
			})
		}
	}
	if !extra && p.KCBs > 2 {
		vary(fmt.Sprintf("kcbs %d → %d", p.KCBs, p.KCBs/2), func(q *Plan) bool {
			q.KCBs /= 2
			return q.Family != FamilyPressure || q.Senders > q.KCBs
		})
	}
	if p.Senders <= 1 {
		vary(fmt.Sprintf("messages %d → %d", p.Messages, 2*p.Messages), func(q *Plan) bool {
			q.Messages, q.Rate = 2*p.Messages, 2*p.Rate
			return true
		})
	} else {
		vary(fmt.Sprintf("senders %d → %d", p.Senders, p.Senders+2), func(q *Plan) bool { q.Senders += 2; return true })
		vary(fmt.Sprintf("senders %d → %d", p.Senders, p.Senders-2), func(q *Plan) bool {
			q.Senders -= 2
			return q.Senders > q.KCBs
		})
	}
	return out
}

// stretch moves the end of every other fault that ended with the one
// whose end moved from old to end (a latency spanning a refusal), and
// keeps faults that start inside it inside it.
func stretch(fs []FaultPlan, old, end time.Duration) {
	for i := range fs {
		if fs[i].Until == old {
			fs[i].Until = end
		}
	}
}

// refine runs up to RefineRounds follow-up batches after the initial
// batch's trials (in candidate order) and returns the runs they added, in
// run order. A batch starts only while less than refineShare of the budget
// is spent; within it a plan runs only if it fits (runAll) with the
// verification and the hit rate of the best candidates kept back.
func (s *searcher) refine(ctx context.Context, trials []Trial) ([]Trial, []FollowUp, error) {
	var added []Trial
	var rounds []FollowUp
	for r := 1; r <= RefineRounds; r++ {
		if time.Since(s.start) > s.opts.Budget*refineShare/100 {
			break
		}
		fu := FollowUps(s.customer, append(slices.Clone(trials), added...), s.opts.Seed)
		if len(fu.Plans) == 0 {
			break
		}
		fu.Round = r
		// Keep back, besides the verification, what the best candidate
		// needs after the follow-ups — its twins and its hit rate — for the
		// longest plan that may be it: a follow-up must not cost the
		// measurement that makes a reproduction.
		longest := time.Duration(0)
		for _, t := range append(slices.Clone(trials), added...) {
			if t.Score >= Threshold {
				longest = max(longest, t.Plan.Duration())
			}
		}
		for _, p := range fu.Plans {
			longest = max(longest, p.Duration())
		}
		waves := time.Duration(1 + (s.opts.Seeds+s.opts.Parallel-1)/s.opts.Parallel)
		saved := s.reserve
		s.reserve += waves * (longest + runOverhead)
		res, _, err := s.runAll(ctx, "refine", fu.Plans)
		s.reserve = saved
		var infra *harness.InfraError
		if err != nil && ctx.Err() == nil && errors.As(err, &infra) {
			// Follow-ups are extra: runs lost to the infrastructure end
			// them, not the search (the initial batch's runs stand).
			s.log.Warn("repro: follow-ups stopped by infrastructure failures", "round", r, "err", err)
			break
		}
		if err != nil {
			return nil, nil, err
		}
		added = append(added, res...)
		rounds = append(rounds, fu)
	}
	return added, rounds, nil
}

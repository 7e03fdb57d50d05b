package repro

import (
	"math"
	"slices"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// weights are the weights of the score's four parts: presence, order,
// counts and indicators.
type weights [4]float64

// shipped are the score's weights (see the package documentation).
var shipped = weights{0.45, 0.15, 0.15, 0.25}

// Threshold is the score at or above which a run reproduces a signature.
const Threshold = 0.75

// missingFactor scales the score of a run that lacks an event ID the
// customer's log has and the stub's catalogue knows: at most 0.6, below the
// threshold by more than the mode margin, so such a run neither reproduces
// the log nor ties with one that does.
const missingFactor = 0.6

// Score compares a run's signature with the customer's and returns a number
// in [0, 1]; 1 is a perfect match. The formula is in the package
// documentation. It is asymmetric: the customer's first-seen order is the
// reference, and only the customer's IDs (with the core IDs) are compared.
// A run that lacks a catalogued ID the customer's log has (Missing) scores
// below Threshold whatever its other parts.
func Score(customer, run Signature) float64 {
	return shipped.scoreOf(customer, run)
}

// scoreOf is Score with the weights w.
func (w weights) scoreOf(customer, run Signature) float64 {
	return w.score(ScoreParts(customer, run), len(Missing(customer, run)) > 0)
}

// score combines the four parts with w, scaled by missingFactor when the
// run misses a catalogued ID, rounded to three decimals.
func (w weights) score(parts [4]float64, missing bool) float64 {
	s := 0.0
	for i, p := range parts {
		s += w[i] * p
	}
	if missing {
		s *= missingFactor
	}
	return math.Round(s*1000) / 1000
}

// ScoreParts returns the four components of Score, each in [0, 1]:
// presence, order, counts and indicators.
func ScoreParts(customer, run Signature) [4]float64 {
	return [4]float64{presence(customer, run), order(customer, run), counts(customer, run), indicators(customer, run)}
}

// Missing returns the event IDs the customer's log has, the stub's catalogue
// knows, and the run did not log, in the customer's first-seen order: a run
// that misses any is not a reproduction.
func Missing(customer, run Signature) []int {
	var out []int
	for _, id := range customer.Modelled() {
		if !run.Has(id) {
			out = append(out, id)
		}
	}
	return out
}

// compared returns the IDs the score compares: the core IDs, then every
// other catalogued ID the customer's log has, in its first-seen order. IDs
// only the run logged, other than the core IDs, are not compared: the stub
// logs companions a customer's build or export may not (banners, 1294).
func compared(c Signature) []int {
	out := slices.Clone(CoreIDs)
	for _, id := range c.Modelled() {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// presence is the share of compared IDs on whose presence both logs agree.
func presence(c, r Signature) float64 {
	ids := compared(c)
	agree := 0
	for _, id := range ids {
		if c.Has(id) == r.Has(id) {
			agree++
		}
	}
	return float64(agree) / float64(len(ids))
}

// common returns the compared IDs present in both logs, in c's first-seen
// order.
func common(c, r Signature) []int {
	ids := compared(c)
	var out []int
	for _, id := range c.Order {
		if slices.Contains(ids, id) && r.Has(id) {
			out = append(out, id)
		}
	}
	return out
}

// order is the share of pairs of common IDs that first appear in the same
// order in both logs; 1 with one common ID, 0 with none.
func order(c, r Signature) float64 {
	ids := common(c, r)
	switch len(ids) {
	case 0:
		return 0
	case 1:
		return 1
	}
	pos := map[int]int{}
	for i, id := range r.Order {
		pos[id] = i
	}
	agree, pairs := 0, 0
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			pairs++
			if pos[ids[i]] < pos[ids[j]] {
				agree++
			}
		}
	}
	return float64(agree) / float64(pairs)
}

// counts compares, for each common ID, its share of the compared events of
// each log on a log2 scale: equal shares give 1, shares a factor of 8 apart
// give 0. A lab run lasts seconds and a customer's log hours, so absolute
// counts are not compared.
func counts(c, r Signature) float64 {
	ids := common(c, r)
	if len(ids) == 0 {
		return 0
	}
	cmp := compared(c)
	total := func(s Signature) float64 {
		n := 0
		for _, id := range cmp {
			n += s.Count(id)
		}
		return float64(n)
	}
	tc, tr := total(c), total(r)
	sum := 0.0
	for _, id := range ids {
		pc, pr := float64(c.Count(id))/tc, float64(r.Count(id))/tr
		sum += math.Max(0, 1-math.Abs(math.Log2(pc/pr))/3)
	}
	return sum / float64(len(ids))
}

// indicators compares the leak indicator (weight 3/4) and, when the customer
// logged 1198, whether it carries the KB's tuple (weight 1/4; otherwise
// that quarter counts as agreement).
func indicators(c, r Signature) float64 {
	s := 0.0
	if c.Leak == r.Leak {
		s += 0.75
	}
	if !c.Has(eventlog.IDStateCheck) || c.StateCheckKB == r.StateCheckKB || !c.StateCheckKB {
		s += 0.25
	}
	return s
}

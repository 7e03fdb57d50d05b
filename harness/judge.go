package harness

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// Verdicts are three-valued (result.Passed, ...).
const (
	Passed  = result.Passed
	Failed  = result.Failed
	Unknown = result.Unknown
)

// The judged run's records live in harness/result, which harness/report
// also reads; these aliases keep their harness names.
type (
	// Check is one checker's verdict.
	Check = result.Check
	// MTASummary is one MTA's totals in summary.json.
	MTASummary = result.MTASummary
	// Summary is summary.json (DESIGN.md section 7).
	Summary = result.Summary
	// PairSummary accounts one sender→receiver pair's messages.
	PairSummary = result.PairSummary
)

// totals computes each MTA's line of summary.json from a result's
// submissions, deliveries, events and samples, so that a live run and a
// re-judged bundle agree by construction.
func totals(sc *scenario.Scenario, res *Result) map[string]*MTASummary {
	out := map[string]*MTASummary{}
	for _, m := range sc.MTAs {
		out[m.Name] = &MTASummary{Mode: m.Mode, Build: m.BuildName(), Defects: m.DefectSet(), Events: map[string]int{}}
	}
	for _, sub := range res.submitted {
		if ms := out[sub.from]; ms != nil {
			ms.Submitted++
		}
	}
	for _, sub := range res.refused {
		if ms := out[sub.from]; ms != nil {
			ms.Refused++
		}
	}
	for _, d := range res.Deliveries {
		if ms := out[d.To]; ms != nil {
			ms.Delivered++
		}
	}
	for _, e := range res.Events {
		if ms := out[e.MTA]; ms != nil {
			ms.Events[fmt.Sprint(e.ID)]++
		}
	}
	last := 0.0
	for _, smp := range res.Samples {
		if ms := out[smp.MTA]; ms != nil {
			ms.KCBsLeaked = max(ms.KCBsLeaked, smp.Leaked)
		}
		last = max(last, smp.T)
	}
	for _, smp := range res.Samples {
		if ms := out[smp.MTA]; ms != nil && smp.T == last {
			ms.LeakedAtEnd = smp.Leaked
		}
	}
	return out
}

// pairs accounts the traffic's messages per sender and receiver pair, in
// the order the traffic first names each pair; it also counts each
// receiver's duplicate deliveries into mtas.
func pairs(sc *scenario.Scenario, res *Result, mtas map[string]*MTASummary) []PairSummary {
	var out []PairSummary
	at := map[[2]string]int{}
	pair := func(from, to string) *PairSummary {
		k := [2]string{from, to}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, PairSummary{From: from, To: to})
		}
		return &out[i]
	}
	for _, t := range sc.Traffic {
		pair(t.From, t.To).Declared += t.Messages
	}
	count := map[string]int{}
	for _, d := range res.Deliveries {
		count[d.ID]++
	}
	for id, sub := range res.submitted {
		p := pair(sub.from, sub.to)
		p.Submitted++
		n := count[id]
		if n == 0 {
			p.Undelivered++
			continue
		}
		p.Delivered++
		p.Duplicates += n - 1
		if ms := mtas[sub.to]; ms != nil {
			ms.Duplicates += n - 1
		}
	}
	for _, sub := range res.refused {
		pair(sub.from, sub.to).Refused++
	}
	return out
}

// judge applies the checkers of DESIGN.md section 6 to a run's result.
func judge(sc *scenario.Scenario, res *Result, anchor, elapsed time.Duration) Summary {
	s := res.Summary
	s.AnchorS = anchor.Seconds()
	for _, m := range s.MTAs {
		m.Duplicates = 0 // counted again by pairs: judging twice must not add up
	}
	s.Pairs = pairs(sc, res, s.MTAs)
	s.Checks = append(s.Checks, checkDelivery(sc, &s)...)
	s.Checks = append(s.Checks, checkRecovery(sc, res, anchor, &s)...)
	s.Checks = append(s.Checks, checkEvents(sc, res)...)
	s.Checks = append(s.Checks, checkLeaks(sc, res)...)
	s.Checks = append(s.Checks, checkFaults(res)...)
	s.Checks = append(s.Checks, checkValidity(sc, res)...)
	if len(s.Checks) == 0 {
		s.Checks = append(s.Checks, Check{Name: "evidence", Verdict: Unknown,
			Detail: "the scenario declares nothing to judge: no traffic, no faults, no expectations"})
	}
	for _, smp := range res.Samples {
		if smp.T < anchor.Seconds() {
			s.LeakedBeforeAnchor = max(s.LeakedBeforeAnchor, smp.Leaked)
		}
	}
	s.Verdict = Passed
	for _, c := range s.Checks {
		switch {
		case c.Verdict == Failed:
			s.Verdict = Failed
		case c.Verdict == Unknown && s.Verdict == Passed:
			s.Verdict = Unknown
		}
	}
	return s
}

// checkDelivery judges loss and duplicates, with or without
// expect.recovery: every accepted message delivered exactly once, or, when
// the scenario declares a stall with expect.delivered, the messages
// delivered over the whole run within its bounds (its list form bounds
// each named pair in a check of its own, "delivery A->B"; the other pairs
// must deliver everything). Traffic declared but nothing submitted leaves
// nothing to judge: unknown. A scenario without traffic gets no check.
func checkDelivery(sc *scenario.Scenario, s *Summary) []Check {
	bounded := map[[2]string]scenario.DeliveredExpect{}
	for _, dx := range sc.Expect.DeliveredPairs {
		bounded[[2]string{dx.From, dx.To}] = dx
	}
	var out []Check
	var rest []PairSummary
	for _, p := range s.Pairs {
		dx, ok := bounded[[2]string{p.From, p.To}]
		if !ok {
			rest = append(rest, p)
			continue
		}
		c := deliveryCheck("delivery "+p.From+"->"+p.To, []PairSummary{p}, &dx)
		out = append(out, c)
	}
	if len(rest) > 0 || len(out) == 0 {
		if c := deliveryCheck("delivery", rest, sc.Expect.Delivered); c.Verdict != "" {
			out = append([]Check{c}, out...)
		}
	}
	return out
}

// deliveryCheck judges the pairs ps: duplicates fail; with stall, the
// messages delivered lie in its bounds; without, none is undelivered.
// Its Verdict is empty when the pairs declare no traffic.
func deliveryCheck(name string, ps []PairSummary, stall *scenario.DeliveredExpect) Check {
	var declared, submitted, refused, delivered, undelivered, dups int
	var bad []string
	for _, p := range ps {
		declared += p.Declared
		submitted += p.Submitted
		refused += p.Refused
		delivered += p.Delivered
		undelivered += p.Undelivered
		dups += p.Duplicates
		if name == "delivery" && (p.Undelivered > 0 || p.Duplicates > 0) { // a pair's own check is named after it
			bad = append(bad, fmt.Sprintf("%s->%s: %d of %d delivered, %d duplicated", p.From, p.To, p.Delivered, p.Submitted, p.Duplicates))
		}
	}
	c := Check{Name: name}
	if declared == 0 {
		return c
	}
	detail := fmt.Sprintf("%d submitted, %d delivered, %d undelivered, %d duplicated", submitted, delivered, undelivered, dups)
	if refused > 0 {
		detail += fmt.Sprintf(", %d refused by a stopped MTA", refused)
	}
	if len(bad) > 0 {
		const show = 5
		if len(bad) > show {
			bad = append(bad[:show], fmt.Sprintf("%d more pairs", len(bad)-show))
		}
		detail += " (" + strings.Join(bad, "; ") + ")"
	}
	switch {
	case submitted == 0:
		c.Verdict = Unknown
		c.Detail = fmt.Sprintf("traffic declares %d messages but none was submitted (%d refused by a stopped MTA): nothing to judge", declared, refused)
	case dups > 0:
		c.Verdict = Failed
		c.Detail = fmt.Sprintf("%d duplicate deliveries to the user: %s", dups, detail)
	case stall != nil:
		c.Verdict = Passed
		if (stall.Min != nil && delivered < *stall.Min) || (stall.Max != nil && delivered > *stall.Max) {
			c.Verdict = Failed
		}
		c.Detail = fmt.Sprintf("%d delivered (want %s, a declared stall): %s", delivered, bounds(stall.Min, stall.Max), detail)
	case undelivered > 0:
		c.Verdict = Failed
		c.Detail = fmt.Sprintf("%d of %d messages undelivered at the end: %s", undelivered, submitted, detail)
	default:
		c.Verdict = Passed
		c.Detail = fmt.Sprintf("%d of %d delivered exactly once: %s", delivered, submitted, detail)
	}
	return c
}

// checkRecovery judges expect.recovery: the messages delivered within its
// bound after the anchor and, with kcbs: baseline, every pool back to its
// baseline. Nothing submitted, or an MTA never sampled, is unknown.
func checkRecovery(sc *scenario.Scenario, res *Result, anchor time.Duration, s *Summary) []Check {
	rec := sc.Expect.Recovery
	if rec == nil {
		return nil
	}
	count := map[string]int{}
	var last float64
	for _, d := range res.Deliveries {
		count[d.ID]++
		if count[d.ID] == 1 {
			if _, ok := res.submitted[d.ID]; ok {
				last = max(last, d.T)
			}
		}
	}
	missing := 0
	for id := range res.submitted {
		if count[id] == 0 {
			missing++
		}
	}
	total := len(res.submitted)
	c := Check{Name: "recovery", Verdict: Passed}
	if total == 0 {
		c.Verdict, c.Detail = Unknown, "nothing was submitted: no recovery to judge"
		return []Check{c}
	}
	want := total
	if !rec.All() {
		want = rec.DeliveredCount
	}
	delivered := total - missing
	deadline := anchor + rec.Within
	var problems, unjudged []string
	if delivered < want {
		problems = append(problems, fmt.Sprintf("%d of %d delivered", delivered, total))
	} else if missing == 0 {
		r := max(0, last-anchor.Seconds())
		s.RecoveryS = &r
		if last > deadline.Seconds() {
			problems = append(problems, fmt.Sprintf("last delivery at %.3fs, %.3fs after the anchor %.3fs (bound %s)", last, r, anchor.Seconds(), rec.Within))
		}
	}
	if rec.KCBs == "baseline" {
		sampled := poolSamples(res)
		for _, name := range sortedMTAs(s) {
			if sampled[name] == 0 {
				unjudged = append(unjudged, fmt.Sprintf("%s: no pool samples", name))
			} else if m := s.MTAs[name]; m.LeakedAtEnd > 0 {
				problems = append(problems, fmt.Sprintf("%s: %d KCBs leaked", name, m.LeakedAtEnd))
			}
		}
		if !endsAtBaseline(res) {
			problems = append(problems, "pools not back to baseline at the end")
		}
	}
	switch {
	case len(problems) > 0:
		c.Verdict = Failed
		c.Detail = strings.Join(append(problems, unjudged...), "; ")
	case len(unjudged) > 0:
		c.Verdict = Unknown
		c.Detail = fmt.Sprintf("%d of %d delivered; baseline not judged: %s", delivered, total, strings.Join(unjudged, "; "))
	default:
		c.Detail = fmt.Sprintf("%d of %d delivered", delivered, total)
		if s.RecoveryS != nil {
			c.Detail += fmt.Sprintf(", %.3fs after the anchor %.3fs (bound %s)", *s.RecoveryS, anchor.Seconds(), rec.Within)
		}
	}
	return []Check{c}
}

// poolSamples counts, per MTA, the samples that saw its pool.
func poolSamples(res *Result) map[string]int {
	out := map[string]int{}
	for _, smp := range res.Samples {
		if len(smp.States) > 0 {
			out[smp.MTA]++
		}
	}
	return out
}

// endsAtBaseline reports whether the last sample of every MTA shows a
// running MTA with no busy or leaked KCB.
func endsAtBaseline(res *Result) bool {
	last := map[string]Sample{}
	for _, s := range res.Samples {
		last[s.MTA] = s
	}
	for _, s := range last {
		if s.Running && (s.Busy > 0 || s.Leaked > 0) {
			return false
		}
	}
	return true
}

func checkEvents(sc *scenario.Scenario, res *Result) []Check {
	var out []Check
	for _, e := range sc.Expect.Events {
		c := Check{Name: fmt.Sprintf("events %s %d", selector(e.MTA, e.Build), e.ID), Verdict: Passed}
		var d details
		for _, name := range mtaNames(sc, e.MTA, e.Build) {
			n := res.Summary.MTAs[name].Events[fmt.Sprint(e.ID)]
			ok := (e.Min == nil || n >= *e.Min) && (e.Max == nil || n <= *e.Max)
			d.add(ok, fmt.Sprintf("%s: %d×%d (want %s)", name, n, e.ID, bounds(e.Min, e.Max)))
			if !ok {
				c.Verdict = Failed
			}
		}
		c.Detail = d.String()
		out = append(out, c)
	}
	return out
}

func checkLeaks(sc *scenario.Scenario, res *Result) []Check {
	var out []Check
	sampled := poolSamples(res)
	for _, l := range sc.Expect.Leaked {
		c := Check{Name: "leaked " + selector(l.MTA, l.Build), Verdict: Passed}
		var d details
		for _, name := range mtaNames(sc, l.MTA, l.Build) {
			if sampled[name] == 0 {
				if c.Verdict == Passed {
					c.Verdict = Unknown
				}
				d.add(false, fmt.Sprintf("%s: no pool samples (want %s)", name, bounds(l.Min, l.Max)))
				continue
			}
			n := res.Summary.MTAs[name].KCBsLeaked
			ok := (l.Min == nil || n >= *l.Min) && (l.Max == nil || n <= *l.Max)
			if !ok {
				c.Verdict = Failed
			}
			d.add(ok, fmt.Sprintf("%s: at most %d KCBs leaked at once over %d samples (want %s)", name, n, sampled[name], bounds(l.Min, l.Max)))
		}
		c.Detail = d.String()
		out = append(out, c)
	}
	return out
}

// checkFaults: every fault the schedule applies must have had at least one
// of its toggles verified on the wire (by its probe twin), or the run cannot
// say the fault happened: unknown. A scenario without faults gets no check.
func checkFaults(res *Result) []Check {
	if res.Schedule == nil || len(res.Schedule.Toggles) == 0 {
		return nil
	}
	type tally struct {
		link, typ         string
		toggles, verified int
		lastErr           string
	}
	byFault := map[int]*tally{}
	var order []int
	for _, t := range res.Schedule.Toggles {
		if t.Action == faults.ActUpdateToxic {
			continue // never probed: its toxic's effect was verified when added
		}
		f := byFault[t.Fault]
		if f == nil {
			f = &tally{link: t.Link, typ: t.Type}
			byFault[t.Fault] = f
			order = append(order, t.Fault)
		}
		f.toggles++
	}
	for _, e := range res.Ledger {
		if f := byFault[e.Fault]; f != nil {
			switch e.Phase {
			case "verified":
				f.verified++
			case "unverified", "failed":
				f.lastErr = e.Error
			}
		}
	}
	sort.Ints(order)
	c := Check{Name: "faults", Verdict: Passed}
	var toggles, verified int
	var unseen []string
	for _, i := range order {
		f := byFault[i]
		toggles += f.toggles
		verified += f.verified
		if f.verified == 0 {
			msg := fmt.Sprintf("fault %d (%s %s): none of its %d toggles verified on the wire", i, f.typ, f.link, f.toggles)
			if f.lastErr != "" {
				msg += " (" + f.lastErr + ")"
			}
			unseen = append(unseen, msg)
		}
	}
	c.Detail = fmt.Sprintf("%d of %d toggles of %d faults verified on the wire", verified, toggles, len(order))
	if len(unseen) > 0 {
		c.Verdict = Unknown
		c.Detail = strings.Join(unseen, "; ") + "; " + c.Detail
	}
	return []Check{c}
}

// checkValidity: traffic that starts before the first fault must have
// delivered something before it, or the run cannot be judged. Without
// faults, or without traffic before the first one, there is nothing to
// judge and no check.
func checkValidity(sc *scenario.Scenario, res *Result) []Check {
	first, ok := res.Schedule.First()
	if !ok {
		return nil
	}
	early := false
	for _, t := range sc.Traffic {
		if t.Start < first {
			early = true
		}
	}
	if !early {
		return nil
	}
	c := Check{Name: "validity", Verdict: Passed}
	n := 0
	for _, d := range res.Deliveries {
		if d.T < first.Seconds() {
			n++
		}
	}
	if n == 0 {
		c.Verdict = Unknown
		c.Detail = fmt.Sprintf("nothing delivered before the first fault at %s: the topology never worked", first)
		return []Check{c}
	}
	c.Detail = fmt.Sprintf("%d delivered before the first fault at %s", n, first)
	return []Check{c}
}

// mtaNames returns the MTAs an expectation selects: name, or every MTA for
// "*", narrowed to build when it is set.
func mtaNames(sc *scenario.Scenario, name, build string) []string {
	if name != "*" && build == "" {
		return []string{name}
	}
	var out []string
	for _, m := range sc.MTAs {
		if scenario.Selects(name, build, m) {
			out = append(out, m.Name)
		}
	}
	return out
}

// selector names an expectation's MTA selector in a check's name.
func selector(mta, build string) string {
	if build == "" {
		return mta
	}
	return mta + " (" + build + ")"
}

// maxDetails is how many MTAs a check's detail lists one by one; past it,
// only those out of bounds are listed and the rest counted, so that a
// 200-MTA run's checks stay readable.
const maxDetails = 8

// details collects a check's per-MTA details.
type details struct {
	all, bad []string
}

func (d *details) add(ok bool, s string) {
	d.all = append(d.all, s)
	if !ok {
		d.bad = append(d.bad, s)
	}
}

func (d *details) String() string {
	if len(d.all) <= maxDetails {
		return strings.Join(d.all, "; ")
	}
	within := fmt.Sprintf("%d of %d MTAs within bounds", len(d.all)-len(d.bad), len(d.all))
	if len(d.bad) == 0 {
		return within + " (e.g. " + d.all[0] + ")"
	}
	bad := d.bad
	if len(bad) > maxDetails {
		bad = append(slices.Clip(bad[:maxDetails]), fmt.Sprintf("and %d more", len(d.bad)-maxDetails))
	}
	return within + "; out of bounds: " + strings.Join(bad, "; ")
}

func bounds(min, max *int) string {
	switch {
	case min != nil && max != nil && *min == *max:
		return fmt.Sprintf("exactly %d", *min)
	case min != nil && max != nil:
		return fmt.Sprintf("%d..%d", *min, *max)
	case min != nil:
		return fmt.Sprintf("≥%d", *min)
	case max != nil:
		return fmt.Sprintf("≤%d", *max)
	}
	return "any"
}

func sortedMTAs(s *Summary) []string {
	var out []string
	for n := range s.MTAs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

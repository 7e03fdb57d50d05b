package harness

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/harness/scenario"
)

// Verdicts are three-valued.
const (
	Passed  = "passed"
	Failed  = "failed"
	Unknown = "unknown"
)

// Check is one checker's verdict.
type Check struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail"`
}

// MTASummary is one MTA's totals in summary.json.
type MTASummary struct {
	Mode       string `json:"mode"`
	Submitted  int    `json:"submitted"`
	Delivered  int    `json:"delivered"`
	Duplicates int    `json:"duplicates"`
	// KCBsLeaked is the most KCBs seen leaked at once during the run.
	KCBsLeaked int `json:"kcbs_leaked"`
	// LeakedAtEnd is the number leaked when the run ended.
	LeakedAtEnd int            `json:"kcbs_leaked_at_end"`
	Events      map[string]int `json:"events"`
}

// Summary is summary.json (DESIGN.md section 7).
type Summary struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	// Started is the wall-clock time of the run's offset 0.
	Started   time.Time              `json:"started"`
	Verdict   string                 `json:"verdict"`
	DurationS float64                `json:"duration_s"`
	Checks    []Check                `json:"checks"`
	MTAs      map[string]*MTASummary `json:"mtas"`
	// RecoveryS is from the recovery anchor (last heal or action) to the
	// last delivery; null when not everything was delivered.
	RecoveryS *float64 `json:"recovery_s"`
	// AnchorS is the recovery anchor's offset.
	AnchorS float64 `json:"anchor_s"`
	// LeakedBeforeAnchor is the most KCBs leaked at once, over all MTAs,
	// before the recovery anchor.
	LeakedBeforeAnchor int `json:"leaked_before_anchor"`
}

// totals computes each MTA's line of summary.json from a result's
// submissions, deliveries, events and samples, so that a live run and a
// re-judged bundle agree by construction.
func totals(sc *scenario.Scenario, res *Result) map[string]*MTASummary {
	out := map[string]*MTASummary{}
	for _, m := range sc.MTAs {
		out[m.Name] = &MTASummary{Mode: m.Mode, Events: map[string]int{}}
	}
	for _, sub := range res.submitted {
		if ms := out[sub.from]; ms != nil {
			ms.Submitted++
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

// judge applies the checkers of DESIGN.md section 6 to a run's result.
func judge(sc *scenario.Scenario, res *Result, anchor, elapsed time.Duration) Summary {
	s := res.Summary
	s.AnchorS = anchor.Seconds()
	s.Checks = append(s.Checks, checkDelivery(sc, res, anchor, &s)...)
	s.Checks = append(s.Checks, checkEvents(sc, res)...)
	s.Checks = append(s.Checks, checkLeaks(sc, res)...)
	s.Checks = append(s.Checks, checkValidity(sc, res))
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

// checkDelivery: exactly once (always) and recovery (when expected).
func checkDelivery(sc *scenario.Scenario, res *Result, anchor time.Duration, s *Summary) []Check {
	count := map[string]int{}
	var last float64
	for _, d := range res.Deliveries {
		count[d.ID]++
		if count[d.ID] == 1 {
			last = max(last, d.T)
		}
	}
	dups, missing := 0, 0
	for id := range res.submitted {
		switch n := count[id]; {
		case n == 0:
			missing++
		case n > 1:
			dups += n - 1
			s.MTAs[res.submitted[id].to].Duplicates += n - 1
		}
	}
	total := len(res.submitted)
	once := Check{Name: "exactly-once", Verdict: Passed, Detail: fmt.Sprintf("%d messages, none delivered twice", total)}
	if dups > 0 {
		once.Verdict, once.Detail = Failed, fmt.Sprintf("%d duplicate deliveries to the user", dups)
	}
	out := []Check{once}
	rec := sc.Expect.Recovery
	if rec == nil {
		return out
	}
	want := total
	if !rec.All() {
		want = rec.DeliveredCount
	}
	delivered := total - missing
	deadline := anchor + rec.Within
	c := Check{Name: "recovery", Verdict: Passed}
	var problems []string
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
		for _, name := range sortedMTAs(s) {
			if m := s.MTAs[name]; m.LeakedAtEnd > 0 {
				problems = append(problems, fmt.Sprintf("%s: %d KCBs leaked", name, m.LeakedAtEnd))
			}
		}
		if !endsAtBaseline(res) {
			problems = append(problems, "pools not back to baseline at the end")
		}
	}
	if len(problems) > 0 {
		c.Verdict = Failed
		c.Detail = strings.Join(problems, "; ")
	} else {
		c.Detail = fmt.Sprintf("%d of %d delivered", delivered, total)
		if s.RecoveryS != nil {
			c.Detail += fmt.Sprintf(", %.3fs after the anchor %.3fs (bound %s)", *s.RecoveryS, anchor.Seconds(), rec.Within)
		}
	}
	return append(out, c)
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
		c := Check{Name: fmt.Sprintf("events %s %d", e.MTA, e.ID), Verdict: Passed}
		var details []string
		for _, name := range mtaNames(sc, e.MTA) {
			n := res.Summary.MTAs[name].Events[fmt.Sprint(e.ID)]
			ok := (e.Min == nil || n >= *e.Min) && (e.Max == nil || n <= *e.Max)
			details = append(details, fmt.Sprintf("%s: %d×%d (want %s)", name, n, e.ID, bounds(e.Min, e.Max)))
			if !ok {
				c.Verdict = Failed
			}
		}
		c.Detail = strings.Join(details, "; ")
		out = append(out, c)
	}
	return out
}

func checkLeaks(sc *scenario.Scenario, res *Result) []Check {
	var out []Check
	for _, l := range sc.Expect.Leaked {
		c := Check{Name: "leaked " + l.MTA, Verdict: Passed}
		var details []string
		for _, name := range mtaNames(sc, l.MTA) {
			n := res.Summary.MTAs[name].KCBsLeaked
			if (l.Min != nil && n < *l.Min) || (l.Max != nil && n > *l.Max) {
				c.Verdict = Failed
			}
			details = append(details, fmt.Sprintf("%s: at most %d KCBs leaked at once (want %s)", name, n, bounds(l.Min, l.Max)))
		}
		c.Detail = strings.Join(details, "; ")
		out = append(out, c)
	}
	return out
}

// checkValidity: traffic that starts before the first fault must have
// delivered something before it, or the run cannot be judged.
func checkValidity(sc *scenario.Scenario, res *Result) Check {
	c := Check{Name: "validity", Verdict: Passed, Detail: "no traffic before the first fault"}
	first, ok := res.Schedule.First()
	if !ok {
		c.Detail = "no faults"
		return c
	}
	early := false
	for _, t := range sc.Traffic {
		if t.Start < first {
			early = true
		}
	}
	if !early {
		return c
	}
	n := 0
	for _, d := range res.Deliveries {
		if d.T < first.Seconds() {
			n++
		}
	}
	if n == 0 {
		c.Verdict = Unknown
		c.Detail = fmt.Sprintf("nothing delivered before the first fault at %s: the topology never worked", first)
		return c
	}
	c.Detail = fmt.Sprintf("%d delivered before the first fault at %s", n, first)
	return c
}

func mtaNames(sc *scenario.Scenario, name string) []string {
	if name != "*" {
		return []string{name}
	}
	var out []string
	for _, m := range sc.MTAs {
		out = append(out, m.Name)
	}
	return out
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

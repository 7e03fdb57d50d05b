package suitekit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onsi/gomega/gcustom"
	"github.com/onsi/gomega/types"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// How many matching records a failure message shows.
const shownRecords = 5

// explainTemplate hands the message to a func(actual, failure) in Data, so
// every message is computed from the result it is about.
const explainTemplate = "{{call .Data .Actual .Failure}}"

// resultMatcher builds a gcustom matcher on *harness.Result whose failure
// messages come from explain(res, failure): failure is true for a failed
// To, false for a failed NotTo.
func resultMatcher(match func(*harness.Result) (bool, error), explain func(res *harness.Result, failure bool) string) gcustom.CustomGomegaMatcher {
	return gcustom.MakeMatcher(func(res *harness.Result) (bool, error) {
		if res == nil {
			return false, fmt.Errorf("suitekit: expected a *harness.Result, got nil")
		}
		return match(res)
	}).WithTemplate(explainTemplate, func(actual any, failure bool) string {
		res, _ := actual.(*harness.Result)
		if res == nil {
			return "no result"
		}
		return explain(res, failure)
	})
}

// EmittedMatcher matches a result whose event log holds a number of records
// with one id (from one MTA, with given fields) in a range. Build it with
// HaveEmitted and refine it with From, Times, WithKCB, InState, WithTuple.
type EmittedMatcher struct {
	id       int
	mtas     []string
	min, max int // max < 0: unbounded
	kcb      *int
	state    *int
	tuple    []int
}

// HaveEmitted matches a result in which event id was logged at least once
// (by any MTA unless From names one). A name in From that is not an MTA of
// the run fails it, To and NotTo alike.
//
//	Expect(res).To(HaveEmitted(1277).From("B"))
//	Expect(res).To(HaveEmitted(1004).From("A").WithTuple(2, 20, 1, 8).Times(3, 3))
//	Expect(res).NotTo(HaveEmitted(1198))
func HaveEmitted(id int) EmittedMatcher { return EmittedMatcher{id: id, min: 1, max: -1} }

// From restricts the match to records logged by the named MTAs (any of
// them, when several are named: the MTAs of one build, say).
func (m EmittedMatcher) From(mtas ...string) EmittedMatcher {
	m.mtas = slices.Clone(mtas)
	return m
}

// Times requires between min and max matching records (max < 0: no upper
// bound). The default is at least one.
func (m EmittedMatcher) Times(min, max int) EmittedMatcher { m.min, m.max = min, max; return m }

// WithKCB restricts the match to records about control block n.
func (m EmittedMatcher) WithKCB(n int) EmittedMatcher { m.kcb = &n; return m }

// InState restricts the match to records logged in KCB state s.
func (m EmittedMatcher) InState(s int) EmittedMatcher { m.state = &s; return m }

// WithTuple restricts the match to records whose leading fields of
// [state svc flavor reason] are the given ones, as the event text prints
// them: four for 1004 ([2 20 1 8]), two for 1008 ([2 26]), three for
// 1198 (state 0, service type 20, service flavor 2).
func (m EmittedMatcher) WithTuple(tuple ...int) EmittedMatcher {
	m.tuple = slices.Clone(tuple)
	return m
}

func (m EmittedMatcher) accepts(r eventlog.Record) bool {
	if r.ID != m.id || len(m.mtas) > 0 && !slices.Contains(m.mtas, r.MTA) {
		return false
	}
	if m.kcb != nil && r.KCB != *m.kcb || m.state != nil && r.State != *m.state {
		return false
	}
	fields := []int{r.State, r.Svc, r.Flavor, r.Reason}
	for i, v := range m.tuple {
		if i >= len(fields) || fields[i] != v {
			return false
		}
	}
	return true
}

func (m EmittedMatcher) matching(res *harness.Result) []eventlog.Record {
	var out []eventlog.Record
	for _, r := range res.Events {
		if m.accepts(r) {
			out = append(out, r)
		}
	}
	return out
}

func (m EmittedMatcher) inRange(n int) bool { return n >= m.min && (m.max < 0 || n <= m.max) }

// String describes what the matcher looks for, e.g. "1004 from A with
// [2 20 1 8]".
func (m EmittedMatcher) String() string {
	s := fmt.Sprint(m.id)
	if len(m.mtas) > 0 {
		s += " from " + strings.Join(m.mtas, " or ")
	} else {
		s += " from any MTA"
	}
	if m.kcb != nil {
		s += fmt.Sprintf(" naming control block %d", *m.kcb)
	}
	if m.state != nil {
		s += fmt.Sprintf(" in state %d", *m.state)
	}
	if len(m.tuple) > 0 {
		s += fmt.Sprintf(" with %v", m.tuple)
	}
	return s
}

func (m EmittedMatcher) times() string {
	switch {
	case m.max < 0:
		return fmt.Sprintf("at least %d time(s)", m.min)
	case m.min == m.max:
		return fmt.Sprintf("exactly %d time(s)", m.min)
	}
	return fmt.Sprintf("%d to %d times", m.min, m.max)
}

func (m EmittedMatcher) gomega() gcustom.CustomGomegaMatcher {
	return resultMatcher(func(res *harness.Result) (bool, error) {
		// A name the run does not have would make NotTo pass on nothing.
		for _, name := range m.mtas {
			if _, ok := res.Summary.MTAs[name]; !ok {
				return false, fmt.Errorf("suitekit: event %s: no MTA %q in %s (MTAs: %v)", m, name, header(res), mtaNames(res))
			}
		}
		return m.inRange(len(m.matching(res))), nil
	}, m.explain)
}

func (m EmittedMatcher) explain(res *harness.Result, failure bool) string {
	got := m.matching(res)
	var b strings.Builder
	if failure {
		fmt.Fprintf(&b, "expected event %s %s; saw %d\n", m, m.times(), len(got))
	} else if m.min == 1 && m.max < 0 {
		fmt.Fprintf(&b, "expected no event %s; saw %d\n", m, len(got))
	} else {
		fmt.Fprintf(&b, "expected event %s NOT %s; saw %d\n", m, m.times(), len(got))
	}
	fmt.Fprintf(&b, "  in %s\n", header(res))
	fmt.Fprintf(&b, "  events per MTA and id: %s\n", Counts(res))
	show := func(title string, recs []eventlog.Record) {
		if len(recs) == 0 {
			return
		}
		fmt.Fprintf(&b, "  %s (first %d of %d):\n", title, min(shownRecords, len(recs)), len(recs))
		for _, r := range recs[:min(shownRecords, len(recs))] {
			fmt.Fprintf(&b, "    %s\n", describe(res, r))
		}
	}
	show("matching records", got)
	if len(got) == 0 || m.kcb != nil || m.state != nil || len(m.tuple) > 0 {
		// What the same id looked like, when the fields ruled records out.
		var same []eventlog.Record
		for _, r := range res.Events {
			if r.ID == m.id && !m.accepts(r) {
				same = append(same, r)
			}
		}
		show(fmt.Sprintf("other %d records", m.id), same)
	}
	fmt.Fprintf(&b, "  %s", where(res))
	return b.String()
}

// Match implements types.GomegaMatcher.
func (m EmittedMatcher) Match(actual any) (bool, error) { return m.gomega().Match(actual) }

// FailureMessage implements types.GomegaMatcher.
func (m EmittedMatcher) FailureMessage(actual any) string { return m.gomega().FailureMessage(actual) }

// NegatedFailureMessage implements types.GomegaMatcher.
func (m EmittedMatcher) NegatedFailureMessage(actual any) string {
	return m.gomega().NegatedFailureMessage(actual)
}

var _ types.GomegaMatcher = EmittedMatcher{}

// HaveDeliveredExactlyOnce matches a result in which every submitted
// message was delivered to its recipient's user exactly once: none lost,
// none delivered twice.
func HaveDeliveredExactlyOnce() types.GomegaMatcher {
	type tally struct{ submitted, delivered, dups int }
	count := func(res *harness.Result) (tally, map[string]tally) {
		var all tally
		per := map[string]tally{}
		for name, m := range res.Summary.MTAs {
			all.submitted += m.Submitted
			t := per[name]
			t.submitted += m.Submitted
			per[name] = t
		}
		seen := map[string]bool{}
		for _, d := range res.Deliveries {
			t := per[d.To]
			if seen[d.ID] {
				t.dups++
				all.dups++
			} else {
				seen[d.ID] = true
				t.delivered++
				all.delivered++
			}
			per[d.To] = t
		}
		return all, per
	}
	return resultMatcher(func(res *harness.Result) (bool, error) {
		all, _ := count(res)
		return all.dups == 0 && all.delivered == all.submitted && all.submitted > 0, nil
	}, func(res *harness.Result, failure bool) string {
		all, per := count(res)
		var b strings.Builder
		if failure {
			fmt.Fprintf(&b, "expected every submitted message delivered exactly once; saw %d submitted, %d delivered, %d missing, %d duplicate deliveries\n",
				all.submitted, all.delivered, all.submitted-all.delivered, all.dups)
		} else {
			fmt.Fprintf(&b, "expected some message lost or duplicated; saw all %d delivered exactly once\n", all.submitted)
		}
		fmt.Fprintf(&b, "  in %s\n", header(res))
		for _, name := range mtaNames(res) {
			t := per[name]
			fmt.Fprintf(&b, "  %s: submitted %d, received %d (duplicates %d)\n", name, t.submitted, t.delivered, t.dups)
		}
		for _, c := range res.Summary.Checks {
			if c.Name == "delivery" || c.Name == "recovery" {
				fmt.Fprintf(&b, "  check %s %s: %s\n", c.Name, c.Verdict, c.Detail)
			}
		}
		fmt.Fprintf(&b, "  %s", where(res))
		return b.String()
	})
}

// LeakMatcher matches a result in which no KCB leaked. Build it with
// HaveNoLeakedKCBs; At restricts it to one MTA, AtEnd to the final pools.
type LeakMatcher struct {
	mta   string
	atEnd bool
}

// HaveNoLeakedKCBs matches a result in which no sample of any MTA's pool
// ever showed a leaked KCB (a non-Idle KCB with no live socket). A judged
// MTA without a single pool sample fails it, To and NotTo alike: no
// evidence either way.
func HaveNoLeakedKCBs() LeakMatcher { return LeakMatcher{} }

// At restricts the match to the named MTA.
func (m LeakMatcher) At(mta string) LeakMatcher { m.mta = mta; return m }

// AtEnd only looks at the pools when the run ended (after an MTA restart
// or a heal), not at the whole run.
func (m LeakMatcher) AtEnd() LeakMatcher { m.atEnd = true; return m }

func (m LeakMatcher) leaked(res *harness.Result) map[string]int {
	out := map[string]int{}
	for name, s := range res.Summary.MTAs {
		if m.mta != "" && name != m.mta {
			continue
		}
		if m.atEnd {
			out[name] = s.LeakedAtEnd
		} else {
			out[name] = s.KCBsLeaked
		}
	}
	return out
}

func (m LeakMatcher) gomega() gcustom.CustomGomegaMatcher {
	return resultMatcher(func(res *harness.Result) (bool, error) {
		if _, ok := res.Summary.MTAs[m.mta]; m.mta != "" && !ok {
			return false, fmt.Errorf("suitekit: no MTA %q in %s", m.mta, header(res))
		}
		leaked := m.leaked(res)
		if len(leaked) == 0 {
			return false, fmt.Errorf("suitekit: no MTA in %s: no pool to judge a leak on", header(res))
		}
		// The leak counts come from the pool samples: an MTA never sampled
		// shows 0 leaked without evidence.
		for name := range leaked {
			if len(SamplesOf(res, name)) == 0 {
				return false, fmt.Errorf("suitekit: no pool sample of %s in %s: nothing to judge a leak on", name, header(res))
			}
		}
		for _, n := range leaked {
			if n > 0 {
				return false, nil
			}
		}
		return true, nil
	}, m.explain)
}

func (m LeakMatcher) explain(res *harness.Result, failure bool) string {
	var b strings.Builder
	who, when := "any MTA", "at any moment of the run"
	if m.mta != "" {
		who = m.mta
	}
	if m.atEnd {
		when = "when the run ended"
	}
	if failure {
		fmt.Fprintf(&b, "expected no leaked KCB at %s %s; saw:\n", who, when)
	} else {
		fmt.Fprintf(&b, "expected leaked KCBs at %s %s; saw none:\n", who, when)
	}
	leaked := m.leaked(res)
	for _, name := range mtaNames(res) {
		if _, ok := leaked[name]; !ok {
			continue
		}
		s := res.Summary.MTAs[name]
		fmt.Fprintf(&b, "  %s(%s): most leaked at once %d, leaked at end %d", name, s.Mode, s.KCBsLeaked, s.LeakedAtEnd)
		for _, smp := range SamplesOf(res, name) {
			if smp.Leaked > 0 {
				fmt.Fprintf(&b, "; first leak sampled at %.3fs, KCB states %v", smp.T, smp.States)
				break
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "  in %s\n", header(res))
	fmt.Fprintf(&b, "  events per MTA and id: %s\n", Counts(res))
	fmt.Fprintf(&b, "  %s", where(res))
	return b.String()
}

// Match implements types.GomegaMatcher.
func (m LeakMatcher) Match(actual any) (bool, error) { return m.gomega().Match(actual) }

// FailureMessage implements types.GomegaMatcher.
func (m LeakMatcher) FailureMessage(actual any) string { return m.gomega().FailureMessage(actual) }

// NegatedFailureMessage implements types.GomegaMatcher.
func (m LeakMatcher) NegatedFailureMessage(actual any) string {
	return m.gomega().NegatedFailureMessage(actual)
}

var _ types.GomegaMatcher = LeakMatcher{}

// HaveRecoveredWithin matches a result in which every submitted message was
// delivered and the last delivery came no later than d after the recovery
// anchor (the last fault healed or the last action). It reads the run's
// RecoveryS, so it needs a scenario with an `expect: recovery` block.
func HaveRecoveredWithin(d time.Duration) types.GomegaMatcher {
	return resultMatcher(func(res *harness.Result) (bool, error) {
		r := res.Summary.RecoveryS
		return r != nil && *r <= d.Seconds(), nil
	}, func(res *harness.Result, failure bool) string {
		var b strings.Builder
		seen := "not every message was delivered"
		if r := res.Summary.RecoveryS; r != nil {
			seen = fmt.Sprintf("last delivery %.3fs after the anchor", *r)
		}
		if failure {
			fmt.Fprintf(&b, "expected recovery within %s of the anchor %.3fs (last heal or action); saw: %s\n", d, res.Summary.AnchorS, seen)
		} else {
			fmt.Fprintf(&b, "expected no recovery within %s of the anchor %.3fs; saw: %s\n", d, res.Summary.AnchorS, seen)
		}
		fmt.Fprintf(&b, "  in %s\n", header(res))
		for _, name := range mtaNames(res) {
			s := res.Summary.MTAs[name]
			fmt.Fprintf(&b, "  %s(%s): submitted %d, received %d, leaked at end %d\n", name, s.Mode, s.Submitted, s.Delivered, s.LeakedAtEnd)
		}
		if n := len(res.Deliveries); n > 0 {
			fmt.Fprintf(&b, "  deliveries from %.3fs to %.3fs\n", res.Deliveries[0].T, res.Deliveries[n-1].T)
		}
		for _, c := range res.Summary.Checks {
			if c.Name == "recovery" {
				fmt.Fprintf(&b, "  check %s %s: %s\n", c.Name, c.Verdict, c.Detail)
			}
		}
		fmt.Fprintf(&b, "  events per MTA and id: %s\n", Counts(res))
		fmt.Fprintf(&b, "  %s", where(res))
		return b.String()
	})
}

// HaveVerdict matches a result whose overall verdict (passed, failed or
// unknown) is v: the scenario's own expectations as the harness judged them.
func HaveVerdict(v string) types.GomegaMatcher {
	return resultMatcher(func(res *harness.Result) (bool, error) {
		return res.Summary.Verdict == v, nil
	}, func(res *harness.Result, failure bool) string {
		var b strings.Builder
		not := ""
		if !failure {
			not = "not "
		}
		fmt.Fprintf(&b, "expected the harness verdict %s%s; saw %s\n", not, v, res.Summary.Verdict)
		fmt.Fprintf(&b, "  in %s\n", header(res))
		for _, c := range res.Summary.Checks {
			mark := " "
			if c.Verdict != harness.Passed {
				mark = "✗"
			}
			fmt.Fprintf(&b, "  %s check %-16s %-7s %s\n", mark, c.Name, c.Verdict, c.Detail)
		}
		fmt.Fprintf(&b, "  events per MTA and id: %s\n", Counts(res))
		fmt.Fprintf(&b, "  %s", where(res))
		return b.String()
	})
}

// HavePoolsAtBaseline matches a result whose last sample of every running
// MTA shows its pool at baseline: every KCB but the listener Idle, none
// busy, none leaked.
func HavePoolsAtBaseline() types.GomegaMatcher {
	last := func(res *harness.Result) map[string]harness.Sample {
		out := map[string]harness.Sample{}
		for _, s := range res.Samples {
			out[s.MTA] = s
		}
		return out
	}
	return resultMatcher(func(res *harness.Result) (bool, error) {
		ls := last(res)
		if len(ls) == 0 {
			return false, fmt.Errorf("suitekit: no pool samples in %s", header(res))
		}
		for _, s := range ls {
			if s.Running && (s.Busy > 0 || s.Leaked > 0) {
				return false, nil
			}
		}
		return true, nil
	}, func(res *harness.Result, failure bool) string {
		var b strings.Builder
		if failure {
			b.WriteString("expected every pool back to baseline (all KCBs but the listener Idle) when the run ended; saw:\n")
		} else {
			b.WriteString("expected some pool away from baseline when the run ended; saw:\n")
		}
		ls := last(res)
		for _, name := range mtaNames(res) {
			s := ls[name]
			fmt.Fprintf(&b, "  %s at %.3fs: running %t, idle %d, busy %d, leaked %d, queued %d, KCB states %v\n",
				name, s.T, s.Running, s.Idle, s.Busy, s.Leaked, s.Queued, s.States)
		}
		fmt.Fprintf(&b, "  in %s\n", header(res))
		fmt.Fprintf(&b, "  %s", where(res))
		return b.String()
	})
}

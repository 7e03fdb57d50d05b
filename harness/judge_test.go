package harness

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// judgeScenario builds a two-MTA scenario (A->B) with the given traffic
// start, fault lines and expect block.
func judgeScenario(t *testing.T, start, faultsYAML, expect string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`version: 1
name: judge
seed: 1
mtas:
  - name: A
  - name: B
links:
  - {from: A, to: B}
traffic:
  - {from: A, to: B, messages: 3, size: 1KiB, rate: 10/s, start: %s}
%s
expect:
%s
duration: 10s
`, start, faultsYAML, expect)
	sc, err := scenario.LoadBytes("judge.yaml", []byte(src))
	if err != nil {
		t.Fatalf("scenario: %v\n%s", err, src)
	}
	return sc
}

const recoveryAll = "  recovery: {within: 3s, delivered: all, kcbs: baseline}"

// fakeResult is a run's result: messages m0..m(n-1) submitted by A to B.
func fakeResult(n int) *Result {
	res := &Result{
		Summary: Summary{Scenario: "judge", Seed: 1, MTAs: map[string]*MTASummary{
			"A": {Mode: "sp2", Events: map[string]int{}},
			"B": {Mode: "sp2", Events: map[string]int{}},
		}},
		Schedule:  &faults.Schedule{Scenario: "judge", Seed: 1},
		submitted: map[string]submission{},
	}
	for i := range n {
		res.submitted[fmt.Sprintf("m%d", i)] = submission{from: "A", to: "B", at: time.Duration(i) * 100 * time.Millisecond}
	}
	res.Summary.MTAs["A"].Submitted = n
	res.Samples = []Sample{
		{T: 0.5, MTA: "A", Idle: 3, Running: true, States: []int{0, 0, 0, 0}},
		{T: 0.5, MTA: "B", Idle: 3, Running: true, States: []int{0, 0, 0, 0}},
	}
	return res
}

func (res *Result) deliver(id string, t float64) {
	res.Deliveries = append(res.Deliveries, DeliveryRecord{Delivery: kernel.Delivery{ID: id, From: "A", To: "B", Size: 1024}, T: t})
	res.Summary.MTAs["B"].Delivered++
}

func deliverAll(res *Result, n int, t float64) {
	for i := range n {
		res.deliver(fmt.Sprintf("m%d", i), t+float64(i)*0.01)
	}
}

func check(t *testing.T, s Summary, name string) Check {
	t.Helper()
	for _, c := range s.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, s.Checks)
	return Check{}
}

func TestJudgeAllGood(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(3)
	deliverAll(res, 3, 0.2)
	s := judge(sc, res, 0, time.Second)
	if s.Verdict != Passed {
		t.Fatalf("verdict %s: %+v", s.Verdict, s.Checks)
	}
	if c := check(t, s, "recovery"); c.Verdict != Passed || !strings.Contains(c.Detail, "3 of 3 delivered") {
		t.Errorf("recovery = %+v", c)
	}
	if c := check(t, s, "delivery"); c.Verdict != Passed || !strings.Contains(c.Detail, "3 of 3 delivered exactly once") {
		t.Errorf("delivery = %+v", c)
	}
	for _, c := range s.Checks {
		if c.Name == "validity" || c.Name == "faults" {
			t.Errorf("%s judged without faults: %+v", c.Name, c)
		}
	}
	want := []PairSummary{{From: "A", To: "B", Declared: 3, Submitted: 3, Delivered: 3}}
	if fmt.Sprint(s.Pairs) != fmt.Sprint(want) {
		t.Errorf("pairs = %+v, want %+v", s.Pairs, want)
	}
	if s.RecoveryS == nil || *s.RecoveryS < 0.21 || *s.RecoveryS > 0.23 {
		t.Errorf("recovery_s = %v, want the last delivery 0.22", s.RecoveryS)
	}
	if s.Scenario != "judge" || s.Seed != 1 {
		t.Errorf("summary header %q/%d", s.Scenario, s.Seed)
	}
}

func TestJudgeDuplicate(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.deliver("m1", 0.9)
	s := judge(sc, res, 0, time.Second)
	c := check(t, s, "delivery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "1 duplicate") {
		t.Errorf("delivery = %+v", c)
	}
	if s.MTAs["B"].Duplicates != 1 {
		t.Errorf("B duplicates = %d", s.MTAs["B"].Duplicates)
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %s", s.Verdict)
	}
	// A duplicate does not move the recovery time: the first delivery counts.
	if s.RecoveryS == nil || *s.RecoveryS > 0.5 {
		t.Errorf("recovery_s = %v", s.RecoveryS)
	}
	// Without a recovery expectation duplicates are still judged.
	sc = judgeScenario(t, "0s", "", "  events: [{mta: A, id: 1004, max: 0}]")
	res = fakeResult(2)
	deliverAll(res, 2, 0.1)
	res.deliver("m0", 0.3)
	res.deliver("m0", 0.4)
	s = judge(sc, res, 0, time.Second)
	if c := check(t, s, "delivery"); c.Verdict != Failed || !strings.Contains(c.Detail, "2 duplicate") {
		t.Errorf("delivery without recovery = %+v", c)
	}
	for _, c := range s.Checks {
		if c.Name == "recovery" {
			t.Errorf("recovery judged without an expectation: %+v", c)
		}
	}
}

func TestJudgeMissing(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(3)
	res.deliver("m0", 0.2)
	s := judge(sc, res, 0, time.Second)
	c := check(t, s, "recovery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "1 of 3 delivered") {
		t.Errorf("recovery = %+v", c)
	}
	if s.RecoveryS != nil {
		t.Errorf("recovery_s = %v, want null when messages are missing", *s.RecoveryS)
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %s", s.Verdict)
	}
}

func TestJudgeDeliveredCount(t *testing.T) {
	sc := judgeScenario(t, "0s", "", "  recovery: {within: 3s, delivered: 2}")
	res := fakeResult(3)
	res.deliver("m0", 0.2)
	res.deliver("m2", 0.3)
	s := judge(sc, res, 0, time.Second)
	if c := check(t, s, "recovery"); c.Verdict != Passed {
		t.Errorf("2 of 3 with delivered: 2 = %+v", c)
	}
	res = fakeResult(3)
	res.deliver("m0", 0.2)
	s = judge(sc, res, 0, time.Second)
	if c := check(t, s, "recovery"); c.Verdict != Failed || !strings.Contains(c.Detail, "1 of 3 delivered") {
		t.Errorf("1 of 3 with delivered: 2 = %+v", c)
	}
}

func TestJudgeLateDelivery(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(3)
	deliverAll(res, 2, 0.2)
	res.deliver("m2", 4.5)
	s := judge(sc, res, time.Second, 5*time.Second)
	c := check(t, s, "recovery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "bound 3s") || !strings.Contains(c.Detail, "4.500s") {
		t.Errorf("recovery = %+v", c)
	}
	if s.RecoveryS == nil || *s.RecoveryS != 3.5 {
		t.Errorf("recovery_s = %v, want 3.5", s.RecoveryS)
	}
	if s.AnchorS != 1 {
		t.Errorf("anchor_s = %v", s.AnchorS)
	}
	// Exactly at the bound passes.
	res = fakeResult(3)
	deliverAll(res, 2, 0.2)
	res.deliver("m2", 4)
	if c := check(t, judge(sc, res, time.Second, 5*time.Second), "recovery"); c.Verdict != Passed {
		t.Errorf("delivery on the bound = %+v", c)
	}
}

func TestJudgeLeakedAtEnd(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.Summary.MTAs["B"].LeakedAtEnd = 2
	res.Samples = append(res.Samples, Sample{T: 1, MTA: "B", Idle: 1, Leaked: 2, Running: true})
	s := judge(sc, res, 0, time.Second)
	c := check(t, s, "recovery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "B: 2 KCBs leaked") {
		t.Errorf("recovery = %+v", c)
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %s", s.Verdict)
	}

	// A busy KCB in the last sample is not baseline either.
	res = fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.Samples = append(res.Samples, Sample{T: 1, MTA: "A", Idle: 2, Busy: 1, Running: true})
	if c := check(t, judge(sc, res, 0, time.Second), "recovery"); c.Verdict != Failed || !strings.Contains(c.Detail, "baseline") {
		t.Errorf("busy at end = %+v", c)
	}

	// Without kcbs: baseline a leak at the end does not fail recovery.
	sc = judgeScenario(t, "0s", "", "  recovery: {within: 3s, delivered: all}")
	res = fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.Summary.MTAs["B"].LeakedAtEnd = 2
	if c := check(t, judge(sc, res, 0, time.Second), "recovery"); c.Verdict != Passed {
		t.Errorf("leak without kcbs: baseline = %+v", c)
	}
}

func TestJudgeEvents(t *testing.T) {
	sc := judgeScenario(t, "0s", "", `  events:
    - {mta: A, id: 1004, min: 1}
    - {mta: B, id: 1008, max: 2}
    - {mta: B, id: 1277, count: 3}
    - {mta: "*", id: 1198, max: 0}
    - {mta: "*", id: 1004, min: 1}`)
	res := fakeResult(0)
	res.Summary.MTAs["A"].Events["1004"] = 2
	res.Summary.MTAs["B"].Events["1008"] = 2
	res.Summary.MTAs["B"].Events["1277"] = 3
	s := judge(sc, res, 0, time.Second)
	want := map[string]string{
		"events A 1004": Passed,
		"events B 1008": Passed,
		"events B 1277": Passed,
		"events * 1198": Passed,
		"events * 1004": Failed, // B has none
	}
	for name, v := range want {
		if c := check(t, s, name); c.Verdict != v {
			t.Errorf("%s = %+v, want %s", name, c, v)
		}
	}
	star := check(t, s, "events * 1004")
	if !strings.Contains(star.Detail, "A: 2×1004") || !strings.Contains(star.Detail, "B: 0×1004") {
		t.Errorf("\"*\" did not expand over every MTA: %q", star.Detail)
	}
	if c := check(t, s, "events B 1277"); !strings.Contains(c.Detail, "exactly 3") {
		t.Errorf("count detail = %q", c.Detail)
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %s", s.Verdict)
	}

	// Bounds broken on each side.
	res.Summary.MTAs["A"].Events["1004"] = 0
	res.Summary.MTAs["B"].Events["1004"] = 1
	res.Summary.MTAs["B"].Events["1008"] = 3
	res.Summary.MTAs["B"].Events["1277"] = 4
	res.Summary.MTAs["A"].Events["1198"] = 1
	s = judge(sc, res, 0, time.Second)
	for _, name := range []string{"events A 1004", "events B 1008", "events B 1277", "events * 1198", "events * 1004"} {
		if c := check(t, s, name); c.Verdict != Failed {
			t.Errorf("%s = %+v, want failed", name, c)
		}
	}
}

func TestJudgeLeaked(t *testing.T) {
	sc := judgeScenario(t, "0s", "", `  leaked:
    - {mta: B, min: 1}
    - {mta: "*", max: 1}`)
	res := fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.Summary.MTAs["B"].KCBsLeaked = 1
	s := judge(sc, res, 0, time.Second)
	if c := check(t, s, "leaked B"); c.Verdict != Passed {
		t.Errorf("leaked B = %+v", c)
	}
	c := check(t, s, "leaked *")
	if c.Verdict != Passed || !strings.Contains(c.Detail, "A: at most 0") || !strings.Contains(c.Detail, "B: at most 1") {
		t.Errorf("leaked * = %+v", c)
	}
	if s.Verdict != Passed {
		t.Errorf("verdict %s: %+v", s.Verdict, s.Checks)
	}

	res.Summary.MTAs["B"].KCBsLeaked = 0
	if c := check(t, judge(sc, res, 0, time.Second), "leaked B"); c.Verdict != Failed {
		t.Errorf("min broken: %+v", c)
	}
	res.Summary.MTAs["A"].KCBsLeaked = 3
	if c := check(t, judge(sc, res, 0, time.Second), "leaked *"); c.Verdict != Failed {
		t.Errorf("max broken: %+v", c)
	}
}

func refuseAt(at time.Duration) *faults.Schedule {
	return &faults.Schedule{Scenario: "judge", Seed: 1, Toggles: []faults.Toggle{
		{Offset: at, At: at.String(), Link: "A->B", Type: "refuse", Action: faults.ActDisable},
		{Offset: at + time.Second, At: (at + time.Second).String(), Link: "A->B", Type: "refuse", Action: faults.ActEnable, Heal: true},
	}}
}

const refuseYAML = "faults:\n  - {at: 500ms, until: 1500ms, link: A->B, type: refuse}"

func TestJudgeValidity(t *testing.T) {
	sc := judgeScenario(t, "0s", refuseYAML, "  events: [{mta: '*', id: 1198, max: 0}]")

	// Traffic before the fault, nothing delivered before it: unknown.
	res := fakeResult(3)
	res.Schedule = refuseAt(500 * time.Millisecond)
	deliverAll(res, 3, 1.6)
	s := judge(sc, res, 1500*time.Millisecond, 2*time.Second)
	c := check(t, s, "validity")
	if c.Verdict != Unknown || !strings.Contains(c.Detail, "never worked") {
		t.Errorf("validity = %+v", c)
	}
	if s.Verdict != Unknown {
		t.Errorf("verdict %s, want unknown", s.Verdict)
	}

	// One delivery before the fault: passed.
	res = fakeResult(3)
	res.Schedule = refuseAt(500 * time.Millisecond)
	res.deliver("m0", 0.1)
	res.deliver("m1", 1.6)
	res.deliver("m2", 1.7)
	s = judge(sc, res, 1500*time.Millisecond, 2*time.Second)
	if c := check(t, s, "validity"); c.Verdict != Passed || !strings.Contains(c.Detail, "1 delivered before") {
		t.Errorf("validity = %+v", c)
	}

	// Traffic only after the first fault: nothing to judge, no check.
	sc = judgeScenario(t, "2s", refuseYAML, "  events: [{mta: '*', id: 1198, max: 0}]")
	res = fakeResult(3)
	res.Schedule = refuseAt(500 * time.Millisecond)
	s = judge(sc, res, 1500*time.Millisecond, 3*time.Second)
	for _, c := range s.Checks {
		if c.Name == "validity" {
			t.Errorf("late traffic judged for validity: %+v", c)
		}
	}
}

func TestJudgeVerdictPrecedence(t *testing.T) {
	sc := judgeScenario(t, "0s", refuseYAML, "  events: [{mta: B, id: 1008, max: 0}]")
	// unknown (validity) + failed (events) → failed
	res := fakeResult(3)
	res.Schedule = refuseAt(500 * time.Millisecond)
	deliverAll(res, 3, 1.6)
	res.Summary.MTAs["B"].Events["1008"] = 1
	s := judge(sc, res, 1500*time.Millisecond, 2*time.Second)
	if check(t, s, "validity").Verdict != Unknown || check(t, s, "events B 1008").Verdict != Failed {
		t.Fatalf("setup: %+v", s.Checks)
	}
	if s.Verdict != Failed {
		t.Errorf("failed + unknown = %s, want failed", s.Verdict)
	}
	// The order of checks does not matter: a failed check before an unknown.
	if got := verdictOf([]Check{{Verdict: Failed}, {Verdict: Unknown}, {Verdict: Passed}}); got != Failed {
		t.Errorf("failed, unknown, passed = %s", got)
	}
	if got := verdictOf([]Check{{Verdict: Unknown}, {Verdict: Failed}}); got != Failed {
		t.Errorf("unknown, failed = %s", got)
	}
	if got := verdictOf([]Check{{Verdict: Passed}, {Verdict: Unknown}, {Verdict: Passed}}); got != Unknown {
		t.Errorf("passed, unknown = %s", got)
	}
}

// verdictOf runs judge on an empty scenario whose result already carries
// checks: judge appends only passing checks, so the verdict is the one the
// precedence rule gives for checks, in their order.
func verdictOf(checks []Check) string {
	s := Summary{Checks: checks}
	s.Verdict = Passed
	res := &Result{Summary: s, Schedule: &faults.Schedule{}, submitted: map[string]submission{}}
	sc := &scenario.Scenario{}
	out := judge(sc, res, 0, 0)
	return out.Verdict
}

func TestJudgeLeakedBeforeAnchor(t *testing.T) {
	sc := judgeScenario(t, "0s", "", "  events: [{mta: '*', id: 1198, max: 0}]")
	res := fakeResult(0)
	res.Samples = []Sample{
		{T: 0.5, MTA: "B", Leaked: 2, Running: true},
		{T: 1.0, MTA: "A", Leaked: 1, Running: true},
		{T: 2.5, MTA: "B", Leaked: 3, Running: true},
	}
	s := judge(sc, res, 2*time.Second, 3*time.Second)
	if s.LeakedBeforeAnchor != 2 {
		t.Errorf("leaked_before_anchor = %d, want 2", s.LeakedBeforeAnchor)
	}
}

// The runs that issue 11 found passing without evidence, rebuilt from
// their counts: each must fail or be unknown, with the counts in the detail.

func TestJudgeLossWithoutRecoveryExpectation(t *testing.T) {
	// A link refused for the whole run: 20 submitted, 0 delivered, no
	// expect.recovery.
	sc := judgeScenario(t, "0s", "", "  events: [{mta: A, id: 1004, min: 1}]")
	res := fakeResult(20)
	res.Summary.MTAs["A"].Events["1004"] = 5
	s := judge(sc, res, 0, time.Second)
	c := check(t, s, "delivery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "20 of 20 messages undelivered") || !strings.Contains(c.Detail, "A->B: 0 of 20 delivered") {
		t.Errorf("delivery = %+v", c)
	}
	if s.Verdict != Failed {
		t.Errorf("verdict %s, want failed", s.Verdict)
	}

	// cut_at under sp0 without a restart: 30 submitted, 10 delivered.
	res = fakeResult(30)
	deliverAll(res, 10, 0.1)
	s = judge(sc, res, 0, time.Second)
	c = check(t, s, "delivery")
	if c.Verdict != Failed || !strings.Contains(c.Detail, "20 of 30 messages undelivered") || !strings.Contains(c.Detail, "10 delivered") {
		t.Errorf("delivery = %+v", c)
	}
	want := PairSummary{From: "A", To: "B", Declared: 3, Submitted: 30, Delivered: 10, Undelivered: 20}
	if len(s.Pairs) != 1 || s.Pairs[0] != want {
		t.Errorf("pairs = %+v, want %+v", s.Pairs, want)
	}
}

func TestJudgeDeclaredStall(t *testing.T) {
	res := func() *Result {
		r := fakeResult(3)
		deliverAll(r, 1, 0.1)
		return r
	}
	for _, tc := range []struct {
		expect  string
		verdict string
	}{
		{"  delivered: {max: 2}", Passed},
		{"  delivered: {min: 1, max: 1}", Passed},
		{"  delivered: {count: 1}", Passed},
		{"  delivered: {min: 2}", Failed},
		{"  delivered: {max: 0}", Failed},
	} {
		sc := judgeScenario(t, "0s", "", tc.expect)
		c := check(t, judge(sc, res(), 0, time.Second), "delivery")
		if c.Verdict != tc.verdict || !strings.Contains(c.Detail, "1 delivered (want") || !strings.Contains(c.Detail, "2 undelivered") {
			t.Errorf("%s: delivery = %+v, want %s", tc.expect, c, tc.verdict)
		}
	}
	// A declared stall does not excuse a duplicate.
	sc := judgeScenario(t, "0s", "", "  delivered: {max: 2}")
	r := res()
	r.deliver("m0", 0.5)
	if c := check(t, judge(sc, r, 0, time.Second), "delivery"); c.Verdict != Failed || !strings.Contains(c.Detail, "1 duplicate") {
		t.Errorf("stall with a duplicate = %+v", c)
	}
}

func TestJudgeNothingSubmitted(t *testing.T) {
	// An MTA stopped at 0s with 20 messages declared: every one refused,
	// nothing submitted.
	sc := judgeScenario(t, "0s", "", recoveryAll)
	res := fakeResult(0)
	res.refused = map[string]submission{}
	for i := range 20 {
		res.refused[fmt.Sprintf("m%d", i)] = submission{from: "A", to: "B"}
	}
	s := judge(sc, res, 0, time.Second)
	d := check(t, s, "delivery")
	if d.Verdict != Unknown || !strings.Contains(d.Detail, "none was submitted") || !strings.Contains(d.Detail, "20 refused") {
		t.Errorf("delivery = %+v", d)
	}
	if c := check(t, s, "recovery"); c.Verdict != Unknown || !strings.Contains(c.Detail, "nothing was submitted") {
		t.Errorf("recovery = %+v", c)
	}
	if s.Verdict != Unknown {
		t.Errorf("verdict %s, want unknown", s.Verdict)
	}
	if len(s.Pairs) != 1 || s.Pairs[0].Refused != 20 || s.Pairs[0].Submitted != 0 {
		t.Errorf("pairs = %+v", s.Pairs)
	}
}

func TestJudgeNoPoolSamples(t *testing.T) {
	sc := judgeScenario(t, "0s", "", recoveryAll+"\n  leaked: [{mta: B, max: 0}, {mta: '*', max: 0}]")
	res := fakeResult(3)
	deliverAll(res, 3, 0.2)
	res.Samples = res.Samples[:1] // only A was ever sampled
	s := judge(sc, res, 0, time.Second)
	if c := check(t, s, "leaked B"); c.Verdict != Unknown || !strings.Contains(c.Detail, "B: no pool samples") {
		t.Errorf("leaked B = %+v", c)
	}
	if c := check(t, s, "leaked *"); c.Verdict != Unknown || !strings.Contains(c.Detail, "A: at most 0 KCBs leaked at once over 1 samples") {
		t.Errorf("leaked * = %+v", c)
	}
	if c := check(t, s, "recovery"); c.Verdict != Unknown || !strings.Contains(c.Detail, "B: no pool samples") {
		t.Errorf("recovery = %+v", c)
	}
	if s.Verdict != Unknown {
		t.Errorf("verdict %s, want unknown", s.Verdict)
	}
	// A broken bound at a sampled MTA still fails the check.
	res.Summary.MTAs["A"].KCBsLeaked = 2
	if c := check(t, judge(sc, res, 0, time.Second), "leaked *"); c.Verdict != Failed {
		t.Errorf("leaked * with A over its bound = %+v", c)
	}
}

func TestJudgeFaultsVerified(t *testing.T) {
	sc := judgeScenario(t, "0s", refuseYAML, "  events: [{mta: '*', id: 1198, max: 0}]")
	res := fakeResult(3)
	res.Schedule = refuseAt(500 * time.Millisecond)
	res.deliver("m0", 0.1)
	res.deliver("m1", 1.6)
	res.deliver("m2", 1.7)
	res.Ledger = []LedgerEntry{{Phase: "unverified", Fault: 0, Link: "A->B", Error: "dial succeeded"}}
	s := judge(sc, res, 1500*time.Millisecond, 2*time.Second)
	c := check(t, s, "faults")
	if c.Verdict != Unknown || !strings.Contains(c.Detail, "fault 0 (refuse A->B): none of its 2 toggles verified") || !strings.Contains(c.Detail, "dial succeeded") {
		t.Errorf("faults = %+v", c)
	}
	if s.Verdict != Unknown {
		t.Errorf("verdict %s, want unknown", s.Verdict)
	}
	res.Ledger = append(res.Ledger, LedgerEntry{Phase: "verified", Fault: 0, Link: "A->B"})
	s = judge(sc, res, 1500*time.Millisecond, 2*time.Second)
	if c := check(t, s, "faults"); c.Verdict != Passed || c.Detail != "1 of 2 toggles of 1 faults verified on the wire" {
		t.Errorf("faults = %+v", c)
	}
	if s.Verdict != Passed {
		t.Errorf("verdict %s: %+v", s.Verdict, s.Checks)
	}
}

func TestJudgeNothingDeclared(t *testing.T) {
	sc, err := scenario.LoadBytes("empty.yaml", []byte("version: 1\nname: empty\nmtas: [{name: A}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	res := &Result{Summary: Summary{MTAs: map[string]*MTASummary{"A": {Events: map[string]int{}}}},
		Schedule: &faults.Schedule{}, submitted: map[string]submission{}}
	s := judge(sc, res, 0, time.Second)
	if s.Verdict != Unknown || len(s.Checks) != 1 || s.Checks[0].Name != "evidence" {
		t.Errorf("verdict %s, checks %+v; want one unknown evidence check", s.Verdict, s.Checks)
	}
}

func TestJudgeDeliveredPerPair(t *testing.T) {
	src := `version: 1
name: pairs
mtas: [{name: A0}, {name: B0}, {name: A2}, {name: B2}]
links: [{from: A0, to: B0}, {from: A2, to: B2}]
traffic:
  - {from: A0, to: B0, messages: 4}
  - {from: A2, to: B2, messages: 4}
expect:
  delivered:
    - {from: A0, to: B0, max: 2}
`
	sc, err := scenario.LoadBytes("pairs.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(d0, d2 int) *Result {
		res := &Result{Summary: Summary{MTAs: map[string]*MTASummary{}}, Schedule: &faults.Schedule{}, submitted: map[string]submission{}}
		for _, n := range []string{"A0", "B0", "A2", "B2"} {
			res.Summary.MTAs[n] = &MTASummary{Events: map[string]int{}}
		}
		for _, p := range []struct {
			from, to string
			n        int
		}{{"A0", "B0", d0}, {"A2", "B2", d2}} {
			for i := range 4 {
				id := fmt.Sprintf("%s-%d", p.from, i)
				res.submitted[id] = submission{from: p.from, to: p.to}
				if i < p.n {
					res.Deliveries = append(res.Deliveries, DeliveryRecord{Delivery: kernel.Delivery{ID: id, From: p.from, To: p.to}})
				}
			}
		}
		return res
	}
	// A0->B0 stalls within its bound, A2->B2 delivers everything: passed.
	s := judge(sc, mk(1, 4), 0, time.Second)
	if c := check(t, s, "delivery A0->B0"); c.Verdict != Passed || !strings.Contains(c.Detail, "1 delivered (want ≤2") {
		t.Errorf("delivery A0->B0 = %+v", c)
	}
	if c := check(t, s, "delivery"); c.Verdict != Passed || !strings.Contains(c.Detail, "4 of 4 delivered exactly once") {
		t.Errorf("delivery (the other pairs) = %+v", c)
	}
	// The unbounded pair losing one fails; the bounded one over its max fails.
	s = judge(sc, mk(3, 3), 0, time.Second)
	if c := check(t, s, "delivery A0->B0"); c.Verdict != Failed {
		t.Errorf("delivery A0->B0 over its max = %+v", c)
	}
	if c := check(t, s, "delivery"); c.Verdict != Failed || !strings.Contains(c.Detail, "A2->B2: 3 of 4 delivered") {
		t.Errorf("delivery (the other pairs) = %+v", c)
	}
	// Loader errors of the list form.
	for _, tc := range []struct{ list, want string }{
		{"    - {from: A0, to: B2, max: 1}", "expect.delivered[0]: no traffic from A0 to B2 to bound"},
		{"    - {from: A0, to: B0, min: 5}", "expect.delivered[0]: min 5 is more than the 4 messages the traffic from A0 to B0 declares"},
		{"    - {from: A0, to: B0, max: 1}\n    - {from: A0, to: B0, max: 2}", "expect.delivered[1]: pair A0->B0 already bounded on line 10"},
		{"    - {from: A0, max: 1}", `expect.delivered[0]: missing required key "to"`},
		{"    - {from: X, to: B0, max: 1}", `expect.delivered[0].from: unknown MTA "X"`},
	} {
		bad := strings.Replace(src, "    - {from: A0, to: B0, max: 2}", tc.list, 1)
		if _, err := scenario.LoadBytes("pairs.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.list, err, tc.want)
		}
	}
}

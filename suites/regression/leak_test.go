package regression_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// leakGenerator cuts every connection A->B inside A's BIND (limit_data at
// CR + BIND − 1 bytes on the up stream): B has answered CC and waits in
// OpenPending for a BIND it never completes (1008 [2 26]), A waits for the
// accept (1004 [2 20 1 8]). One attempt per open_interval. sp0 leaks B's
// KCB on every attempt; sp0 gets a restart of B after the heal (the KB
// workaround), sp2 none.
const leakGenerator = `
version: 1
name: leak-generator-%[1]s-kcbs%[2]d
seed: 11
defaults: {mode: %[1]s, kcbs: %[2]d, timers: {open: 300ms, open_interval: 100ms, lifetime: 300ms}}
mtas: [{name: A}, {name: B}]
links: [{from: A, to: B}]
traffic: [{from: A, to: B, messages: 5, size: 512B, start: 100ms}]
faults: [{at: 0s, until: %[4]s, link: A->B, type: truncate, stream: up, bytes: %[3]d}]
%[5]s
expect:
  recovery: {within: 2s, delivered: all, kcbs: baseline}
duration: 8s
`

// cutInsideBind is the number of bytes of A's CR and BIND but the last,
// on A's first connection with the built-in defaults.
func cutInsideBind() int64 {
	GinkgoHelper()
	a := scenario.BuiltinDefaults()
	a.Name = "A"
	n, err := harness.CutInsideBind(a, "B")
	Expect(err).NotTo(HaveOccurred())
	return n
}

var _ = Describe("the deterministic leak generator (truncate inside BIND)",
	Label("fault:truncate", "event:1008", "event:1277", "speed:fast", "backend:external"), func() {
		DescribeTable("one attempt at a time",
			func(ctx SpecContext, mode string, kcbs int) {
				// Enough attempts for the pool to run out and more: each
				// takes about open_interval (100ms) plus a round trip; the
				// margin (kcbs+4 attempts at 150ms) absorbs a loaded machine.
				heal := 200*time.Millisecond + time.Duration(kcbs+4)*150*time.Millisecond
				restart := ""
				if mode == "sp0" {
					restart = fmt.Sprintf("actions: [{at: %s, restart: B}]", heal+300*time.Millisecond)
				}
				sc := Scenario("leak-generator.yaml", fmt.Sprintf(leakGenerator, mode, kcbs, cutInsideBind(), heal, restart))
				b, _ := sc.MTA("B")
				res := Run(ctx, sc)

				// One event at B per attempt, in order: 1008 while B has an
				// Idle KCB to fail, 1277 once it has none.
				var attempts []eventlog.Record
				for _, r := range Select(res, "B", eventlog.IDAssocErrorAnon, eventlog.IDConnRefused) {
					if EventAt(res, r) < heal.Seconds() {
						attempts = append(attempts, r)
					}
				}
				Expect(len(attempts)).To(BeNumerically(">", b.KCBs),
					"the cut must last for more attempts than B has KCBs; %s", Counts(res))
				Expect(res).To(HaveEmitted(eventlog.IDAssocError).From("A").WithTuple(2, 20, 1, 8), "A waits for the BIND's accept")

				if mode == "sp2" {
					// Every attempt fails on the same, returned KCB.
					for i, r := range attempts {
						Expect(r.ID).To(Equal(eventlog.IDAssocErrorAnon), "attempt %d: %s", i+1, Counts(res))
						Expect([]int{r.KCB, r.State, r.Svc}).To(Equal([]int{1, 2, 26}), "attempt %d fails in OpenPending on KCB 1", i+1)
					}
					ExpectAll(res, "leak generator, sp2",
						HaveNoLeakedKCBs(), Not(HaveEmitted(eventlog.IDConnRefused)),
						HaveDeliveredExactlyOnce(), HaveRecoveredWithin(2*time.Second), HaveVerdict(harness.Passed))
					return
				}

				// sp0: attempt i < kcbs fails on KCB i (KCBs 1..i−1 are
				// leaked, the lowest Idle one is i) and leaks it: exactly one
				// leak per attempt. The pool includes the listener (index 0),
				// so attempt kcbs finds no Idle KCB: the first 1277, naming
				// the lowest leaked control block.
				for i, r := range attempts[:b.KCBs-1] {
					Expect(r.ID).To(Equal(eventlog.IDAssocErrorAnon), "attempt %d of %d: %s", i+1, len(attempts), Counts(res))
					Expect([]int{r.KCB, r.State, r.Svc}).To(Equal([]int{i + 1, 2, 26}),
						"attempt %d fails in OpenPending on KCB %d, the lowest not yet leaked", i+1, i+1)
				}
				firstRefusal := attempts[b.KCBs-1]
				Expect(firstRefusal.ID).To(Equal(eventlog.IDConnRefused),
					"the first 1277 comes on attempt %d (kcbs %d, listener included); %s", b.KCBs, b.KCBs, Counts(res))
				Expect(firstRefusal.KCB).To(Equal(1), "the refusal names the lowest leaked control block")
				for i, r := range attempts[b.KCBs:] {
					Expect(r.ID).To(Equal(eventlog.IDConnRefused), "attempt %d: the pool stays gone", b.KCBs+1+i)
				}
				Expect(res.Summary.MTAs["B"].KCBsLeaked).To(Equal(b.KCBs-1), "one leak per attempt until the pool is gone")
				ExpectAll(res, "leak generator, sp0, after restarting B",
					HaveEmitted(eventlog.IDAssocErrorAnon).From("B").Times(b.KCBs-1, b.KCBs-1),
					HaveNoLeakedKCBs().AtEnd(), HaveDeliveredExactlyOnce(), HaveRecoveredWithin(2*time.Second), HaveVerdict(harness.Passed))
			},
			func(mode string, kcbs int) string { return fmt.Sprintf("%s, kcbs %d", mode, kcbs) },
			Entry(nil, Label("mode:sp0"), "sp0", 4, SpecTimeout(30*time.Second)),
			Entry(nil, Label("mode:sp0"), "sp0", 6, SpecTimeout(30*time.Second)),
			Entry(nil, Label("mode:sp2"), "sp2", 4, SpecTimeout(30*time.Second)),
		)
	})

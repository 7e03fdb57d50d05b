package storm_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// The long storm on one link: 10,000 messages go from A to B while the
// link is cycled 120 times and, every 400ms in turn, reset, truncated and
// sliced, until 17s.
const (
	longMessages = 10000
	longCycles   = 120
	longSpan     = 18 * time.Second // submissions and faults both end by then
	// restartEvery is the KB workaround applied to sp0, whose B leaks KCBs
	// under this storm: B restarts (keeping its store) every 2s, and once
	// more at longSpan, after the last fault.
	restartEvery = 2 * time.Second
	// longWithin bounds the drain after the last fault or restart: the
	// backlog of a link that was down for 40ms in every 140ms.
	longWithin = 20 * time.Second
)

// longStorm writes the storm as a scenario; mode is sp2 or sp0.
func longStorm(mode string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
name: exactly-once-storm-%[1]s
seed: 424242
defaults:
  mode: %[1]s
  kcbs: 8
  timers: {open: 300ms, open_interval: 50ms, transfer: 500ms, reassembly: 300ms, lifetime: 300ms, disconnect: 200ms}
mtas: [{name: A}, {name: B}]
links: [{from: A, to: B}]
traffic:
  - {from: A, to: B, messages: %[2]d, size: 300B, rate: %[3]d/s, start: 0s}
faults:
`, mode, longMessages, int(float64(longMessages)/(longSpan-2*time.Second).Seconds()))
	// 120 cycles of 40ms down, 100ms up (±10ms): 16.8s from 300ms.
	fmt.Fprintf(&b, "  - {at: 300ms, link: A->B, type: cycle, down: 40ms, up: 100ms, count: %d, jitter: 10ms}\n", longCycles)
	kinds := []string{
		"type: reset, timeout: 0s",
		"type: truncate, bytes: 700, stream: up",
		"type: slice, average_size: 40, size_variation: 20, delay: 1ms, stream: both",
	}
	for i, at := 0, 500*time.Millisecond; at < longSpan-time.Second; i, at = i+1, at+400*time.Millisecond {
		fmt.Fprintf(&b, "  - {at: %dms, until: %dms, link: A->B, %s}\n",
			at.Milliseconds(), (at + 150*time.Millisecond).Milliseconds(), kinds[i%len(kinds)])
	}
	if mode == "sp0" {
		b.WriteString("actions:\n")
		for at := restartEvery; at <= longSpan; at += restartEvery {
			fmt.Fprintf(&b, "  - {at: %s, restart: B}\n", at)
		}
	}
	fmt.Fprintf(&b, `expect:
  recovery: {within: %s, delivered: all, kcbs: baseline}
duration: %s
`, longWithin, longSpan+60*time.Second)
	return b.String()
}

// applied counts the faults of each type the run applied: cycle
// disables, and the windows (distinct faults) of the toxic types.
func applied(res *harness.Result) map[string]int {
	n := map[string]int{}
	windows := map[int]bool{}
	for _, e := range res.Ledger {
		if e.Phase != "applied" {
			continue
		}
		switch {
		case e.Action == faults.ActDisable:
			n[e.Type]++
		case e.Action == faults.ActAddToxic && !windows[e.Fault]:
			windows[e.Fault] = true
			n[e.Type]++
		}
	}
	return n
}

// restarts counts the restarts the run carried out.
func restarts(res *harness.Result) int {
	n := 0
	for _, e := range res.Ledger {
		if e.Phase == "action" && e.Action == "restart" {
			n++
		}
	}
	return n
}

var _ = Describe("exactly once under a long storm on one link",
	Label("fault:cycle", "fault:reset", "fault:truncate", "fault:slice", "speed:soak", "backend:external"), func() {
		DescribeTable("10,000 messages while the link is cycled 120 times and reset, truncated and sliced in turn",
			func(ctx SpecContext, mode string) {
				ownSoak("long storm " + mode)
				res := Run(ctx, Scenario("exactly-once-storm.yaml", longStorm(mode)))

				n := applied(res)
				Expect(n["cycle"]).To(BeNumerically(">=", 100), "link cycles applied: %v", n)
				for _, typ := range []string{"reset", "truncate", "slice"} {
					Expect(n[typ]).To(BeNumerically(">=", 10), "%s windows applied: %v", typ, n)
				}
				if mode == "sp0" {
					Expect(restarts(res)).To(Equal(int(longSpan/restartEvery)), "restarts of B (the KB workaround)")
				}
				Expect(res.Summary.MTAs["A"].Submitted).To(Equal(longMessages), "every message must have been submitted")
				ExpectAll(res, "long storm, "+mode,
					HaveDeliveredExactlyOnce(),
					HavePoolsAtBaseline(),
					HaveRecoveredWithin(longWithin),
				)
				// The delivery and recovery checks, not the whole verdict: a
				// 150ms toxic window that the probe could not observe on a
				// busy machine makes the faults check unknown, and the ledger
				// counts above already show the storm was applied.
				for _, name := range []string{"delivery", "recovery"} {
					c := Check(res, name)
					Expect(c.Verdict).To(Equal(harness.Passed), "check %s: %s", name, c.Detail)
				}
			},
			Entry("sp2: nothing lost, nothing delivered twice", Label("mode:sp2"), "sp2", SpecTimeout(3*time.Minute)),
			Entry("sp0 with B restarted every 2s: nothing lost, nothing delivered twice", Label("mode:sp0"), "sp0", SpecTimeout(3*time.Minute)),
		)
	})

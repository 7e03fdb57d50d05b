package events_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/suites/suitekit"
)

// refusal: the link refuses for 600ms then heals. A plain outage: both
// builds log 1004 at the initiator, nothing leaks, mail flows again within
// open_interval + open of the heal, every message exactly once.
const refusal = `
version: 1
name: refuse-%[1]s
seed: 7
defaults: {mode: %[1]s, kcbs: 4, timers: {lifetime: 200ms}}
mtas: [{name: A}, {name: B}]
links: [{from: A, to: B}]
traffic: [{from: A, to: B, messages: 60, size: 1KiB, rate: 40/s, start: 0s}]
faults: [{at: 400ms, link: A->B, type: refuse, until: 1s}]
expect:
  recovery: {within: 3s, delivered: all, kcbs: baseline}
duration: 8s
`

// pressure: five MTAs open associations to B at once; B has 3 usable KCBs,
// so the excess is refused with 1277 until KCBs free up. No leak.
const pressure = `
version: 1
name: pressure-%[1]s
seed: 7
defaults: {mode: %[1]s, kcbs: 4, timers: {lifetime: 600ms}}
mtas: [{name: A1}, {name: A2}, {name: A3}, {name: A4}, {name: A5}, {name: B}]
links: [{from: A1, to: B}, {from: A2, to: B}, {from: A3, to: B}, {from: A4, to: B}, {from: A5, to: B}]
traffic:
  - {from: A1, to: B, messages: 10, size: 512B, start: 0s}
  - {from: A2, to: B, messages: 10, size: 512B, start: 0s}
  - {from: A3, to: B, messages: 10, size: 512B, start: 0s}
  - {from: A4, to: B, messages: 10, size: 512B, start: 0s}
  - {from: A5, to: B, messages: 10, size: 512B, start: 0s}
expect:
  recovery: {within: 6s, delivered: all, kcbs: baseline}
duration: 10s
`

var _ = Describe("refusal", Label("fault:refuse", "event:1004", "speed:fast", "backend:external"), func() {
	DescribeTable("refuse, then heal",
		func(ctx SpecContext, mode string) {
			res := suitekit.Run(ctx, suitekit.Scenario("refusal.yaml", fmt.Sprintf(refusal, mode)))

			suitekit.ExpectAll(res, "refuse A->B for 600ms, then heal, build "+mode,
				suitekit.HaveEmitted(eventlog.IDAssocError).From("A"), // the initiator's association is cut
				Not(suitekit.HaveEmitted(eventlog.IDConnRefused)),     // a plain outage refuses nothing
				Not(suitekit.HaveEmitted(eventlog.IDStateCheck)),
				suitekit.HaveNoLeakedKCBs(), // in either build
				suitekit.HaveDeliveredExactlyOnce(),
				suitekit.HaveRecoveredWithin(3*time.Second),
				suitekit.HaveVerdict(harness.Passed),
			)
			Expect(suitekit.Check(res, "validity").Verdict).To(Equal(harness.Passed), "mail must flow before the fault")
			Expect(res.Summary.MTAs["B"].Delivered).To(Equal(60))
		},
		Entry("sp2", Label("mode:sp2"), "sp2", SpecTimeout(30*time.Second)),
		Entry("sp0", Label("mode:sp0"), "sp0", SpecTimeout(30*time.Second)),
	)
})

var _ = Describe("pool pressure", Label("fault:pressure", "event:1277", "speed:fast", "backend:external"), func() {
	DescribeTable("more simultaneous associations than KCBs",
		func(ctx SpecContext, mode string) {
			res := suitekit.Run(ctx, suitekit.Scenario("pressure.yaml", fmt.Sprintf(pressure, mode)))

			// B has 3 usable KCBs for 5 simultaneous associations: the
			// excess is refused with 1277, and with no leaked KCB the
			// refusal names the last control block.
			suitekit.ExpectAll(res, "five initiators at once on a pool of 4, build "+mode,
				suitekit.HaveEmitted(eventlog.IDConnRefused).From("B"),
				Not(suitekit.HaveEmitted(eventlog.IDConnRefused).From("A1", "A2", "A3", "A4", "A5")),
				Not(suitekit.HaveEmitted(eventlog.IDStateCheck)),
				suitekit.HaveNoLeakedKCBs(),
				suitekit.HaveDeliveredExactlyOnce(),
				suitekit.HaveVerdict(harness.Passed),
			)
			Expect(suitekit.Select(res, "B", eventlog.IDConnRefused)).To(HaveEach(HaveField("KCB", 3)),
				"with no leaked KCB every refusal names the last control block")
			Expect(res.Summary.MTAs["B"].Delivered).To(Equal(50))
		},
		Entry("sp2", Label("mode:sp2"), "sp2", SpecTimeout(30*time.Second)),
		Entry("sp0", Label("mode:sp0"), "sp0", SpecTimeout(30*time.Second)),
	)
})

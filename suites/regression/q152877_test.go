package regression_test

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// KB Q152877 itself, from the shipped scenario files: the link between two
// sites cycles while latency makes every handshake straddle a flap.
var _ = Describe("KB Q152877", Label("fault:cycle", "fault:latency", "speed:fast", "backend:external"), func() {
	It("sp0: leaks B's KCBs, refuses with 1277 naming a leaked KCB, delivers nothing until B restarts",
		Label("mode:sp0", "event:1277", "event:1008", "event:1004"), func(ctx SpecContext) {
			sc := LoadFile("scenarios/q152877-sp0.yaml")
			restart := restartOf(sc, "B")
			res := Run(ctx, sc)
			stormEnd := res.Schedule.LastHeal()
			Expect(restart).To(BeNumerically(">", stormEnd), "the scenario restarts B after the storm")

			Expect(res).To(HaveVerdict(harness.Passed), "the file's own expectations")
			// The defect's signature.
			Expect(res).NotTo(HaveNoLeakedKCBs().At("B"), "sp0 leaks a responder KCB per open error in state 2")
			Expect(res).To(HaveEmitted(eventlog.IDConnRefused).From("B"))
			first := Select(res, "B", eventlog.IDConnRefused)[0]
			Expect(stuckFrom(res, sc, "B", first, restart)).To(BeTrue(),
				"the first 1277 names control block %d, which must be a leaked one: OpenPending in every sample of B from the 1277 (%.3fs) to the restart (%s)",
				first.KCB, EventAt(res, first), restart)
			Expect(res).To(HaveEmitted(eventlog.IDConnRefused).From("B").WithKCB(first.KCB))
			Expect(DeliveredBetween(res, "B", stormEnd, restart)).To(BeZero(),
				"mail stalls: nothing may reach B between the end of the storm (%s) and the restart (%s)", stormEnd, restart)
			// The KB workaround: the restart frees the pool, mail flows.
			Expect(DeliveredBetween(res, "B", restart, time.Hour)).To(BeNumerically(">", 0), "delivery resumes after the restart")
			Expect(res).To(HaveDeliveredExactlyOnce())
			Expect(res).To(HaveRecoveredWithin(sc.Expect.Recovery.Within))
			Expect(res).To(HaveNoLeakedKCBs().AtEnd(), "the restart returns B's pool to baseline")
		}, SpecTimeout(40*time.Second))

	It("sp2: logs the open errors, leaks nothing, refuses nothing and recovers on its own",
		Label("mode:sp2", "event:1004", "event:1008", "event:1277", "event:1198"), func(ctx SpecContext) {
			sc := LoadFile("scenarios/q152877-sp2.yaml")
			Expect(sc.Actions).To(BeEmpty(), "sp2 must recover without a restart")
			res := Run(ctx, sc)

			ExpectAll(res, "Q152877 under sp2",
				HaveVerdict(harness.Passed),
				HaveEmitted(eventlog.IDAssocError).From("A"),
				HaveEmitted(eventlog.IDAssocErrorAnon).From("B"),
				Not(HaveEmitted(eventlog.IDConnRefused)),
				Not(HaveEmitted(eventlog.IDStateCheck)),
				HaveNoLeakedKCBs(),
				HaveDeliveredExactlyOnce(),
				HaveRecoveredWithin(sc.Expect.Recovery.Within),
			)
		}, SpecTimeout(40*time.Second))
})

// restartOf returns when sc restarts mta, failing the spec if it does not.
func restartOf(sc *scenario.Scenario, mta string) time.Duration {
	GinkgoHelper()
	for _, a := range sc.Actions {
		if a.Op == "restart" && a.MTA == mta {
			return a.At
		}
	}
	Fail(sc.Name + ": no restart of " + mta)
	return 0
}

// stuckFrom reports whether the control block rec names stays OpenPending
// in every sample of mta from rec until `until`, over longer than the open
// timer (so no live handshake can explain it): a leaked KCB.
func stuckFrom(res *harness.Result, sc *scenario.Scenario, mta string, rec eventlog.Record, until time.Duration) bool {
	spec, _ := sc.MTA(mta)
	from := EventAt(res, rec)
	var span []harness.Sample
	for _, s := range SamplesOf(res, mta) {
		if s.T >= from && s.T < until.Seconds() && s.Running {
			span = append(span, s)
		}
	}
	if len(span) < 2 || span[len(span)-1].T-span[0].T <= spec.Timers.Open.Seconds() {
		return false
	}
	return !slices.ContainsFunc(span, func(s harness.Sample) bool {
		return rec.KCB >= len(s.States) || s.States[rec.KCB] != int(kernel.OpenPending)
	})
}

package kernel_test

import (
	"testing"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// The 1004 of an initiator: reason 8 in states 1–2 except 9 (DR received)
// and 10 (BIND refuse received); svc/flavor 20/1 while mail is pending. The
// same in both builds, and the initiator's KCB always returns to Idle.
func TestInitiatorFailureReasons(t *testing.T) {
	rows := []struct {
		name   string
		script func(h *harness, p *peer)
		events []string
	}{
		{"DR in state 1", func(h *harness, p *peer) {
			cr := p.expect(minip1.KindCR)
			p.send(minip1.Unit{Kind: minip1.KindDR, DstRef: cr.SrcRef, Reason: minip1.DRCongestion})
		}, []string{"1004 kcb=1 [1 20 1 9]"}},
		{"ER in state 1", func(h *harness, p *peer) {
			p.expect(minip1.KindCR)
			p.send(minip1.Unit{Kind: minip1.KindER, Cause: 1})
		}, []string{"1004 kcb=1 [1 20 1 8]"}},
		{"BIND refuse in state 2", func(h *harness, p *peer) {
			p.answerCR()
			p.expect(minip1.KindBind)
			p.send(minip1.Unit{Kind: minip1.KindBindRefuse, Provider: 1, Reason: 2})
		}, []string{"1004 kcb=1 [2 20 1 10]"}},
		{"ABORT in state 2", func(h *harness, p *peer) {
			p.answerCR()
			p.expect(minip1.KindBind)
			p.send(minip1.Unit{Kind: minip1.KindAbort, Reason: minip1.AbortTemporary})
		}, []string{"1004 kcb=1 [2 20 1 8]"}},
		{"unexpected unit in state 2", func(h *harness, p *peer) {
			p.answerCR()
			p.expect(minip1.KindBind)
			p.send(minip1.Unit{Kind: minip1.KindCC})
		}, []string{"1198 kcb=1 [2 1 4]", "1004 kcb=1 [2 20 1 8]"}},
		{"ABORT in state 3", func(h *harness, p *peer) {
			p.answerCR()
			bind := p.expect(minip1.KindBind)
			p.send(minip1.Unit{Kind: minip1.KindBindAccept, MTAName: dnB, AssocID: bind.AssocID})
			p.expect(minip1.KindTransfer)
			p.send(minip1.Unit{Kind: minip1.KindAbort, Reason: minip1.AbortLocal})
		}, []string{"1004 kcb=1 [3 20 1 7]"}},
		{"unexpected unit in state 3", func(h *harness, p *peer) {
			p.answerCR()
			bind := p.expect(minip1.KindBind)
			p.send(minip1.Unit{Kind: minip1.KindBindAccept, MTAName: dnB, AssocID: bind.AssocID})
			p.expect(minip1.KindTransfer)
			p.send(minip1.Unit{Kind: minip1.KindBindAccept, MTAName: dnB, AssocID: bind.AssocID})
			equal(h.t, "ABORT reason", p.expect(minip1.KindAbort).Reason, uint8(minip1.AbortProtocol))
		}, []string{"1198 kcb=1 [3 13 4]", "1004 kcb=1 [3 20 1 6]"}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			forModes(t, func(t *testing.T, mode string) {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withPeer("B", "B"))
				defer h.close()
				lb := n.listen("B")
				h.submit("m1", 10)
				row.script(h, h.acceptOut(lb))
				equalSlice(t, "events", h.events(), row.events)
				for _, r := range h.log.Records() {
					equal(t, "entity", r.Entity, dnB)
				}
				s := h.snap()
				equalSlice(t, "states", h.states(), idle(7))
				equal(t, "leaked", s.Leaked, 0)
				equal(t, "queued", s.Queued, 1)
			})
		})
	}
}

// A CR for another MTA is refused with DR 0x03 and a 1277 naming the KCB
// that took the connection, in both builds.
func TestUnknownCalledTSAP(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		p := h.dialIn()
		u := crUnit("A.1")
		u.CalledTSAP = "C"
		p.send(u)
		equalSlice(t, "peer", p.drain(), []string{"DR 0x03", "EOF"})
		equalSlice(t, "events", h.events(), []string{"1277 kcb=1"})
		r := h.record(eventlog.IDConnRefused)
		if want := eventlog.DN("", "", "B"); r.OwnDN != want {
			t.Errorf("1277 own DN %q, want %q", r.OwnDN, want)
		}
		s := h.snap()
		equal(t, "refused", s.Refused, 1)
		equalSlice(t, "states", h.states(), idle(7))
	})
}

// A responder that gets a unit with no transition before BIND logs 1198,
// answers ER and fails the open: 1008 (entity unknown); in state 2 that is
// an open error, so sp0 leaks the KCB.
func TestResponderStateCheckBeforeBind(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		p := h.connectIn("A.1")
		p.send(transferUnit("m1", 1, []byte("x")))
		equalSlice(t, "events", h.events(), []string{"1198 kcb=1 [2 20 2]", "1008 kcb=1 [2 20]"})
		// A protocol error before the association exists is answered with ER.
		equalSlice(t, "peer", p.drain(), []string{"ER", "EOF"})
		equal(t, "leaked", h.snap().Leaked, map[string]int{sp0: 1, sp2: 0}[mode])
		equal(t, "delivered", len(h.deliveries()), 0)
	})
}

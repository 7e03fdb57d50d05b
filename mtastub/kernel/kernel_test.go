package kernel_test

import (
	"slices"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestMain fails the package if any goroutine outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// The two 4.0 builds by their old mode names, which the kernel takes as aliases.
const (
	sp0 = "sp0"
	sp2 = "sp2"
)

var modes = []string{sp0, sp2}

// forModes runs f in a fresh synctest bubble for each build.
func forModes(t *testing.T, f func(t *testing.T, mode string)) {
	for _, mode := range modes {
		t.Run(string(mode), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { f(t, mode) })
		})
	}
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func equalSlice[T comparable](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got  %v\n want %v", what, got, want)
	}
}

// atMicro is how an event record carries a time.
func atMicro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func idle(n int) []kernel.State { return slices.Repeat([]kernel.State{kernel.Idle}, n) }

// ---------------------------------------------------------------------------
// 1. Timers

// The initiator's open timer in state 1 (CR sent, no CC): 1004 [1 20 1 8]
// exactly `open` after the open began, the KCB back to Idle in both builds,
// the next attempt `open_interval` later with the next calling TSAP.
func TestOpenTimerInitiatorState1(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"))
		defer h.close()
		lb := n.listen("B")
		t0 := time.Now()
		h.submit("m1", 100)
		p := h.acceptOut(lb)
		cr := p.expect(minip1.KindCR)
		equal(t, "calling TSAP", cr.CallingTSAP, "A.1")
		equal(t, "called TSAP", cr.CalledTSAP, "B")
		equalSlice(t, "states", h.states(), []kernel.State{kernel.TConPending, 0, 0, 0, 0, 0, 0})

		time.Sleep(300*time.Millisecond - time.Nanosecond)
		equalSlice(t, "events before the open timer", h.events(), nil)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [1 20 1 8]"})
		r := h.record(eventlog.IDAssocError)
		equal(t, "1004 time", r.Time, atMicro(t0.Add(300*time.Millisecond)))
		equal(t, "1004 entity", r.Entity, dnB)
		equal(t, "1004 assoc", r.Assoc, 1)
		p.expectEOF()
		s := h.snap()
		equalSlice(t, "states after", h.states(), idle(7))
		equal(t, "leaked", s.Leaked, 0)
		equal(t, "queued", s.Queued, 1)

		p2 := h.acceptOut(lb)
		equal(t, "second CR calling TSAP", p2.expect(minip1.KindCR).CallingTSAP, "A.2")
		equalSlice(t, "dial times", n.dialTimes("B"), []time.Time{t0, t0.Add(400 * time.Millisecond)})
	})
}

// The initiator's open timer in state 2 (BIND sent, no answer): 1004
// [2 20 1 8] with mail queued; the initiator's KCB returns to Idle in both builds.
func TestOpenTimerInitiatorState2(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"))
		defer h.close()
		lb := n.listen("B")
		h.submit("m1", 100)
		p := h.acceptOut(lb)
		p.answerCR()
		t1 := time.Now()
		p.expect(minip1.KindBind)
		equalSlice(t, "states", h.states()[:2], []kernel.State{kernel.OpenPending, kernel.Idle})

		time.Sleep(300*time.Millisecond - time.Nanosecond)
		equalSlice(t, "events before the open timer", h.events(), nil)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [2 20 1 8]"})
		equal(t, "1004 time", h.record(eventlog.IDAssocError).Time, atMicro(t1.Add(300*time.Millisecond)))
		p.expectEOF()
		s := h.snap()
		equalSlice(t, "states after", h.states(), idle(7))
		equal(t, "leaked", s.Leaked, 0)
	})
}

// The responder's open timer: 1008 (entity unknown) with the timer service
// and reason 8; state 1 returns to Idle in both builds, state 2 leaks in sp0 only.
func TestOpenTimerResponder(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "B", mode)
		defer h.close()

		p1 := h.dialIn() // state 1: no CR
		t0 := time.Now()
		time.Sleep(300*time.Millisecond - time.Nanosecond)
		equalSlice(t, "events before the open timer", h.events(), nil)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "events", h.events(), []string{"1008 kcb=1 [1 27]"})
		equal(t, "1008 time", h.record(eventlog.IDAssocErrorAnon).Time, atMicro(t0.Add(300*time.Millisecond)))
		p1.expectEOF()
		equalSlice(t, "states after state-1 timeout", h.states(), idle(7))

		p2 := h.connectIn("A.1") // state 2: no BIND
		time.Sleep(300 * time.Millisecond)
		equalSlice(t, "events", h.events(), []string{"1008 kcb=1 [1 27]", "1008 kcb=1 [2 27]"})
		p2.expectEOF()
		s := h.snap()
		if mode == sp0 {
			equal(t, "leaked", s.Leaked, 1)
			equal(t, "KCB 1 state", s.KCBs[1].State, kernel.OpenPending)
			equal(t, "KCB 1 calling TSAP", s.KCBs[1].CallingTSAP, "A.1")
		} else {
			equal(t, "leaked", s.Leaked, 0)
			equalSlice(t, "states", h.states(), idle(7))
		}
	})
}

// While the link refuses, the connector retries every open_interval: over
// a virtual second 1s/open_interval attempts, each an open error in state 1.
func TestOpenRetryInterval(t *testing.T) {
	for _, iv := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond} {
		t.Run(iv.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := newFakeNet()
				h := startKernel(t, n, "A", sp2, withPeer("B", "B"), withExtended(),
					withTimers(kernel.Timers{OpenInterval: iv}))
				defer h.close()
				n.setDown("B", true)
				t0 := time.Now()
				h.submit("m1", 10)
				time.Sleep(time.Second - iv/2)
				synctest.Wait()

				want := int(time.Second / iv)
				dials := n.dialTimes("B")
				equal(t, "dial attempts", len(dials), want)
				for i, at := range dials {
					equal(t, "dial time", at.Sub(t0), time.Duration(i)*iv)
				}
				equal(t, "1004 count", h.log.Count(eventlog.IDAssocError), want)
				equal(t, "9215 count", h.log.Count(eventlog.IDConnectRefused), want)
				for _, e := range h.events() {
					equal(t, "event", e, "1004 kcb=1 [1 20 1 8]")
				}
				s := h.snap()
				equal(t, "baseline", s.Baseline(), true)
				equal(t, "queued", s.Queued, 1)

				// The link comes back: the next retry gets through.
				lb := n.listen("B")
				n.setDown("B", false)
				p := h.acceptOut(lb)
				equal(t, "calling TSAP", p.expect(minip1.KindCR).CallingTSAP, "A."+strconv.Itoa(want+1))
			})
		})
	}
}

// The transfer timer (transfer + bytes/FloorRate after the TRANSFER) sends
// ABORT reason 3 and logs 1004 [3 20 1 4]; the message is re-sent with the
// same id on the next association.
func TestTransferTimer(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"))
		defer h.close()
		lb := n.listen("B")
		h.submit("m1", 1000)
		p, _ := h.associateOut(lb)
		t1 := time.Now()
		tr := p.expect(minip1.KindTransfer)
		equal(t, "msg id", tr.MsgID, "m1")
		equal(t, "seq", tr.Seq, uint32(1))
		d := 500*time.Millisecond + 1000*time.Second/kernel.FloorRate

		time.Sleep(d - time.Nanosecond)
		equalSlice(t, "before the transfer timer", p.drain(), nil)
		equalSlice(t, "events before", h.events(), nil)
		time.Sleep(time.Nanosecond)
		ab := p.expect(minip1.KindAbort)
		equal(t, "ABORT reason", ab.Reason, uint8(minip1.AbortTemporary))
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [3 20 1 4]"})
		equal(t, "1004 time", h.record(eventlog.IDAssocError).Time, atMicro(t1.Add(d)))
		s := h.snap()
		equal(t, "KCB 1", s.KCBs[1].State, kernel.Idle)
		equal(t, "queued", s.Queued, 1)

		p2, cr := h.associateOut(lb)
		equal(t, "calling TSAP", cr.CallingTSAP, "A.2")
		tr2 := p2.expect(minip1.KindTransfer)
		equal(t, "re-sent id", tr2.MsgID, "m1")
		equal(t, "re-sent seq", tr2.Seq, uint32(1))
		equal(t, "re-sent payload", string(tr2.Payload), string(tr.Payload))
		p2.send(minip1.Unit{Kind: minip1.KindAck, Seq: tr2.Seq, MsgID: "m1"})
		s = h.snap()
		equal(t, "resent", s.Resent, 1)
		equal(t, "acked", s.Acked, 1)
		equal(t, "queued", s.Queued, 0)
	})
}

// An idle association lives `lifetime` after the last ACK, then the
// initiator sends RELEASE; RELEASE confirm ends it and the pool is back to
// Idle with no error event.
func TestLifetimeRelease(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"))
		defer h.close()
		lb := n.listen("B")
		h.submit("m1", 100)
		p, _ := h.associateOut(lb)
		tr := p.expect(minip1.KindTransfer)
		p.send(minip1.Unit{Kind: minip1.KindAck, Seq: tr.Seq, MsgID: tr.MsgID})
		s := h.snap()
		equal(t, "acked", s.Acked, 1)
		equal(t, "KCB 1", s.KCBs[1].State, kernel.Associated)

		time.Sleep(time.Second - time.Nanosecond)
		equalSlice(t, "before lifetime", p.drain(), nil)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "at lifetime", p.drain(), []string{"RELEASE"})
		equal(t, "KCB 1", h.snap().KCBs[1].State, kernel.Releasing)
		p.send(minip1.Unit{Kind: minip1.KindReleaseConfirm})
		p.expectEOF()
		s = h.snap()
		equal(t, "baseline", s.Baseline(), true)
		equalSlice(t, "states", h.states(), idle(7))
		equalSlice(t, "events", h.events(), nil)
	})
}

// A RELEASE confirmed by the responder leaves it in TDiscPending until the
// initiator closes or, at the latest, `disconnect` later.
func TestDisconnectTimer(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "B", mode)
		defer h.close()

		p := h.associateIn("A.1")
		p.send(minip1.Unit{Kind: minip1.KindRelease, Reason: 0})
		p.expect(minip1.KindReleaseConfirm)
		equal(t, "KCB 1", h.snap().KCBs[1].State, kernel.TDiscPending)
		time.Sleep(200*time.Millisecond - time.Nanosecond)
		equal(t, "KCB 1 before the disconnect timer", h.snap().KCBs[1].State, kernel.TDiscPending)
		equalSlice(t, "peer before", p.drain(), nil)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "peer", p.drain(), []string{"EOF"})
		equalSlice(t, "states", h.states(), idle(7))

		// The initiator closing first ends TDiscPending at once.
		p2 := h.associateIn("A.2")
		p2.send(minip1.Unit{Kind: minip1.KindRelease, Reason: 0})
		p2.expect(minip1.KindReleaseConfirm)
		p2.close()
		equalSlice(t, "states after close", h.states(), idle(7))
		equalSlice(t, "events", h.events(), nil)
	})
}

// A frame whose bytes take longer than `reassembly` fails the association:
// 1004 [3 27 2 5] and ABORT reason 3.
func TestReassemblyTimer(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "B", mode)
		defer h.close()
		p := h.associateIn("A.1")
		f := frame(transferUnit("m1", 1, []byte("hello")))
		if err := p.write(f[:5]); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		time.Sleep(300*time.Millisecond - time.Nanosecond)
		equalSlice(t, "events before", h.events(), nil)
		equal(t, "KCB 1", h.snap().KCBs[1].State, kernel.Associated)
		time.Sleep(time.Nanosecond)
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [3 27 2 5]"})
		r := h.record(eventlog.IDAssocError)
		equal(t, "1004 time", r.Time, atMicro(t1.Add(300*time.Millisecond)))
		equal(t, "1004 entity", r.Entity, dnA)
		equal(t, "ABORT reason", p.expect(minip1.KindAbort).Reason, uint8(minip1.AbortTemporary))
		equalSlice(t, "states", h.states(), idle(7))
		equal(t, "delivered", h.snap().Delivered, 0)
	})
}

// A frame that completes within `reassembly` is fine even when it comes in slices.
func TestReassemblySlicesInTime(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "B", mode)
		defer h.close()
		p := h.associateIn("A.1")
		f := frame(transferUnit("m1", 1, []byte("hello")))
		for i := 0; i < len(f); i += 4 {
			if err := p.write(f[i:min(i+4, len(f))]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		ack := p.expect(minip1.KindAck)
		equal(t, "ACK", unitString(ack), "ACK m1 r=0")
		equalSlice(t, "events", h.events(), nil)
		equal(t, "delivered", len(h.deliveries()), 1)
	})
}

package kernel_test

import (
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// outcome is what a hook script leaves observable.
type outcome struct {
	States     []kernel.State // KCBs 1..n
	Leaked     int            // Snapshot().Leaked
	StalePaths int            // summed over the pool
	Events     []string       // 1004/1008/1198/1277 tuples, oldest first
	Peer       []string       // what the peer of interest received (see peer.drain)
	Refused    int
	Queued     int
}

func observe(h *harness, p *peer) outcome {
	s := h.snap()
	o := outcome{Leaked: s.Leaked, Refused: s.Refused, Queued: s.Queued, Events: h.events(), Peer: p.drain()}
	for _, b := range s.KCBs[1:] {
		o.States = append(o.States, b.State)
		o.StalePaths += b.StalePaths
	}
	return o
}

const (
	I = kernel.Idle
	T = kernel.TConPending
	O = kernel.OpenPending
	A = kernel.Associated
)

// abortByTransferTimer associates kernel A with a fake B, lets the transfer
// timer fire and returns the peer right after the ABORT.
func abortByTransferTimer(t *testing.T, h *harness, lb *fakeListener) (*peer, minip1.Unit) {
	h.submit("m1", 1000)
	p, _ := h.associateOut(lb)
	tr := p.expect(minip1.KindTransfer)
	time.Sleep(500*time.Millisecond + 1000*time.Second/kernel.FloorRate)
	synctest.Wait()
	return p, tr
}

// TestBuildHooks runs one script per hook of DESIGN.md section 3 under both
// builds: the builds differ exactly in the hook rows and agree elsewhere.
func TestBuildHooks(t *testing.T) {
	rows := []struct {
		name      string
		identical bool
		run       func(t *testing.T, mode string) outcome
		sp0, sp2  outcome
	}{
		{
			name: "open error state 1: reset before CR (responder)", identical: true,
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				p := h.dialIn()
				p.close()
				return observe(h, p)
			},
			sp0: outcome{States: []kernel.State{I, I}, Events: []string{"1008 kcb=1 [1 26]"}, Peer: []string{"EOF"}},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1008 kcb=1 [1 26]"}, Peer: []string{"EOF"}},
		},
		{
			name: "open error state 1: CR answered by close (initiator)", identical: true,
			run: func(t *testing.T, mode string) outcome {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withKCBs(3), withPeer("B", "B"))
				defer h.close()
				lb := n.listen("B")
				h.submit("m1", 10)
				p := h.acceptOut(lb)
				p.expect(minip1.KindCR)
				p.close()
				return observe(h, p)
			},
			sp0: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [1 20 1 8]"}, Peer: []string{"EOF"}, Queued: 1},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [1 20 1 8]"}, Peer: []string{"EOF"}, Queued: 1},
		},
		{
			name: "open error state 2: close after BIND (initiator returns to Idle)", identical: true,
			run: func(t *testing.T, mode string) outcome {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withKCBs(3), withPeer("B", "B"))
				defer h.close()
				lb := n.listen("B")
				h.submit("m1", 10)
				p := h.acceptOut(lb)
				p.answerCR()
				p.expect(minip1.KindBind)
				p.close()
				return observe(h, p)
			},
			sp0: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [2 20 1 8]"}, Peer: []string{"EOF"}, Queued: 1},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [2 20 1 8]"}, Peer: []string{"EOF"}, Queued: 1},
		},
		{
			name: "HOOK open error: CC then close before BIND (responder state 2)",
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				p := h.connectIn("A.1")
				p.close()
				o := observe(h, p)
				if defective(t, mode, kernel.KBQ152877) {
					s := h.snap()
					b := s.KCBs[1]
					if !b.Leaked || b.Live || b.CallingTSAP != "A.1" || b.Role != "responder" {
						t.Errorf("leaked KCB 1 = %+v, want leaked, not live, calling TSAP A.1, responder", b)
					}
					// It stays leaked: no timer reclaims it.
					time.Sleep(10 * time.Second)
					equal(t, "leaked 10s later", h.snap().Leaked, 1)
				}
				return o
			},
			sp0: outcome{States: []kernel.State{O, I}, Leaked: 1, Events: []string{"1008 kcb=1 [2 26]"}, Peer: []string{"EOF"}},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1008 kcb=1 [2 26]"}, Peer: []string{"EOF"}},
		},
		{
			name: "HOOK error abort: transfer timer (old socket stays attached in sp0)",
			run: func(t *testing.T, mode string) outcome {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withKCBs(3), withPeer("B", "B"))
				defer h.close()
				p, _ := abortByTransferTimer(t, h, n.listen("B"))
				o := observe(h, p)
				// sp0 detaches the stale path `disconnect` later (the retry
				// after open_interval claims KCB 1 meanwhile).
				time.Sleep(200 * time.Millisecond)
				equalSlice(t, "peer after disconnect", p.drain(), []string{"EOF"})
				equal(t, "stale paths after disconnect", h.snap().KCBs[1].StalePaths, 0)
				return o
			},
			sp0: outcome{States: []kernel.State{I, I}, StalePaths: 1, Events: []string{"1004 kcb=1 [3 20 1 4]"}, Peer: []string{"ABORT r=3"}, Queued: 1},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [3 20 1 4]"}, Peer: []string{"ABORT r=3", "EOF"}, Queued: 1},
		},
		{
			name: "T-DISCONNECT of a stale path reaching an Idle KCB is no state check failure", identical: true,
			run: func(t *testing.T, mode string) outcome {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withKCBs(3), withPeer("B", "B"))
				defer h.close()
				p, _ := abortByTransferTimer(t, h, n.listen("B"))
				p.expect(minip1.KindAbort)
				p.close()
				return observe(h, p)
			},
			sp0: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [3 20 1 4]"}, Peer: []string{"EOF"}, Queued: 1},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [3 20 1 4]"}, Peer: []string{"EOF"}, Queued: 1},
		},
		{
			name: "HOOK dispatch: TRANSFER finished after the reassembly abort (responder)",
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				p := h.associateIn("A.1")
				f := frame(transferUnit("m1", 1, []byte("hello")))
				if err := p.write(f[:5]); err != nil {
					t.Fatal(err)
				}
				time.Sleep(400 * time.Millisecond) // > reassembly, < reassembly + disconnect
				err := p.write(f[5:])
				equal(t, "rest of the frame written", err == nil, defective(t, mode, kernel.KBQ152877))
				equal(t, "delivered", len(h.deliveries()), 0)
				return observe(h, p)
			},
			sp0: outcome{States: []kernel.State{I, I}, StalePaths: 1, Events: []string{"1004 kcb=1 [3 27 2 5]", "1198 kcb=1 [0 20 2]"}, Peer: []string{"ABORT r=3"}},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [3 27 2 5]"}, Peer: []string{"ABORT r=3", "EOF"}},
		},
		{
			name: "HOOK dispatch: ACK after the transfer timer (initiator)",
			run: func(t *testing.T, mode string) outcome {
				n := newFakeNet()
				h := startKernel(t, n, "A", mode, withKCBs(3), withPeer("B", "B"))
				defer h.close()
				p, tr := abortByTransferTimer(t, h, n.listen("B"))
				p.expect(minip1.KindAbort)
				time.Sleep(50 * time.Millisecond) // before the retry claims KCB 1 again
				err := p.write(frame(minip1.Unit{Kind: minip1.KindAck, Seq: tr.Seq, MsgID: tr.MsgID}))
				equal(t, "late ACK written", err == nil, defective(t, mode, kernel.KBQ152877))
				o := observe(h, p)
				equal(t, "acked", h.snap().Acked, 0)
				return o
			},
			sp0: outcome{States: []kernel.State{I, I}, StalePaths: 1, Events: []string{"1004 kcb=1 [3 20 1 4]", "1198 kcb=1 [0 20 4]"}, Queued: 1},
			sp2: outcome{States: []kernel.State{I, I}, Events: []string{"1004 kcb=1 [3 20 1 4]"}, Peer: []string{"EOF"}, Queued: 1},
		},
		{
			name: "HOOK inbound CR: same calling TSAP as a leaked KCB",
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				p1 := h.connectIn("A.1")
				p1.close()
				synctest.Wait()
				p2 := h.dialIn()
				p2.send(crUnit("A.1"))
				return observe(h, p2)
			},
			sp0: outcome{States: []kernel.State{O, I}, Leaked: 1, Refused: 1, Events: []string{"1008 kcb=1 [2 26]", "1277 kcb=1"}, Peer: []string{"DR 0x83", "EOF"}},
			sp2: outcome{States: []kernel.State{O, I}, Events: []string{"1008 kcb=1 [2 26]"}, Peer: []string{"CC"}},
		},
		{
			name: "pool pressure: more inbound connections than KCBs", identical: true,
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				h.connectIn("A.1")
				h.connectIn("A.2")
				p3 := h.dialIn()
				p3.send(crUnit("A.3"))
				return observe(h, p3)
			},
			sp0: outcome{States: []kernel.State{O, O}, Refused: 1, Events: []string{"1277 kcb=2"}, Peer: []string{"DR 0x81", "EOF"}},
			sp2: outcome{States: []kernel.State{O, O}, Refused: 1, Events: []string{"1277 kcb=2"}, Peer: []string{"DR 0x81", "EOF"}},
		},
		{
			name: "HOOK open error under pool pressure: 1277 names the leaked KCB",
			run: func(t *testing.T, mode string) outcome {
				h := startKernel(t, newFakeNet(), "B", mode, withKCBs(3))
				defer h.close()
				h.connectIn("A.1").close()
				synctest.Wait()
				h.connectIn("A.2")
				p3 := h.dialIn()
				p3.send(crUnit("A.3"))
				return observe(h, p3)
			},
			sp0: outcome{States: []kernel.State{O, O}, Leaked: 1, Refused: 1, Events: []string{"1008 kcb=1 [2 26]", "1277 kcb=1"}, Peer: []string{"DR 0x81", "EOF"}},
			sp2: outcome{States: []kernel.State{O, O}, Events: []string{"1008 kcb=1 [2 26]"}, Peer: []string{"CC"}},
		},
	}
	// The two builds, then the defect moved: into the fixed build (which
	// must then behave as sp0) and out of the defective one (as sp2).
	variants := []string{sp0, sp2, sp2 + "+" + kernel.KBQ152877, sp0 + "+"}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			got := map[string]outcome{}
			for _, mode := range variants {
				t.Run(mode, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						o := row.run(t, mode)
						want := row.sp2
						if defective(t, mode, kernel.KBQ152877) {
							want = row.sp0
						}
						if !reflect.DeepEqual(o, want) {
							t.Errorf("outcome:\n got  %+v\n want %+v", o, want)
						}
						got[mode] = o
					})
				})
			}
			if len(got) != len(variants) {
				return
			}
			if same := reflect.DeepEqual(got[sp0], got[sp2]); same != row.identical {
				t.Errorf("sp0 and sp2 outcomes identical = %v, want %v:\n sp0 %+v\n sp2 %+v", same, row.identical, got[sp0], got[sp2])
			}
		})
	}
}

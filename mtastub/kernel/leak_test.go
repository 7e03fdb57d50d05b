package kernel_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// leakPattern makes n state-2 open errors on an sp0 responder (each with
// its own calling TSAP) and reports, per attempt, whether its KCB leaked.
func leakPattern(t *testing.T, n int, opts ...option) []bool {
	var out []bool
	synctest.Test(t, func(t *testing.T) {
		h := startKernel(t, newFakeNet(), "B", sp0, append([]option{withKCBs(n + 1)}, opts...)...)
		defer h.close()
		leaked := 0
		for i := range n {
			h.connectIn("A." + strconv.Itoa(i+1)).close()
			now := h.snap().Leaked
			if now != leaked && now != leaked+1 {
				t.Fatalf("attempt %d: leaked went from %d to %d", i, leaked, now)
			}
			out = append(out, now == leaked+1)
			leaked = now
		}
		equal(t, "1008 count", h.log.Count(eventlog.IDAssocErrorAnon), n)
	})
	return out
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

func TestLeakProbability(t *testing.T) {
	const n = 32
	t.Run("default is always", func(t *testing.T) {
		equal(t, "leaks", count(leakPattern(t, n)), n)
	})
	t.Run("1 is always", func(t *testing.T) {
		equal(t, "leaks", count(leakPattern(t, n, withLeak(1), withSeed(3))), n)
	})
	t.Run("0 is never", func(t *testing.T) {
		equal(t, "leaks", count(leakPattern(t, n, withLeak(0), withSeed(3))), 0)
	})
	t.Run("0.5 is seeded", func(t *testing.T) {
		a := leakPattern(t, n, withLeak(0.5), withSeed(42))
		b := leakPattern(t, n, withLeak(0.5), withSeed(42))
		if !slices.Equal(a, b) {
			t.Fatalf("same seed, different leaks:\n %v\n %v", a, b)
		}
		if c := count(a); c == 0 || c == n {
			t.Fatalf("p=0.5 leaked %d of %d: the draw is not used", c, n)
		}
		// Some other seed gives another pattern: the seed is what decides.
		differs := false
		for seed := int64(1); seed <= 4 && !differs; seed++ {
			differs = !slices.Equal(a, leakPattern(t, n, withLeak(0.5), withSeed(seed)))
		}
		if !differs {
			t.Fatalf("seeds 1..4 all give seed 42's pattern %v", a)
		}
	})
}

func TestLeakProbabilityOutOfRange(t *testing.T) {
	for _, p := range []float64{-0.1, 1.5} {
		_, err := kernel.Start(kernel.Config{Name: "B", Listener: newFakeNet().listen("B"), Dial: newFakeNet().Dial,
			Events: eventlog.NewLog("B", nil), LeakProbability: &p})
		if err == nil {
			t.Errorf("leak probability %v accepted", p)
		}
	}
}

// ---------------------------------------------------------------------------
// 4. Exactly once

// After a cut, the initiator re-sends on the next association what was not
// acknowledged, and only that.
func TestResendAfterCut(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		st := store.NewMemory()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"), withStore(st))
		defer h.close()
		lb := n.listen("B")
		h.submit("m1", 100)
		h.submit("m2", 100)
		p, _ := h.associateOut(lb)
		t1 := p.expect(minip1.KindTransfer)
		t2 := p.expect(minip1.KindTransfer)
		equalSlice(t, "ids", []string{t1.MsgID, t2.MsgID}, []string{"m1", "m2"})
		p.send(minip1.Unit{Kind: minip1.KindAck, Seq: t1.Seq, MsgID: "m1"})
		equal(t, "acked", h.snap().Acked, 1)
		p.close() // cut with m2 unacknowledged
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [3 20 1 1]"})
		equal(t, "queued", h.snap().Queued, 1)

		p2, _ := h.associateOut(lb)
		r := p2.expect(minip1.KindTransfer)
		equal(t, "re-sent id", r.MsgID, "m2")
		equal(t, "re-sent seq", r.Seq, uint32(1))
		p2.send(minip1.Unit{Kind: minip1.KindAck, Seq: r.Seq, MsgID: "m2"})
		equalSlice(t, "nothing more sent", p2.drain(), nil)
		s := h.snap()
		equal(t, "acked", s.Acked, 2)
		equal(t, "resent", s.Resent, 1)
		equal(t, "queued", s.Queued, 0)
		q, _ := st.Queued("B")
		equal(t, "store queue", len(q), 0)
	})
}

// The responder answers a repeated message id with ACK result 1 and
// delivers it once, across associations.
func TestDuplicateDeliveredOnce(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		p := h.associateIn("A.1")
		p.send(transferUnit("m1", 1, []byte("one")))
		equal(t, "first ACK", unitString(p.expect(minip1.KindAck)), "ACK m1 r=0")
		p.close()
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [3 26 2 1]"})

		p2 := h.associateIn("A.2")
		p2.send(transferUnit("m1", 1, []byte("one")))
		equal(t, "repeat ACK", unitString(p2.expect(minip1.KindAck)), "ACK m1 r=1")
		p2.send(transferUnit("m2", 2, []byte("two")))
		equal(t, "new ACK", unitString(p2.expect(minip1.KindAck)), "ACK m2 r=0")
		p2.send(transferUnit("m1", 3, []byte("one")))
		equal(t, "repeat ACK", unitString(p2.expect(minip1.KindAck)), "ACK m1 r=1")

		s := h.snap()
		equal(t, "delivered", s.Delivered, 2)
		equal(t, "duplicates", s.Duplicates, 2)
		var ids []string
		for _, d := range h.deliveries() {
			ids = append(ids, d.ID)
			equal(t, "delivery from", d.From, "A")
		}
		equalSlice(t, "deliveries", ids, []string{"m1", "m2"})
	})
}

// relay forwards frames between the connections kernel A dials to addr
// "relay" and kernel B's listener. cut is asked about every frame from B;
// when it says so, the frame is swallowed and both connections are closed.
type relay struct {
	n   *fakeNet
	l   *fakeListener
	cut func(from string, u minip1.Unit) bool
}

func (r *relay) run() {
	for {
		a, err := r.l.Accept()
		if err != nil {
			return
		}
		b, err := r.n.Dial(context.Background(), "B")
		if err != nil {
			_ = a.Close()
			continue
		}
		closeBoth := func() { _ = a.Close(); _ = b.Close() }
		pump := func(from string, src, dst interface {
			Read([]byte) (int, error)
			Write([]byte) (int, error)
		}) {
			defer closeBoth()
			rd := minip1.NewReader(src, minip1.MaxFrame)
			for {
				f, err := rd.ReadFrame()
				if err != nil {
					return
				}
				u, err := minip1.Decode(f)
				if err == nil && r.cut(from, u) {
					return
				}
				if _, err := dst.Write(f); err != nil {
					return
				}
			}
		}
		go pump("A", a, b)
		go pump("B", b, a)
	}
}

// Two kernels through a relay that loses B's first ACK and cuts the link:
// A re-sends, B answers "duplicate", and the message is delivered once.
func TestExactlyOnceAcrossCut(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		hb := startKernel(t, n, "B", mode)
		// Window 1: exactly one message is in flight when the link is cut.
		ha := startKernel(t, n, "A", mode, withPeer("B", "relay"), withWindow(1))
		r := &relay{n: n, l: n.listen("relay")}
		var acks atomic.Int32
		r.cut = func(from string, u minip1.Unit) bool {
			// Lose the second ACK (m2's) and cut the link.
			return from == "B" && u.Kind == minip1.KindAck && acks.Add(1) == 2
		}
		go r.run()
		defer func() {
			ha.close()
			hb.close()
		}()
		for i := 1; i <= 4; i++ {
			ha.submit("m"+strconv.Itoa(i), 100*i)
		}
		time.Sleep(3 * time.Second) // retry, re-send, lifetime, release
		sa, sb := ha.snap(), hb.snap()
		equal(t, "A acked", sa.Acked, 4)
		equal(t, "A resent", sa.Resent, 1) // m2, whose ACK was lost
		equal(t, "A queued", sa.Queued, 0)
		equal(t, "B delivered", sb.Delivered, 4)
		equal(t, "B duplicates", sb.Duplicates, 1)
		var ids []string
		for _, d := range hb.deliveries() {
			ids = append(ids, d.ID)
		}
		equalSlice(t, "deliveries", ids, []string{"m1", "m2", "m3", "m4"})
		equal(t, "A baseline", sa.Baseline(), true)
		equal(t, "B baseline", sb.Baseline(), true)
		equalSlice(t, "A events", ha.events(), []string{"1004 kcb=1 [3 20 1 1]"})
		equalSlice(t, "B events", hb.events(), []string{"1004 kcb=1 [3 26 2 1]"})
	})
}

// The Q152877 story end to end: B (sp0) leaks a KCB when A's association
// breaks in state 2; A restarts, its calling TSAP counts from 1 again, and
// B refuses it as a duplicate (DR 0x83, 1277 naming the leaked KCB) until
// A's next attempt uses a new TSAP. In sp2 nothing is refused.
func TestRestartCollidesWithLeakedKCB(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		hb := startKernel(t, n, "B", mode)
		st := store.NewMemory()
		ha := startKernel(t, n, "A", sp2, withPeer("B", "relay"), withStore(st))
		r := &relay{n: n, l: n.listen("relay")}
		var cutting atomic.Bool
		cutting.Store(true)
		r.cut = func(from string, u minip1.Unit) bool { return cutting.Load() && u.Kind == minip1.KindBind }
		go r.run()
		defer func() {
			ha.close()
			hb.close()
		}()
		ha.submit("m1", 100)
		synctest.Wait()
		// A's open error (2 20 1 8); B's open error (2 26) and, in sp0, a leak of KCB 1.
		equalSlice(t, "A events", ha.events(), []string{"1004 kcb=1 [2 20 1 8]"})
		equalSlice(t, "B events", hb.events(), []string{"1008 kcb=1 [2 26]"})
		ha.stopKernel() // before the retry
		cutting.Store(false)
		equal(t, "B leaked", hb.snap().Leaked, boolToInt(mode == sp0))

		ha.restart()
		time.Sleep(2 * time.Second)
		if mode == sp0 {
			equalSlice(t, "A events", ha.events(), []string{"1004 kcb=1 [2 20 1 8]", "1004 kcb=1 [1 20 1 9]"})
			equalSlice(t, "B events", hb.events(), []string{"1008 kcb=1 [2 26]", "1277 kcb=1"})
			equal(t, "B leaked", hb.snap().Leaked, 1)
		} else {
			equalSlice(t, "A events", ha.events(), []string{"1004 kcb=1 [2 20 1 8]"})
			equalSlice(t, "B events", hb.events(), []string{"1008 kcb=1 [2 26]"})
			equal(t, "B baseline", hb.snap().Baseline(), true)
		}
		equal(t, "B delivered", hb.snap().Delivered, 1)
		equal(t, "A queued", ha.snap().Queued, 0)
	})
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// 5. Malformed frames

func TestMalformedFrame(t *testing.T) {
	cr := frame(crUnit("A.9"))
	bad := map[string][]byte{
		"TPKT version 4":        {0x04, 0x00, cr[2], cr[3]},
		"TPKT length 3":         {0x03, 0x00, 0x00, 0x03},
		"TPKT length 65535":     {0x03, 0x00, 0xFF, 0xFF},
		"garbage TP0 code":      {0x03, 0x00, 0x00, 0x0A, 0x05, 0x99, 0x01, 0x02, 0x03, 0x04},
		"unknown SI":            {0x03, 0x00, 0x00, 0x09, 0x02, 0xF0, 0x80, 0x77, 0x00},
		"parameter past the LI": {0x03, 0x00, 0x00, 0x0C, 0x02, 0xF0, 0x80, 0x14, 0x03, 0x0A, 0x09, 0x01},
	}
	for name, b := range bad {
		if len(b) >= minip1.MinFrame && int(b[2])<<8|int(b[3]) == len(b) {
			if _, err := minip1.Decode(b); !errors.Is(err, minip1.ErrMalformed) {
				t.Fatalf("%s: precondition: Decode = %v, want ErrMalformed", name, err)
			}
		}
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			for _, where := range []string{"responder state 1", "responder state 3", "initiator state 1"} {
				t.Run(where, func(t *testing.T) {
					forModes(t, func(t *testing.T, mode string) {
						malformed(t, mode, where, b)
					})
				})
			}
		})
	}
}

func malformed(t *testing.T, mode string, where string, b []byte) {
	n := newFakeNet()
	var h *harness
	var p *peer
	var want []string
	var peerWants []string
	switch where {
	case "responder state 1":
		h = startKernel(t, n, "B", mode)
		p = h.dialIn()
		want, peerWants = []string{"1008 kcb=1 [1 28]"}, []string{"ER", "EOF"}
	case "responder state 3":
		h = startKernel(t, n, "B", mode)
		p = h.associateIn("A.1")
		want, peerWants = []string{"1004 kcb=1 [3 28 2 6]"}, []string{"ABORT r=4", "EOF"}
	case "initiator state 1":
		h = startKernel(t, n, "A", mode, withPeer("B", "B"))
		lb := n.listen("B")
		h.submit("m1", 10)
		p = h.acceptOut(lb)
		p.expect(minip1.KindCR)
		want, peerWants = []string{"1004 kcb=1 [1 20 1 8]"}, []string{"ER", "EOF"}
	}
	defer h.close()
	if err := p.write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
	equalSlice(t, "events", h.events(), want)
	if where == "initiator state 1" {
		equalSlice(t, "peer", p.drain(), peerWants)
		equalSlice(t, "states", h.states(), idle(7))
		return
	}
	time.Sleep(200 * time.Millisecond) // disconnect: sp0's stale path goes too
	equalSlice(t, "peer", p.drain(), peerWants)
	s := h.snap()
	equalSlice(t, "states", h.states(), idle(7))
	equal(t, "leaked", s.Leaked, 0)
	equal(t, "stale paths", s.KCBs[1].StalePaths, 0)
	// The kernel still works.
	p2 := h.associateIn("A.2")
	p2.send(transferUnit("m9", 1, []byte("ok")))
	equal(t, "ACK", unitString(p2.expect(minip1.KindAck)), "ACK m9 r=0")
}

// ---------------------------------------------------------------------------
// 6. Stop

// Stop on a busy kernel (a dial hanging, an association mid-frame, one in
// OpenPending, a refusal waiting for its CR, in sp0 a stale path and a
// leaked KCB) returns at once and leaves no goroutine behind.
func TestStopLeavesNoGoroutine(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "B", mode, withKCBs(6), withPeer("C", "C"))
		defer h.close()
		n.setHang("C", true)
		if err := h.k.Submit(context.Background(), store.Message{ID: "x", To: "C"}); err != nil {
			t.Fatal(err)
		}
		p1 := h.associateIn("A.1") // KCB 2: mid-frame
		if err := p1.write(frame(transferUnit("m1", 1, []byte("abc")))[:6]); err != nil {
			t.Fatal(err)
		}
		h.connectIn("A.2")         // KCB 3: OpenPending
		h.connectIn("A.3").close() // KCB 4: leaked in sp0
		synctest.Wait()
		p4 := h.associateIn("A.4") // KCB 4 or 5: error abort, stale path in sp0
		if err := p4.write([]byte{0x04, 0, 0, 7}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h.connectIn("A.5")
		if mode == sp2 {
			h.connectIn("A.6")
		}
		p6 := h.dialIn() // refused: no Idle KCB
		s := h.snap()
		equal(t, "refused", s.Refused, 1)
		equal(t, "idle", s.Idle, 0)
		if mode == sp0 {
			equal(t, "leaked", s.Leaked, 1)
			stale := 0
			for _, b := range s.KCBs {
				stale += b.StalePaths
			}
			equal(t, "stale paths", stale, 1)
		}
		if len(kernelGoroutines()) == 0 {
			t.Fatal("no kernel goroutine seen before Stop: the check below proves nothing")
		}

		t0 := time.Now()
		if err := h.k.Stop(context.Background()); err != nil {
			t.Fatalf("stop: %v", err)
		}
		equal(t, "Stop took (virtual)", time.Since(t0), time.Duration(0))
		synctest.Wait()
		if g := kernelGoroutines(); len(g) > 0 {
			t.Fatalf("%d kernel goroutines after Stop:\n%s", len(g), g[0])
		}
		for _, p := range []*peer{p1, p6} {
			if !slices.Contains(p.drain(), "EOF") {
				t.Errorf("a connection is still open after Stop")
			}
		}
		if err := h.k.Submit(context.Background(), store.Message{ID: "y", To: "C"}); !errors.Is(err, kernel.ErrStopped) {
			t.Errorf("Submit after Stop = %v, want ErrStopped", err)
		}
		if _, err := h.k.Snapshot(context.Background()); !errors.Is(err, kernel.ErrStopped) {
			t.Errorf("Snapshot after Stop = %v, want ErrStopped", err)
		}
		if _, err := n.Dial(context.Background(), "B"); err == nil {
			t.Errorf("the listener is still open after Stop")
		}
	})
	if !t.Failed() {
		goleak.VerifyNone(t)
	}
}

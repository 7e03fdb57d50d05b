package kernel_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mtastorm/mtastorm/minip1"
)

// A peer that opens more partial messages than the window is aborted as a
// protocol error: a legitimate initiator never has more than window
// messages in flight, and each partial message costs the responder a
// buffer (up to 64 KiB for a first segment announcing 16 MB).
func TestHostileTooManyPartialMessages(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		p := h.associateIn("A.1") // window 4
		for i := range 4 {
			p.send(minip1.Unit{Kind: minip1.KindTransfer, Seq: 1, MsgID: fmt.Sprintf("p%d", i), Payload: []byte("x"), Total: 16 << 20})
		}
		equalSlice(t, "events after the window's worth", h.events(), nil)
		p.send(minip1.Unit{Kind: minip1.KindTransfer, Seq: 1, MsgID: "p4", Payload: []byte("x"), Total: 16 << 20})
		equalSlice(t, "events", h.events(), []string{"1004 kcb=1 [3 20 2 6]"})
		if got := p.drain(); len(got) == 0 || got[0] != "ABORT r=4" {
			t.Fatalf("peer got %v, want ABORT r=4 first", got)
		}
	})
}

// A peer that sends TRANSFERs and never reads the ACKs fails the
// association once a bounded number of frames wait for it, rather than
// have the responder queue an ACK (each in an 8 KiB buffer) per message.
func TestHostileUnreadAcks(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		c, err := h.net.Dial(context.Background(), "B")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := minip1.NewReader(c, minip1.MaxFrame)
		if _, err := c.Write(frame(crUnit("A.1"))); err != nil {
			t.Fatal(err)
		}
		if u, err := r.ReadUnit(); err != nil || u.Kind != minip1.KindCC {
			t.Fatalf("got %v %v, want CC", u.Kind, err)
		}
		if _, err := c.Write(frame(minip1.Unit{Kind: minip1.KindBind, MTAName: dnA, AssocID: 1, Window: 4})); err != nil {
			t.Fatal(err)
		}
		if u, err := r.ReadUnit(); err != nil || u.Kind != minip1.KindBindAccept {
			t.Fatalf("got %v %v, want BIND-ACCEPT", u.Kind, err)
		}
		// From here on nothing is read: net.Pipe blocks the kernel's writer at once.
		sent := 0
		for i := range 1000 {
			if _, err := c.Write(frame(transferUnit(fmt.Sprintf("m%d", i), 1, []byte("x")))); err != nil {
				break
			}
			sent++
		}
		ev := h.events()
		if len(ev) == 0 || ev[0] != "1004 kcb=1 [3 20 2 6]" {
			t.Fatalf("events %v, want 1004 kcb=1 [3 20 2 6] first", ev)
		}
		for _, e := range ev[1:] {
			// sp0 keeps the old socket attached for `disconnect`, and what
			// it still carries reaches the Idle KCB: 1198, by design.
			if mode != sp0 || e != "1198 kcb=1 [0 20 2]" {
				t.Fatalf("unexpected event %s after the 1004 (%s)", e, mode)
			}
		}
		s := h.snap()
		if s.Delivered >= sent || s.Delivered > 4*4+16+2 {
			t.Fatalf("delivered %d of %d sent: the unread ACKs were not bounded", s.Delivered, sent)
		}
		t.Logf("%s: %d TRANSFERs written before the kernel gave up, %d delivered", mode, sent, s.Delivered)
	})
}

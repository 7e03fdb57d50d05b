package kernel_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// wireSizes cross every way a payload leaves: inline in one frame (up to
// 2 KiB), by reference in one frame, and segmented, up to several writevs.
var wireSizes = []int{0, 1, 2048, 2049, 8100, 8200, 64 << 10, 200000}

func wirePayload(i, size int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte(j*31 + j>>8 + i*7)
	}
	return b
}

// Whatever its size, a message reaches the peer as exactly the bytes
// submitted, in frames within the negotiated size, with the window's worth
// of messages queued at once (one writev for several messages' frames).
func TestSegmentedTransferOnTheWire(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		n := newFakeNet()
		h := startKernel(t, n, "A", mode, withPeer("B", "B"))
		defer h.close()
		lb := n.listen("B")
		want := map[string][]byte{}
		for i, size := range wireSizes {
			id := fmt.Sprintf("m%d", i)
			want[id] = wirePayload(i, size)
			if err := h.k.Submit(context.Background(), store.Message{ID: id, To: "B", Payload: want[id]}); err != nil {
				t.Fatal(err)
			}
		}
		p, _ := h.associateOut(lb) // CC offers 1<<13
		r := minip1.NewReassembler(0)
		for got := 0; got < len(wireSizes); {
			u := p.expect(minip1.KindTransfer)
			if n, err := minip1.EncodedLen(&u); err != nil || n > 1<<13 {
				t.Fatalf("%s seq %d: a frame of %d bytes (%v), over the negotiated 8192", u.MsgID, u.Seq, n, err)
			}
			msg, done, err := r.Add(&u)
			if err != nil {
				t.Fatal(err)
			}
			if !done {
				continue
			}
			if !bytes.Equal(msg, want[u.MsgID]) {
				t.Fatalf("%s: the peer got %d bytes that differ from the %d submitted", u.MsgID, len(msg), len(want[u.MsgID]))
			}
			delete(want, u.MsgID)
			got++
			p.send(minip1.Unit{Kind: minip1.KindAck, Seq: u.Seq, MsgID: u.MsgID})
		}
		s := h.snap()
		equal(t, "acked", s.Acked, len(wireSizes))
		equal(t, "queued", s.Queued, 0)
	})
}

// Segmented messages are reassembled and delivered once each whether they
// arrive in one burst or in odd pieces (a frame header split across reads,
// a frame byte by byte).
func TestSegmentedReceive(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		h := startKernel(t, newFakeNet(), "B", mode)
		defer h.close()
		p := h.associateIn("A.1")
		pieces := []int{0, 1000, 1, 7} // 0: the whole message in one write
		seq := uint32(1)
		var want []int
		for i, size := range wireSizes {
			if pieces[i%len(pieces)] == 1 && size > 10000 {
				size = 10000 // byte by byte: two frames are enough
			}
			id := fmt.Sprintf("m%d", i)
			segs := minip1.Segment(id, 0, seq, wirePayload(i, size), 1<<13)
			seq += uint32(len(segs))
			var stream []byte
			for _, s := range segs {
				stream = append(stream, frame(s)...)
			}
			step := pieces[i%len(pieces)]
			if step == 0 {
				step = len(stream)
			}
			for len(stream) > 0 {
				k := min(step, len(stream))
				if err := p.write(stream[:k]); err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				stream = stream[k:]
			}
			ack := p.expect(minip1.KindAck)
			if ack.MsgID != id || ack.Seq != seq-1 || ack.Result != minip1.ResultAccepted {
				t.Fatalf("ACK %s seq %d result %d, want %s seq %d accepted", ack.MsgID, ack.Seq, ack.Result, id, seq-1)
			}
			want = append(want, size)
		}
		var got []int
		for _, d := range h.deliveries() {
			got = append(got, d.Size)
		}
		equalSlice(t, "delivered sizes", got, want)
		equalSlice(t, "events", h.events(), nil)
	})
}

package minip1

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestSegmentRoundTrip(t *testing.T) {
	for _, frameMax := range []int{64, 128, 300, 1024, 8192, MaxFrame} {
		for _, prio := range []uint8{0, 3} {
			id := "msg-" + strings.Repeat("x", frameMax%17)
			capacity := SegmentCapacity(id, prio, frameMax)
			if capacity < 1 {
				t.Fatalf("frameMax %d: capacity %d", frameMax, capacity)
			}
			sizes := map[string]int{
				"empty": 0, "one byte": 1, "one frame": capacity, "one frame plus one": capacity + 1,
				"several frames": 3*capacity + 5, "exact multiple": 4 * capacity,
			}
			if frameMax == MaxFrame {
				sizes["large"] = 1 << 20
			}
			for name, size := range sizes {
				t.Run(fmt.Sprintf("%d/prio%d/%s", frameMax, prio, name), func(t *testing.T) {
					payload := pattern(size)
					segs := Segment(id, prio, 41, payload, frameMax)
					wantN := max(1, (size+capacity-1)/capacity)
					if len(segs) != wantN {
						t.Fatalf("%d segments, want %d", len(segs), wantN)
					}
					r := NewReassembler(1 << 21)
					for i, s := range segs {
						if s.Kind != KindTransfer || s.Seq != 41+uint32(i) || s.MsgID != id || s.Priority != prio || s.Total != uint32(size) {
							t.Fatalf("segment %d: %+v", i, s)
						}
						if s.Last() != (i == len(segs)-1) {
							t.Fatalf("segment %d: Flags %#x", i, s.Flags)
						}
						frame, err := AppendFrame(nil, &s, frameMax)
						if err != nil {
							t.Fatalf("segment %d: %v", i, err)
						}
						if name == "one frame" && prio != 0 && len(frame) != frameMax {
							t.Errorf("full segment of %d bytes, want exactly %d", len(frame), frameMax)
						}
						u, err := Decode(frame)
						if err != nil {
							t.Fatalf("segment %d: %v", i, err)
						}
						msg, done, err := r.Add(&u)
						if err != nil {
							t.Fatalf("segment %d: Add: %v", i, err)
						}
						if done != (i == len(segs)-1) {
							t.Fatalf("segment %d: done %v", i, done)
						}
						if done {
							if !bytes.Equal(msg, payload) || msg == nil {
								t.Fatalf("reassembled %d bytes, want %d", len(msg), len(payload))
							}
						} else if r.Pending() != 1 {
							t.Fatalf("Pending = %d", r.Pending())
						}
					}
					if r.Pending() != 0 {
						t.Errorf("Pending = %d after the last segment", r.Pending())
					}
				})
			}
		}
	}
}

func TestSegmentCapacityIsTight(t *testing.T) {
	for frameMax := 40; frameMax < 700; frameMax++ {
		c := SegmentCapacity("id", 1, frameMax)
		u := Unit{Kind: KindTransfer, Seq: 1, Flags: FlagLast, MsgID: "id", Priority: 1, Total: 1, Payload: make([]byte, c+1)}
		n, err := EncodedLen(&u)
		if err != nil || n <= frameMax {
			t.Fatalf("frameMax %d: capacity %d is not the largest (len %d, err %v)", frameMax, c, n, err)
		}
		u.Payload = u.Payload[:c]
		n, _ = EncodedLen(&u)
		if c > 0 && n > frameMax {
			t.Fatalf("frameMax %d: capacity %d gives %d bytes", frameMax, c, n)
		}
		if oh := SegmentOverhead("id", frameMax); c > 0 && oh+c != n {
			t.Fatalf("frameMax %d: overhead %d + capacity %d != %d", frameMax, oh, c, n)
		}
	}
}

func TestSegmentTooSmall(t *testing.T) {
	if segs := Segment("id", 0, 0, []byte("x"), 20); segs != nil {
		t.Errorf("Segment with frameMax 20 = %v", segs)
	}
	if _, err := SegmentChecked("id", 0, 0, nil, 20); !errors.Is(err, ErrExceedsMax) {
		t.Errorf("empty message in 20 bytes: %v", err)
	}
	if _, err := SegmentChecked(strings.Repeat("i", 70000), 0, 0, nil, 0); !errors.Is(err, ErrExceedsMax) {
		t.Errorf("huge msgID: %v", err)
	}
	if SegmentCapacity("id", 0, 20) != 0 {
		t.Errorf("capacity in 20 bytes = %d", SegmentCapacity("id", 0, 20))
	}
}

func TestSegmentAliasesPayload(t *testing.T) {
	payload := pattern(1000)
	segs := Segment("m", 0, 0, payload, 128)
	for _, s := range segs {
		if cap(s.Payload) != len(s.Payload) {
			t.Fatalf("segment capacity %d > length %d", cap(s.Payload), len(s.Payload))
		}
	}
}

func TestReassemblerErrors(t *testing.T) {
	seg := func(seq uint32, total uint32, payload string, last bool) *Unit {
		u := &Unit{Kind: KindTransfer, MsgID: "m", Seq: seq, Total: total, Payload: []byte(payload)}
		if last {
			u.Flags = FlagLast
		}
		return u
	}
	tests := []struct {
		name   string
		units  []*Unit
		reason string
	}{
		{"gap", []*Unit{seg(1, 6, "ab", false), seg(3, 6, "cd", false)}, "seq gap, want 2"},
		{"repeat", []*Unit{seg(1, 6, "ab", false), seg(1, 6, "ab", false)}, "seq gap, want 2"},
		{"overflow", []*Unit{seg(1, 3, "ab", false), seg(2, 3, "cd", true)}, "overflows total 3"},
		{"overflow in first", []*Unit{seg(1, 1, "ab", true)}, "overflows total 1"},
		{"limit", []*Unit{seg(1, 11, "ab", false)}, "total 11 exceeds limit 10"},
		{"total changes", []*Unit{seg(1, 6, "ab", false), seg(2, 5, "cd", false)}, "differs"},
		{"short", []*Unit{seg(1, 6, "ab", false), seg(2, 6, "cd", true)}, "at 4 of 6 bytes"},
		{"not transfer", []*Unit{{Kind: KindAck, MsgID: "m"}}, "not TRANSFER"},
		{"nil", []*Unit{nil}, "not TRANSFER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReassembler(10)
			var err error
			for i, u := range tt.units {
				_, _, err = r.Add(u)
				if i < len(tt.units)-1 && err != nil {
					t.Fatalf("segment %d: %v", i, err)
				}
			}
			if !errors.Is(err, ErrReassembly) || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("error %v, want ErrReassembly with %q", err, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "minip1: ") {
				t.Errorf("error %q lacks the minip1: prefix", err)
			}
			if r.Pending() != 0 {
				t.Errorf("Pending = %d after an error", r.Pending())
			}
		})
	}
}

func TestReassemblerInterleavedAndReset(t *testing.T) {
	r := NewReassembler(0)
	a := Segment("a", 0, 1, []byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 64)
	b := Segment("b", 0, 100, []byte("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), 64)
	if len(a) < 2 || len(b) < 2 {
		t.Fatalf("want several segments, got %d and %d", len(a), len(b))
	}
	for i := range a {
		for _, u := range []*Unit{&a[i], &b[i]} {
			msg, done, err := r.Add(u)
			if err != nil {
				t.Fatal(err)
			}
			if done && (len(msg) != 56 || msg[0] != u.MsgID[0]) {
				t.Fatalf("message %s: %q", u.MsgID, msg)
			}
		}
		if i < len(a)-1 && r.Pending() != 2 {
			t.Fatalf("Pending = %d", r.Pending())
		}
	}
	if r.Pending() != 0 {
		t.Fatalf("Pending = %d", r.Pending())
	}
	r.Add(&a[0])
	r.Add(&b[0])
	r.Reset()
	if r.Pending() != 0 {
		t.Fatalf("Pending = %d after Reset", r.Pending())
	}
	// After Reset the first segment starts the message afresh.
	if _, _, err := r.Add(&a[0]); err != nil {
		t.Fatal(err)
	}
}

func TestReassemblerOneSegmentIsThePayload(t *testing.T) {
	r := NewReassembler(100)
	u := &Unit{Kind: KindTransfer, MsgID: "m", Flags: FlagLast, Total: 3, Payload: []byte("abc")}
	msg, done, err := r.Add(u)
	if err != nil || !done || string(msg) != "abc" {
		t.Fatalf("Add = %q, %v, %v", msg, done, err)
	}
	if &msg[0] != &u.Payload[0] {
		t.Errorf("a one-segment message was copied")
	}
}

// TestReassemblerReusesItsBuffer: a segmented message never aliases its
// segments, stays intact until the next Add, and the next message is built
// in the same memory, without allocating.
func TestReassemblerReusesItsBuffer(t *testing.T) {
	r := NewReassembler(4 << 20)
	add := func(id string, payload []byte) []byte {
		t.Helper()
		segs := Segment(id, 0, 1, payload, 128)
		if len(segs) < 3 {
			t.Fatalf("%d segments, want several", len(segs))
		}
		for i := range segs {
			msg, done, err := r.Add(&segs[i])
			if err != nil || done != (i == len(segs)-1) {
				t.Fatalf("segment %d: done %v, %v", i, done, err)
			}
			if done {
				return msg
			}
		}
		return nil
	}
	a := pattern(1000)
	m1 := add("m1", a)
	if !bytes.Equal(m1, a) || &m1[0] == &a[0] {
		t.Fatalf("first message: %d bytes, aliases the payload: %v", len(m1), &m1[0] == &a[0])
	}
	a[0]++ // the segments alias a: the message must not
	if m1[0] == a[0] {
		t.Fatal("message aliases its segments")
	}
	b := bytes.Repeat([]byte{'b'}, 900)
	m2 := add("m2", b)
	if !bytes.Equal(m2, b) {
		t.Fatal("second message corrupted")
	}
	if &m2[0] != &m1[0] {
		t.Error("second message not built in the first one's buffer")
	}
	segs := Segment("m3", 0, 1, a, 128)
	allocs := testing.AllocsPerRun(100, func() {
		for i := range segs {
			if _, _, err := r.Add(&segs[i]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per message once warm, want 0", allocs)
	}
	big := Segment("big", 0, 1, pattern(maxSpare+1), MaxFrame)
	for i := range big {
		if _, _, err := r.Add(&big[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := r.Add(&segs[0]); err != nil { // the big buffer is given back here
		t.Fatal(err)
	}
	if cap(r.parts["m3"].buf) > maxSpare {
		t.Errorf("a %d-byte buffer was kept, limit %d", cap(r.parts["m3"].buf), maxSpare)
	}
	r.Reset()
	if r.spare != nil || r.lent != nil {
		t.Error("Reset kept a buffer")
	}
}

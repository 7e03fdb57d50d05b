package minip1

import (
	"bytes"
	"io"
	"strconv"
	"testing"
)

// benchUnits are the units on a transfer's hot path: a TRANSFER segment of
// each figure size (64 KiB is segmented into 8 KiB frames) and its ACK.
func benchUnits() []struct {
	name string
	u    Unit
} {
	var out []struct {
		name string
		u    Unit
	}
	for _, n := range []int{64, 1 << 10, 8 << 10} {
		payload := bytes.Repeat([]byte{'x'}, n)
		if n == 8<<10 {
			payload = payload[:SegmentCapacity("m0000001", 0, 1<<DefaultTPDUSizeLog2)]
		}
		out = append(out, struct {
			name string
			u    Unit
		}{"transfer-" + strconv.Itoa(len(payload)) + "B", Unit{Kind: KindTransfer, Seq: 7, Flags: FlagLast, MsgID: "m0000001", Payload: payload, Total: uint32(len(payload))}})
	}
	out = append(out, struct {
		name string
		u    Unit
	}{"ack", Unit{Kind: KindAck, Seq: 7, Result: ResultAccepted, MsgID: "m0000001"}})
	return out
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, c := range benchUnits() {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, MaxFrame)
			b.ReportAllocs()
			for b.Loop() {
				f, err := AppendFrame(buf[:0], &c.u, MaxFrame)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(f)))
			}
		})
	}
}

// BenchmarkAppendFrameParts is AppendFrame without the payload copy: the
// cost left to encode a segment written with writev.
func BenchmarkAppendFrameParts(b *testing.B) {
	for _, c := range benchUnits() {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, MaxFrame)
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := AppendFrameParts(buf[:0], &c.u, MaxFrame); err != nil {
					b.Fatal(err)
				}
			}
			n, _ := EncodedLen(&c.u)
			b.SetBytes(int64(n))
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range benchUnits() {
		f, err := AppendFrame(nil, &c.u, MaxFrame)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReader reads a stream of frames with a Reader (ReadUnit).
func BenchmarkReader(b *testing.B) {
	for _, c := range benchUnits() {
		f, err := AppendFrame(nil, &c.u, MaxFrame)
		if err != nil {
			b.Fatal(err)
		}
		stream := bytes.Repeat(f, 64)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			b.ReportAllocs()
			src := bytes.NewReader(stream)
			r := NewReader(src, MaxFrame)
			for b.Loop() {
				if _, err := r.ReadUnit(); err != nil {
					if err != io.EOF {
						b.Fatal(err)
					}
					src.Reset(stream)
					r = NewReader(src, MaxFrame)
				}
			}
		})
	}
}

// BenchmarkSegmentReassemble splits a 64 KiB message into 8 KiB TRANSFER
// units and reassembles it.
func BenchmarkSegmentReassemble(b *testing.B) {
	payload := bytes.Repeat([]byte{'y'}, 64<<10)
	r := NewReassembler(16 << 20)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		units := Segment("m0000001", 0, 1, payload, 1<<DefaultTPDUSizeLog2)
		for i := range units {
			if _, _, err := r.Add(&units[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}

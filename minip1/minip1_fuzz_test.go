package minip1

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzSeeds returns valid frames of every kind and a few malformed ones.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, g := range goldenFrames {
		seeds = append(seeds, hx(t, g.hex))
	}
	for k := KindCR; k < numKinds; k++ {
		u := fullUnit(k)
		b, err := AppendFrame(nil, &u, MaxFrame)
		if err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		seeds = append(seeds, b)
	}
	for _, m := range malformedFrames {
		seeds = append(seeds, hx(t, m.hex))
	}
	return seeds
}

// checkDecode is the fuzz property of Decode: it never panics, every error is
// a FrameError, PeekKind agrees, and a decoded unit re-encodes, canonically
// and no longer than the input, to a frame that decodes to the same unit.
func checkDecode(t *testing.T, data []byte) {
	u, err := Decode(data)
	if err != nil {
		var fe *FrameError
		if !errors.As(err, &fe) || !errors.Is(err, ErrMalformed) {
			t.Fatalf("Decode error %v is not a FrameError", err)
		}
		if fe.Offset < 0 || fe.Offset > len(data) {
			t.Fatalf("error offset %d outside the %d-byte frame", fe.Offset, len(data))
		}
		return
	}
	if k, err := PeekKind(data); err != nil || k != u.Kind {
		t.Fatalf("PeekKind = %v, %v; Decode gave %v", k, err, u.Kind)
	}
	b, err := AppendFrame(nil, &u, len(data))
	if err != nil {
		t.Fatalf("re-encoding %+v within %d bytes: %v", u, len(data), err)
	}
	u2, err := Decode(b)
	if err != nil {
		t.Fatalf("decoding re-encoded % X: %v", b, err)
	}
	if !unitEqual(u, u2) {
		t.Fatalf("round trip changed the unit:\n %+v\n %+v", u, u2)
	}
	b2, err := AppendFrame(nil, &u2, MaxFrame)
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("encoding is not canonical: % X vs % X (%v)", b, b2, err)
	}
	checkParts(t, &u2, b)
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(checkDecode)
}

func FuzzReader(f *testing.F) {
	seeds := fuzzSeeds(f)
	var stream []byte
	for _, s := range seeds[:len(goldenFrames)] {
		stream = append(stream, s...)
	}
	f.Add(stream, uint16(0))
	f.Add(stream, uint16(30))
	f.Add(stream[:len(stream)-3], uint16(8192))
	for _, s := range seeds {
		f.Add(s, uint16(len(s)))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		r := NewReader(bytes.NewReader(data), int(limit))
		max := r.Max()
		var consumed int64
		for {
			frame, err := r.ReadFrame()
			if r.Offset() != consumed {
				t.Fatalf("Offset %d, want %d", r.Offset(), consumed)
			}
			if cap(r.buf) > max && cap(r.buf) > HeaderLen {
				t.Fatalf("buffer of %d bytes for limit %d", cap(r.buf), max)
			}
			if err != nil {
				switch {
				case err == io.EOF:
					if consumed != int64(len(data)) {
						t.Fatalf("io.EOF after %d of %d bytes", consumed, len(data))
					}
				case err == io.ErrUnexpectedEOF, errors.Is(err, ErrMalformed):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(frame) > max || len(frame) < MinFrame || !bytes.Equal(frame, data[consumed:consumed+int64(len(frame))]) {
				t.Fatalf("frame of %d bytes at %d, limit %d", len(frame), consumed, max)
			}
			consumed += int64(len(frame))
			checkDecode(t, frame)
		}
	})
}

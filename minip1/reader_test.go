package minip1

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// goldenStream concatenates every golden frame and returns the stream with
// the units and the offset of each frame.
func goldenStream(t *testing.T) ([]byte, []Unit, []int64) {
	t.Helper()
	var stream []byte
	var units []Unit
	var offs []int64
	for _, g := range goldenFrames {
		offs = append(offs, int64(len(stream)))
		stream = append(stream, hx(t, g.hex)...)
		units = append(units, g.unit)
	}
	return stream, units, offs
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReaderStream(t *testing.T) {
	stream, units, offs := goldenStream(t)
	readers := map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(stream) },
		"one-byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":     func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"data-err": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			r := NewReader(mk(), 0)
			var prev []byte
			for i, want := range units {
				u, err := r.ReadUnit()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !unitEqual(u, want) {
					t.Errorf("frame %d: %+v, want %+v", i, u, want)
				}
				if r.Offset() != offs[i] {
					t.Errorf("frame %d: Offset %d, want %d", i, r.Offset(), offs[i])
				}
				if prev != nil && !bytes.Equal(prev, units[i-1].Payload) {
					t.Errorf("frame %d: previous Payload changed by a later read", i)
				}
				prev = u.Payload
			}
			for range 2 {
				if _, err := r.ReadFrame(); err != io.EOF {
					t.Fatalf("at end: error %v, want io.EOF", err)
				}
			}
		})
	}
}

func TestReaderTruncated(t *testing.T) {
	stream, units, _ := goldenStream(t)
	cuts := map[string]int{
		"mid-body":   len(stream) - 1,
		"mid-header": len(stream) - len(hx(t, goldenFrames[len(goldenFrames)-1].hex)) + 2,
		"after-hdr":  len(stream) - len(hx(t, goldenFrames[len(goldenFrames)-1].hex)) + 4,
	}
	for name, cut := range cuts {
		t.Run(name, func(t *testing.T) {
			r := NewReader(iotest.OneByteReader(bytes.NewReader(stream[:cut])), MaxFrame)
			for i := range len(units) - 1 {
				if _, err := r.ReadFrame(); err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
			}
			for range 2 { // sticky
				if _, err := r.ReadUnit(); err != io.ErrUnexpectedEOF {
					t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
				}
			}
		})
	}
}

func TestReaderTooLarge(t *testing.T) {
	body := bytes.Repeat([]byte{0x55}, 5000)
	src := &countingReader{r: bytes.NewReader(append([]byte{0x03, 0x00, 0x10, 0x00}, body...))}
	r := NewReader(src, 1024)
	_, err := r.ReadFrame()
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v, want ErrTooLarge and ErrMalformed", err)
	}
	var fe *FrameError
	if !errors.As(err, &fe) || fe.Offset != 2 {
		t.Errorf("error %#v, want FrameError at offset 2", err)
	}
	if src.n != HeaderLen {
		t.Errorf("read %d bytes, want only the %d-byte header", src.n, HeaderLen)
	}
	if cap(r.buf) > 1024 {
		t.Errorf("buffer grew to %d", cap(r.buf))
	}
	if _, err2 := r.ReadFrame(); err2 != err {
		t.Errorf("second call error %v, want the sticky %v", err2, err)
	}
}

func TestReaderSetMax(t *testing.T) {
	stream, _, _ := goldenStream(t)
	r := NewReader(bytes.NewReader(stream), 0)
	if r.Max() != MaxFrame {
		t.Fatalf("Max = %d", r.Max())
	}
	r.SetMax(26) // CR is 26 bytes, CC 14, DR 17, ..., BIND 28
	for i := range 5 {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if _, err := r.ReadFrame(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("BIND of 28 bytes with max 26: error %v", err)
	}
	if r.Offset() != 26+14+17+11+9 {
		t.Errorf("Offset %d", r.Offset())
	}
}

func TestReaderBadHeader(t *testing.T) {
	for _, tt := range []struct {
		name, hex string
	}{
		{"version", "04 00 00 09 02 F0 80 0A 00"},
		{"length below minimum", "03 00 00 06 02 F0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(hx(t, tt.hex)), 0).ReadFrame()
			var fe *FrameError
			if !errors.As(err, &fe) || errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want a FrameError", err)
			}
		})
	}
}

func TestReaderDecodeErrorNotSticky(t *testing.T) {
	stream := append(hx(t, "03 00 00 09 02 F0 80 09 00"), hx(t, goldenFrames[0].hex)...)
	r := NewReader(bytes.NewReader(stream), 0)
	if _, err := r.ReadUnit(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("error %v, want ErrMalformed", err)
	}
	if u, err := r.ReadUnit(); err != nil || u.Kind != KindCR || r.Offset() != 9 {
		t.Fatalf("next unit %v, %v at %d", u.Kind, err, r.Offset())
	}
}

// flakyReader fails its first Read with err, then reads from r.
type flakyReader struct {
	err error
	r   io.Reader
}

func (f *flakyReader) Read(p []byte) (int, error) {
	if err := f.err; err != nil {
		f.err = nil
		return 0, err
	}
	return f.r.Read(p)
}

func TestReaderTimeoutBeforeFrameNotSticky(t *testing.T) {
	frame := hx(t, goldenFrames[0].hex)
	r := NewReader(&flakyReader{err: iotest.ErrTimeout, r: bytes.NewReader(frame)}, 0)
	if _, err := r.ReadFrame(); err != iotest.ErrTimeout {
		t.Fatalf("error %v, want timeout", err)
	}
	if _, err := r.ReadFrame(); err != nil {
		t.Fatalf("after timeout: %v", err)
	}
}

func TestReaderBufferBounded(t *testing.T) {
	u := Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 90)}
	frame, err := AppendFrame(nil, &u, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(frame), len(frame))
	if _, err := r.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if cap(r.buf) > len(frame) {
		t.Errorf("buffer of %d bytes for max %d", cap(r.buf), len(frame))
	}
	big := Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 5000)}
	frame, _ = AppendFrame(nil, &big, 0)
	r = NewReader(bytes.NewReader(append(frame, frame...)), 6000)
	for range 2 {
		if _, err := r.ReadFrame(); err != nil {
			t.Fatal(err)
		}
		if cap(r.buf) > 6000 {
			t.Errorf("buffer of %d bytes for max 6000", cap(r.buf))
		}
	}
}

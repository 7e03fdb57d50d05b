package kernel

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// chunks is a reader that returns its chunks one per Read (cut to the
// caller's buffer), then err.
type chunks struct {
	c     [][]byte
	err   error
	reads int
}

func (r *chunks) Read(p []byte) (int, error) {
	r.reads++
	if len(r.c) == 0 {
		return 0, r.err
	}
	n := copy(p, r.c[0])
	if r.c[0] = r.c[0][n:]; len(r.c[0]) == 0 {
		r.c = r.c[1:]
	}
	return n, nil
}

func TestStreamReaderSmallReadsAreBuffered(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 300) // 3000 bytes in one chunk
	src := &chunks{c: [][]byte{data}, err: io.EOF}
	s := newStreamReader(src)
	got := make([]byte, 0, len(data))
	for len(got) < len(data) {
		var b [10]byte
		n, err := s.Read(b[:])
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data corrupted")
	}
	// 300 Reads of 10 bytes, two reads of the source: 2048 + 952 bytes.
	if src.reads != 2 {
		t.Errorf("%d reads of the source, want 2", src.reads)
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("at the end: %v, want EOF", err)
	}
}

// grow keeps what is buffered; a large buffer takes several frames in one
// read; boundary gives it back only once it is empty.
func TestStreamReaderGrowAndBoundary(t *testing.T) {
	data := make([]byte, 40000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	src := &chunks{c: [][]byte{data}, err: io.EOF}
	s := newStreamReader(src)
	first := make([]byte, 4)
	if _, err := io.ReadFull(s, first); err != nil {
		t.Fatal(err)
	}
	if s.Buffered() != readBufSize-4 || s.big != nil {
		t.Fatalf("buffered %d, big %v after the first read", s.Buffered(), s.big != nil)
	}
	s.grow()
	if s.big == nil || s.Buffered() != readBufSize-4 {
		t.Fatalf("after grow: buffered %d, big %v", s.Buffered(), s.big != nil)
	}
	rest := make([]byte, len(data)-4)
	if _, err := io.ReadFull(s, rest); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(first, rest...), data) {
		t.Fatal("data corrupted across grow")
	}
	if src.reads != 2 {
		t.Errorf("%d reads of the source, want 2 (small, then one large)", src.reads)
	}
	s.boundary()
	if s.big != nil || len(s.buf) != readBufSize {
		t.Errorf("boundary with nothing buffered kept the large buffer")
	}

	src = &chunks{c: [][]byte{data}, err: io.EOF}
	s = newStreamReader(src)
	s.grow()
	if _, err := io.ReadFull(s, rest[:100]); err != nil {
		t.Fatal(err)
	}
	s.boundary()
	if s.big == nil || s.Buffered() != len(data)-100 {
		t.Fatalf("boundary dropped the large buffer with bytes in it (buffered now %d, want %d)", s.Buffered(), len(data)-100)
	}
	s.release()
	if s.big != nil || s.Buffered() != 0 {
		t.Error("release kept the large buffer")
	}
}

// An error of the source comes after the bytes read with it, once.
func TestStreamReaderErrorAfterData(t *testing.T) {
	boom := errors.New("boom")
	s := newStreamReader(iotest.DataErrReader(bytes.NewReader([]byte("abc"))))
	b := make([]byte, 2)
	if n, err := s.Read(b); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if n, err := s.Read(b); n != 1 || err != nil || b[0] != 'c' {
		t.Fatalf("Read = %d, %v (%q)", n, err, b[:n])
	}
	if _, err := s.Read(b); err != io.EOF {
		t.Fatalf("Read error %v, want EOF", err)
	}
	s = newStreamReader(iotest.ErrReader(boom))
	if _, err := s.Read(b); !errors.Is(err, boom) {
		t.Fatalf("Read error %v, want boom", err)
	}
}

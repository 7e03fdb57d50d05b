package kernel

import (
	"io"
	"sync"
)

// bigReadBuf is the read buffer of a path inside a large frame: room for
// the frames of a whole segmented message (eight 8 KiB frames), so that a
// 64 KiB message takes a few read system calls instead of two per frame.
const bigReadBuf = 64 << 10

// bigPool holds *[]byte of length bigReadBuf.
var bigPool sync.Pool

// streamReader is a path reader's buffered view of its connection, like a
// bufio.Reader (one read of the connection at most per Read, an error kept
// until the buffered bytes are consumed) with two buffers: a small one of
// its own (readBufSize), which is all an idle association or a stream of
// small frames needs, and a large one taken from bigPool while a large frame
// is being read (grow) and given back at the first frame boundary that finds
// it empty (boundary). A thousand idle associations thus hold 2 KiB each,
// and a transfer of large messages reads them in large chunks.
type streamReader struct {
	conn  io.Reader
	small []byte
	big   *[]byte // from bigPool, or nil
	buf   []byte  // small or *big
	r, w  int     // buf[r:w] is unread
	err   error   // of the last read, returned once buf is empty
}

func newStreamReader(conn io.Reader) *streamReader {
	small := make([]byte, readBufSize)
	return &streamReader{conn: conn, small: small, buf: small}
}

// Buffered returns the number of bytes that can be read without a read of
// the connection.
func (s *streamReader) Buffered() int { return s.w - s.r }

// Read reads into p: buffered bytes if there are any, else the result of
// one read of the connection, into p directly when p is at least as large
// as the buffer.
func (s *streamReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if s.r == s.w {
		if s.err != nil {
			err := s.err
			s.err = nil
			return 0, err
		}
		if len(p) >= len(s.buf) {
			return s.conn.Read(p)
		}
		s.r, s.w = 0, 0
		n, err := s.conn.Read(s.buf)
		if n <= 0 {
			return 0, err
		}
		s.w, s.err = n, err
	}
	n := copy(p, s.buf[s.r:s.w])
	s.r += n
	return n, nil
}

// grow switches to the large buffer, keeping what is buffered: the caller
// is about to read a frame with at least readBufSize more bytes than are
// buffered.
func (s *streamReader) grow() {
	if s.big != nil {
		return
	}
	b, _ := bigPool.Get().(*[]byte)
	if b == nil {
		nb := make([]byte, bigReadBuf)
		b = &nb
	}
	n := copy(*b, s.buf[s.r:s.w])
	s.big, s.buf, s.r, s.w = b, *b, 0, n
}

// boundary is called between frames: if nothing is buffered, the large
// buffer (if taken) goes back to the pool, and the wait for the next frame
// reads into the small one.
func (s *streamReader) boundary() {
	if s.big == nil || s.r != s.w {
		return
	}
	s.release()
}

// release gives the large buffer back; what it buffered is dropped. The
// reader goroutine calls it when it stops.
func (s *streamReader) release() {
	if s.big == nil {
		return
	}
	bigPool.Put(s.big)
	s.big, s.buf, s.r, s.w = nil, s.small, 0, 0
}

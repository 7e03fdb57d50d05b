package minip1

import (
	"bytes"
	"errors"
	"io"
)

// initialReaderBuf is the buffer a Reader starts with (or max, if smaller).
const initialReaderBuf = 2048

// Reader reads MiniP1 frames from a byte stream. It checks each TPKT header
// against its limit before reading the body, never allocates more than the
// limit for a frame, and reuses its buffer from frame to frame. Once an error
// has consumed part of a frame (a bad header, a short body, io.EOF), every
// later call returns that error again; an error of the underlying reader
// before any byte of a frame was read (say, a read deadline) is not sticky,
// and a decoding error of ReadUnit leaves the stream usable. A Reader is not
// safe for concurrent use.
type Reader struct {
	r      io.Reader
	max    int
	buf    []byte
	pos    int64 // stream offset of the next unread byte
	offset int64 // stream offset of the start of the last frame
	err    error
}

// NewReader returns a Reader of r that accepts frames of at most max bytes.
// A max outside 1..MaxFrame means MaxFrame.
func NewReader(r io.Reader, max int) *Reader {
	max = clampMax(max)
	return &Reader{r: r, max: max, buf: make([]byte, min(max, initialReaderBuf))}
}

// SetMax changes the frame limit, typically once CR/CC have negotiated a
// TPDU size. A max outside 1..MaxFrame means MaxFrame.
func (r *Reader) SetMax(max int) { r.max = clampMax(max) }

// Max returns the current frame limit.
func (r *Reader) Max() int { return r.max }

// Offset returns the stream byte offset of the start of the last frame read
// (or attempted, after an error).
func (r *Reader) Offset() int64 { return r.offset }

// ReadFrame reads the next complete frame, TPKT header included. The
// returned slice is valid until the next call. It returns io.EOF only when
// the stream ends cleanly between frames, io.ErrUnexpectedEOF when it ends
// inside a frame, a *FrameError matching ErrTooLarge when the header
// announces more than the limit (the body is then not read), and a
// *FrameError for a bad version or a length below MinFrame.
func (r *Reader) ReadFrame() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.offset = r.pos
	frame, err := r.readFrame()
	if err != nil {
		if r.pos > r.offset || errors.Is(err, io.EOF) {
			r.err = err
		}
		return nil, err
	}
	return frame, nil
}

func (r *Reader) readFrame() ([]byte, error) {
	if len(r.buf) < HeaderLen {
		r.buf = make([]byte, HeaderLen)
	}
	hdr := r.buf[:HeaderLen]
	n, err := io.ReadFull(r.r, hdr)
	r.pos += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) && n == 0 {
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if hdr[0] != Version {
		return nil, frameErr(0, KindInvalid, "TPKT version", "TPKT version 0x%02X, want 0x%02X", hdr[0], Version)
	}
	size := int(hdr[2])<<8 | int(hdr[3])
	if size < MinFrame {
		return nil, frameErr(2, KindInvalid, "TPKT length", "TPKT length %d below minimum %d", size, MinFrame)
	}
	if size > r.max {
		e := frameErr(2, KindInvalid, "TPKT length", "TPKT length %d exceeds limit %d", size, r.max)
		e.err = ErrTooLarge
		return nil, e
	}
	if size > len(r.buf) {
		nb := make([]byte, min(max(size, 2*len(r.buf)), r.max))
		copy(nb, hdr)
		r.buf = nb
	}
	n, err = io.ReadFull(r.r, r.buf[HeaderLen:size])
	r.pos += int64(n)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return r.buf[:size], nil
}

// ReadUnit reads the next frame and decodes it. The returned Unit does not
// alias the Reader's buffer: its Payload is a copy. A decoding error is a
// *FrameError whose Offset is relative to the frame starting at Offset().
func (r *Reader) ReadUnit() (Unit, error) {
	frame, err := r.ReadFrame()
	if err != nil {
		return Unit{}, err
	}
	u, err := Decode(frame)
	if err != nil {
		return Unit{}, err
	}
	if u.Payload != nil {
		u.Payload = bytes.Clone(u.Payload)
	}
	return u, nil
}

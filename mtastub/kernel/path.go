package kernel

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
)

// path is one transport connection attached to a KCB. Its reader posts
// every unit, malformed frame, slow frame and disconnect to the kernel
// goroutine tagged with the KCB index and the generation the path was
// attached under; its writer drains an unbounded queue so the kernel
// goroutine never blocks on a slow link.
type path struct {
	k    *Kernel
	conn net.Conn
	kcb  int
	gen  uint64

	mu         sync.Mutex
	queue      []outFrame
	writing    int // frames the writer has taken and not yet written
	closeAfter bool
	sig        chan struct{}

	br *streamReader // the reader goroutine's buffered view of conn

	closed    atomic.Bool // closed by this side
	closeOnce sync.Once
}

// readBufSize is the read buffer of a path: room for the header and body
// of a small frame, little enough for a thousand associations.
const readBufSize = 2048

// pooledFrame is the capacity of the frame buffers recycled through
// framePool: the default frame limit. A segmented message's frames are all
// this size, and recycling them (rather than allocating and zeroing 8 KiB
// per frame on both sides) keeps the garbage collector out of a transfer.
const pooledFrame = 1 << minip1.DefaultTPDUSizeLog2

// framePool holds *[pooledFrame]byte (an array pointer, so that putting a
// buffer back allocates nothing). The reader takes one per
// frame and the kernel goroutine returns it after handling the unit (a
// unit's Payload aliases its frame; only the reassembler reads it, and it
// copies what it must keep); the encoder takes one per frame and the writer
// returns it once written.
var framePool sync.Pool

// inlinePayload is the largest TRANSFER payload the encoder copies into
// its frame buffer. A larger one stays where it is (the message's payload)
// and is written between the frame's header and trailer by the writer's
// writev; below it a copy costs less than two more iovecs, and a message
// of one small frame leaves in a plain write.
const inlinePayload = 2048

// outFrame is one frame waiting to be written. buf holds its bytes but,
// for a TRANSFER encoded with minip1.AppendFrameParts, its payload, which
// belongs at offset at; at is len(buf) when nothing is left out. buf comes
// from getFrame and goes back to the pool once written; payload aliases the
// message, which the kernel never modifies.
type outFrame struct {
	buf     []byte
	at      int
	payload []byte
}

// appendTo appends the frame's slices, without empty ones, to bufs.
func (f *outFrame) appendTo(bufs [][]byte) [][]byte {
	if f.at > 0 {
		bufs = append(bufs, f.buf[:f.at])
	}
	if len(f.payload) > 0 {
		bufs = append(bufs, f.payload)
	}
	if f.at < len(f.buf) {
		bufs = append(bufs, f.buf[f.at:])
	}
	return bufs
}

// getFrame returns a buffer of length n, pooled when n fits.
func getFrame(n int) []byte {
	if n > pooledFrame {
		return make([]byte, n)
	}
	if a, ok := framePool.Get().(*[pooledFrame]byte); ok {
		return a[:n]
	}
	return new([pooledFrame]byte)[:n]
}

// putFrame recycles a buffer that getFrame may have returned; others are
// left to the garbage collector. The caller must not use b afterwards.
func putFrame(b []byte) {
	if cap(b) != pooledFrame {
		return
	}
	framePool.Put((*[pooledFrame]byte)(b[:pooledFrame]))
}

// attach starts a path's reader and writer.
func (k *Kernel) attach(conn net.Conn, b *kcb) *path {
	p := &path{k: k, conn: conn, kcb: b.idx, gen: b.gen, sig: make(chan struct{}, 1)}
	k.pathsMu.Lock()
	k.paths[p] = struct{}{}
	k.pathsMu.Unlock()
	k.wg.Add(2)
	go p.readLoop()
	go p.writeLoop()
	return p
}

// send queues one encoded frame.
func (p *path) send(frame outFrame) {
	p.mu.Lock()
	p.queue = append(p.queue, frame)
	p.mu.Unlock()
	p.wake()
}

// queued returns the number of frames not yet written: waiting in the
// queue or taken by the writer and not yet through.
func (p *path) queued() int {
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue) + p.writing
}

// finish queues frame (if any: a nil buf is none) and closes the connection
// once it is written, or after grace at the latest.
func (p *path) finish(frame outFrame, grace time.Duration) {
	p.mu.Lock()
	if frame.buf != nil {
		p.queue = append(p.queue, frame)
	}
	p.closeAfter = true
	p.mu.Unlock()
	p.wake()
	time.AfterFunc(grace, p.close)
}

// finishing reports whether finish was called (a last frame may be queued).
func (p *path) finishing() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeAfter
}

func (p *path) wake() {
	select {
	case p.sig <- struct{}{}:
	default:
	}
}

// close closes the connection at once.
func (p *path) close() {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		_ = p.conn.Close()
		p.wake()
		p.k.pathsMu.Lock()
		delete(p.k.paths, p)
		p.k.pathsMu.Unlock()
	})
}

func (p *path) writeLoop() {
	defer p.k.wg.Done()
	var bufs [][]byte
	var nb net.Buffers   // WriteTo's receiver: one allocation, not one per batch
	var spare []outFrame // the queue's other array: the writer swaps the two
	for range p.sig {
		if p.closed.Load() {
			return
		}
		p.mu.Lock()
		q, last := p.queue, p.closeAfter
		p.queue, p.writing, spare = spare[:0], len(q), nil
		p.mu.Unlock()
		// One writev for everything queued: a segmented message goes out
		// in one system call instead of one per frame, its payload straight
		// from the message (headers, payload slices, trailers).
		bufs = bufs[:0]
		for i := range q {
			bufs = q[i].appendTo(bufs)
		}
		if len(bufs) == 1 {
			_, err := p.conn.Write(bufs[0])
			if err != nil {
				p.close()
				return
			}
		} else if len(bufs) > 1 {
			// WriteTo consumes its slice (it clears written entries);
			// bufs is rebuilt from q next time.
			nb = bufs
			if _, err := nb.WriteTo(p.conn); err != nil {
				p.close()
				return
			}
		}
		for i := range q {
			putFrame(q[i].buf)
			q[i] = outFrame{}
		}
		spare = q
		p.mu.Lock()
		p.writing = 0
		p.mu.Unlock()
		if last {
			p.mu.Lock()
			empty := len(p.queue) == 0
			p.mu.Unlock()
			if empty {
				p.close()
				return
			}
			p.wake()
		}
	}
}

// readLoop reads frames. The first byte of a frame is awaited without a
// deadline; the rest must arrive within the reassembly timer, else the
// kernel is told (evReasm) and the reader goes on reading the same frame, so
// that with Q152877 a frame that outlives the timer still reaches the KCB.
func (p *path) readLoop() {
	defer p.k.wg.Done()
	max := p.k.cfg.FrameMax
	hdr := make([]byte, minip1.HeaderLen)
	// Buffered: the header and a small frame usually take one system call
	// together, not three, and the frames of a segmented message a few in
	// all. Deadlines still apply to the reads underneath.
	p.br = newStreamReader(p.conn)
	defer p.br.release()
	for {
		p.br.boundary()
		if _, err := io.ReadFull(p.br, hdr[:1]); err != nil {
			p.post(event{kind: evClosed, err: err})
			return
		}
		deadline := time.Now().Add(p.k.cfg.Timers.Reassembly)
		_ = p.conn.SetReadDeadline(deadline)
		late := false
		if err := p.readFull(hdr[1:], &late); err != nil {
			p.post(event{kind: evClosed, err: err})
			return
		}
		n := int(hdr[2])<<8 | int(hdr[3])
		if hdr[0] != minip1.Version || n < minip1.MinFrame || n > max {
			p.post(event{kind: evBad, err: &minip1.FrameError{Offset: 0, Reason: badHeader(hdr, max)}})
			return
		}
		if n-minip1.HeaderLen-p.br.Buffered() >= readBufSize {
			p.br.grow()
		}
		frame := getFrame(n)
		copy(frame, hdr)
		if err := p.readFull(frame[minip1.HeaderLen:], &late); err != nil {
			p.post(event{kind: evClosed, err: err})
			return
		}
		_ = p.conn.SetReadDeadline(time.Time{})
		u, err := minip1.Decode(frame)
		if err != nil {
			p.post(event{kind: evBad, err: err})
			return
		}
		// The kernel goroutine recycles frame once it has handled u.
		if !p.post(event{kind: evUnit, unit: u, frame: frame}) {
			return
		}
	}
}

// readFull reads len(buf) bytes; when the reassembly deadline passes it
// reports the late frame once and carries on without a deadline.
func (p *path) readFull(buf []byte, late *bool) error {
	for len(buf) > 0 {
		n, err := p.br.Read(buf)
		buf = buf[n:]
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && !*late {
			*late = true
			_ = p.conn.SetReadDeadline(time.Time{})
			if !p.post(event{kind: evReasm}) {
				return err
			}
			continue
		}
		if errors.Is(err, io.EOF) && len(buf) > 0 {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	return nil
}

func (p *path) post(e event) bool {
	e.kcb, e.gen, e.path = p.kcb, p.gen, p
	return p.k.post(e)
}

func badHeader(hdr []byte, max int) string {
	if hdr[0] != minip1.Version {
		return "TPKT version is not 3"
	}
	return "TPKT length outside 7.." + strconv.Itoa(max)
}

// isReset reports whether err is a TCP reset.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// isRefused reports whether a dial error is a refusal.
func isRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

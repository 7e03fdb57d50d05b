package capture

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
)

// headMax is how many of the first bytes an accepted connection reads are
// kept to find its CR; maxPending bounds what is held back while its link
// is unknown.
const (
	headMax    = 512
	maxPending = 64 << 10
)

// tapConn is a connection whose traffic is recorded.
type tapConn struct {
	net.Conn
	r   *Recorder
	mta string
	at  time.Time // when it was dialed or accepted

	mu           sync.Mutex
	writing      int       // writes under way
	finAt        time.Time // when Close was called during a write: its FIN follows the write's packet
	fl           *flow
	f            *file // nil while an accepted connection's link is unknown, or when dead
	dead         bool  // recorded no further (the recorder closed first)
	pending      []held
	pendingBytes int
	head         []byte
}

// held is a packet waiting for its connection's link to be known.
type held struct {
	from    int
	flags   tcpFlags
	payload []byte
	ts      time.Time
}

func (r *Recorder) tap(mta string, conn net.Conn, dialed string, local, remote netip.AddrPort) net.Conn {
	now := time.Now()
	c := &tapConn{Conn: conn, r: r, mta: mta, at: now, fl: newFlow(local, remote, dialed != "")}
	if dialed == "" {
		// Accepted: the peer's SYN, our SYN/ACK, its ACK, held until the
		// first frame names the link.
		c.pending = []held{{from: remoteSide, flags: flagSYN, ts: now},
			{from: localSide, flags: flagSYN | flagACK, ts: now},
			{from: remoteSide, flags: flagACK, ts: now}}
		return c
	}
	l, ok := r.dialedLink(mta, dialed, now)
	comment := fmt.Sprintf("%s dialed %s, the proxy of link %s", mta, dialed, l)
	if !ok {
		l = Link{From: mta}
		comment = fmt.Sprintf("%s dialed %s, an address no link of the run names", mta, dialed)
	}
	f, err := r.file(l, Sent)
	if err != nil {
		return conn
	}
	c.f = f
	f.addConn()
	f.emit(c.fl, localSide, flagSYN, nil, now, comment)
	f.emit(c.fl, remoteSide, flagSYN|flagACK, nil, now, "")
	f.emit(c.fl, localSide, flagACK, nil, now, "")
	return c
}

// Read records the bytes read as a packet from the peer, an EOF as the
// peer's FIN and a reset as its RST.
func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	ts := time.Now()
	if n > 0 {
		c.mu.Lock()
		c.record(remoteSide, flagACK|flagPSH, b[:n], ts)
		c.mu.Unlock()
	}
	if err != nil {
		c.peerError(err, ts)
	}
	return n, err
}

// Write records the bytes written as a packet to the peer, stamped when
// the write started; a reset as the peer's RST.
func (c *tapConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	c.writing++
	c.mu.Unlock()
	ts := time.Now()
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	c.writing--
	if n > 0 {
		c.record(localSide, flagACK|flagPSH, b[:n], ts)
	}
	if c.writing == 0 && !c.finAt.IsZero() {
		c.fin(c.finAt)
	}
	c.mu.Unlock()
	if err != nil && isReset(err) {
		c.peerError(err, time.Now())
	}
	return n, err
}

// Close records this side's FIN (unless the connection was reset) and
// closes the connection. A FIN during a write is recorded after the
// write's packet, since its bytes were on their way first.
func (c *tapConn) Close() error {
	c.mu.Lock()
	if c.writing > 0 {
		c.finAt = time.Now()
	} else {
		c.fin(time.Now())
	}
	c.mu.Unlock()
	return c.Conn.Close()
}

// fin records this side's FIN once, and gives a connection whose link is
// still unknown its best guess; c.mu is held.
func (c *tapConn) fin(ts time.Time) {
	c.finAt = time.Time{}
	if !c.fl.rst && !c.fl.fin[localSide] {
		c.record(localSide, flagFIN|flagACK, nil, ts)
	}
	if c.f == nil && !c.dead {
		c.attribute(c.r.guess(c.mta, c.at))
	}
}

func (c *tapConn) peerError(err error, ts time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.fl.rst || c.fl.fin[remoteSide]:
	case errors.Is(err, io.EOF):
		c.record(remoteSide, flagFIN|flagACK, nil, ts)
	case isReset(err):
		c.record(remoteSide, flagRST, nil, ts)
	}
}

// isReset reports whether err is a TCP reset.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// record writes (or, while the link is unknown, holds) one packet; c.mu
// is held.
func (c *tapConn) record(from int, flags tcpFlags, payload []byte, ts time.Time) {
	switch {
	case c.dead:
		return
	case c.f != nil:
		c.f.emit(c.fl, from, flags, payload, ts, "")
		return
	}
	c.pending = append(c.pending, held{from: from, flags: flags, payload: append([]byte(nil), payload...), ts: ts})
	c.pendingBytes += len(payload)
	if from == remoteSide && len(c.head) < headMax {
		c.head = append(c.head, payload[:min(len(payload), headMax-len(c.head))]...)
	}
	if l, why, ok := c.findLink(); ok {
		c.attribute(l, why)
	} else if c.pendingBytes > maxPending {
		c.attribute(c.r.guess(c.mta, c.at))
	}
}

// findLink looks for the CR among the first bytes an accepted connection
// read. ok is false while more bytes are needed.
func (c *tapConn) findLink() (Link, string, bool) {
	h := c.head
	if len(h) < minip1.HeaderLen {
		return Link{}, "", false
	}
	n := int(h[2])<<8 | int(h[3])
	if h[0] != minip1.Version || n < minip1.MinFrame || n > headMax {
		l, why := c.r.guess(c.mta, c.at)
		return l, "the first bytes are no CR frame; " + why, true
	}
	if len(h) < n {
		return Link{}, "", false
	}
	u, err := minip1.Decode(h[:n])
	if err != nil || u.Kind != minip1.KindCR {
		l, why := c.r.guess(c.mta, c.at)
		return l, "the first frame is no CR; " + why, true
	}
	if l, ok := c.r.tsapLink(c.mta, u.CallingTSAP); ok {
		return l, fmt.Sprintf("its CR's calling TSAP is %q", u.CallingTSAP), true
	}
	l, why := c.r.guess(c.mta, c.at)
	return l, fmt.Sprintf("its CR's calling TSAP %q names no link into %s; %s", u.CallingTSAP, c.mta, why), true
}

// attribute gives an accepted connection its link and writes what was
// held; c.mu is held.
func (c *tapConn) attribute(l Link, why string) {
	f, err := c.r.file(l, Received)
	if err != nil {
		c.dead, c.pending, c.head = true, nil, nil
		return
	}
	c.f = f
	f.addConn()
	comment := fmt.Sprintf("%s accepted this connection; link %s: %s", c.mta, l, why)
	for _, p := range c.pending {
		f.emit(c.fl, p.from, p.flags, p.payload, p.ts, comment)
		comment = ""
	}
	c.pending, c.head = nil, nil
}

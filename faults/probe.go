package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/wire"
)

// ProbeTimeout bounds one probe.
const ProbeTimeout = 2 * time.Second

// Probe observes on the wire the effect of toggle t on a proxy listening at
// addr whose upstream is an echo server (see Echo): a dial refused, a delay
// measured, bytes cut at N, a reset, fragments, a late FIN. It returns what
// it saw, or an error when the effect was not observed. Healing toggles are
// probed for a working echo.
func Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	switch t.Action {
	case ActDisable:
		return probeRefused(ctx, addr)
	case ActEnable, ActRemoveToxic:
		rtt, err := echoRTT(ctx, addr, 1)
		if err != nil {
			return "", fmt.Errorf("link not healed: %w", err)
		}
		return fmt.Sprintf("echo round trip %s", rtt.Round(time.Microsecond)), nil
	case ActAddToxic, ActUpdateToxic:
		return probeToxic(ctx, addr, t)
	}
	return "", fmt.Errorf("no probe for action %q", t.Action)
}

func probeRefused(ctx context.Context, addr string) (string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err == nil {
		c.Close()
		return "", errors.New("dial accepted: the link is not down")
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return "dial refused", nil
	}
	return "", fmt.Errorf("dial failed, but not refused: %w", err)
}

func attr(t Toggle, key string) int64 {
	switch v := t.Toxic.Attributes[key].(type) {
	case int:
		return int64(v)
	case int64:
		return v
	case float64:
		return int64(v)
	case string:
		var n int64
		_, _ = fmt.Sscan(v, &n) // not a number: 0
		return n
	}
	return 0
}

// dial connects to addr; while the link is down (another fault holds it
// disabled) it retries until ctx ends, so a toxic is probed once it can be.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	for errors.Is(err, syscall.ECONNREFUSED) {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("link down for the whole probe: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
		c, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return c, nil
}

// echoRTT sends n bytes and reads them back.
func echoRTT(ctx context.Context, addr string, n int) (time.Duration, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	buf := bytes.Repeat([]byte{'p'}, n)
	start := time.Now()
	if _, err := c.Write(buf); err != nil {
		return 0, err
	}
	if _, err := io.ReadFull(c, buf); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func probeToxic(ctx context.Context, addr string, t Toggle) (string, error) {
	switch t.Toxic.Type {
	case "latency":
		want := time.Duration(attr(t, "latency")) * time.Millisecond
		rtt, err := echoRTT(ctx, addr, 1)
		if err != nil {
			return "", err
		}
		if rtt < want {
			return "", fmt.Errorf("round trip %s, want at least %s", rtt, want)
		}
		return fmt.Sprintf("round trip %s (latency %s)", rtt.Round(time.Millisecond), want), nil
	case "bandwidth":
		rate := attr(t, "rate") * 1024 // bytes per second
		n := int(min(max(rate/5, 1024), 64<<10))
		took, err := echoRTT(ctx, addr, n)
		if err != nil {
			return "", err
		}
		want := time.Duration(float64(n) / float64(rate) * float64(time.Second) / 2)
		if took < want {
			return "", fmt.Errorf("%d bytes echoed in %s, want at least %s at %d KB/s", n, took, want, rate/1024)
		}
		return fmt.Sprintf("%d bytes echoed in %s (rate %d KB/s)", n, took.Round(time.Millisecond), rate/1024), nil
	case "timeout":
		c, err := dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		if _, err := c.Write([]byte{'p'}); err != nil {
			return "", err
		}
		n, err := c.Read(make([]byte, 1))
		var ne net.Error
		if n == 0 && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF)) {
			return "byte not echoed within 250ms (data dropped)", nil
		}
		return "", fmt.Errorf("byte echoed through a blackhole (n=%d, err=%v)", n, err)
	case "reset_peer":
		c, err := dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		if _, err := c.Write([]byte{'p'}); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			return "", err
		}
		_, err = io.Copy(io.Discard, c)
		if errors.Is(err, syscall.ECONNRESET) {
			return "connection reset (RST)", nil
		}
		return "", fmt.Errorf("no reset seen: %v", err)
	case "limit_data":
		want := attr(t, "bytes")
		c, err := dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		go func() { _, _ = c.Write(make([]byte, want+64)) }()
		got, err := io.Copy(io.Discard, c)
		return cutSeen(t, got, want, err)
	case "slicer":
		limit := int(attr(t, "average_size") + attr(t, "size_variation"))
		c, err := dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		const n = 256
		if _, err := c.Write(make([]byte, n)); err != nil {
			return "", err
		}
		reads, biggest, got := 0, 0, 0
		buf := make([]byte, n)
		for got < n {
			k, err := c.Read(buf)
			if err != nil {
				return "", fmt.Errorf("after %d of %d bytes: %w", got, n, err)
			}
			reads, got, biggest = reads+1, got+k, max(biggest, k)
		}
		if reads < 2 || limit > 0 && biggest > limit {
			return "", fmt.Errorf("%d bytes arrived in %d reads (largest %d), want fragments of at most %d", n, reads, biggest, limit)
		}
		return fmt.Sprintf("%d bytes arrived in %d fragments (largest %d)", n, reads, biggest), nil
	case "slow_close":
		want := time.Duration(attr(t, "delay")) * time.Millisecond
		c, err := dial(ctx, addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		if _, err := c.Write([]byte{'p'}); err != nil {
			return "", err
		}
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			return "", err
		}
		start := time.Now()
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			return "", err
		}
		_, _ = io.Copy(io.Discard, c)
		if took := time.Since(start); took < want {
			return "", fmt.Errorf("FIN after %s, want at least %s", took, want)
		} else {
			return fmt.Sprintf("FIN after %s (delay %s)", took.Round(time.Millisecond), want), nil
		}
	case "cut_at":
		return probeCutAt(ctx, addr, t)
	}
	return "", fmt.Errorf("no probe for toxic type %q", t.Toxic.Type)
}

// probeCutAt writes index+1 units of the toxic's kind and expects the
// stream to end right after the index-th.
func probeCutAt(ctx context.Context, addr string, t Toggle) (string, error) {
	kind, err := wire.ParseKind(fmt.Sprint(t.Toxic.Attributes["unit"]))
	if err != nil {
		return "", err
	}
	index := max(attr(t, "index"), 1)
	u := sampleUnit(kind)
	frame, err := wire.AppendFrame(nil, &u, wire.MaxFrame)
	if err != nil {
		return "", err
	}
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	go func() { _, _ = c.Write(bytes.Repeat(frame, int(index)+1)) }()
	got, err := io.Copy(io.Discard, c)
	detail, err := cutSeen(t, got, int64(len(frame))*index, err)
	if err != nil {
		return "", fmt.Errorf("%w (%d × %s)", err, index, kind)
	}
	return fmt.Sprintf("%s, right after %s #%d", detail, kind, index), nil
}

// cutSeen judges what came back through a stream cut at want bytes. Cut on
// the way back (downstream), exactly want bytes of echo arrive, then EOF.
// Cut on the way out (upstream), the proxy closes the whole connection
// right after the echo server got want bytes, usually before their echo
// gets back: then at most want bytes arrive, never all that was sent.
func cutSeen(t Toggle, got, want int64, err error) (string, error) {
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return "", fmt.Errorf("stream not cut: %w after %d bytes", err, got)
	}
	if t.Toxic.Stream == "upstream" {
		if got > want {
			return "", fmt.Errorf("%d bytes echoed through a stream cut at %d", got, want)
		}
		return fmt.Sprintf("connection closed after %d bytes went out (%d echoed)", want, got), nil
	}
	if got != want {
		return "", fmt.Errorf("stream cut after %d bytes, want %d", got, want)
	}
	return fmt.Sprintf("stream cut after %d bytes", got), nil
}

// sampleUnit returns a minimal valid unit of kind k.
func sampleUnit(k wire.Kind) wire.Unit {
	u := wire.Unit{Kind: k, MTAName: "/O=PROBE", MsgID: "probe", Seq: 1, Payload: []byte("p"), Total: 1, Flags: wire.FlagLast}
	return u
}

// Server is a TCP server that keeps track of its connections, so that
// Close ends every one of them: the probes' echo upstream, and a test or
// benchmark peer.
type Server struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Listen starts a Server on addr ("" means 127.0.0.1:0) that runs handle
// for each connection and closes the connection when handle returns.
func Listen(addr string, handle func(net.Conn)) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("faults: listen %s: %w", addr, err)
	}
	s := &Server{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.serve(handle)
	return s, nil
}

// NewEcho starts an echo server on addr ("" means 127.0.0.1:0): the
// upstream of the probe proxies.
func NewEcho(addr string) (*Server, error) {
	return Listen(addr, func(c net.Conn) { _, _ = io.Copy(c, c) })
}

// Addr returns the server's address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

func (s *Server) serve(handle func(net.Conn)) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			handle(c)
			_ = c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops the server and closes every connection.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

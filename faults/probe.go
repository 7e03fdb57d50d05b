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
	// A cancelled probe (its run healed every link) stops reading at once
	// rather than at its deadline.
	context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
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

// Prober is a fault type whose toxic can be seen on the wire: Probe calls
// it for the add_toxic and update_toxic toggles of the type (a storm's part
// carries its own kind as Type). addr is a proxy whose upstream is an echo
// server; it returns what it saw, or an error when the effect was not seen.
type Prober interface {
	Probe(ctx context.Context, addr string, t Toggle) (string, error)
}

// probeToxic probes a toxic toggle with its fault type's Prober.
func probeToxic(ctx context.Context, addr string, t Toggle) (string, error) {
	typ, _ := Lookup(t.Type)
	p, ok := typ.(Prober)
	if !ok {
		return "", fmt.Errorf("no probe for fault type %q", t.Type)
	}
	if t.Toxic == nil {
		return "", fmt.Errorf("%s toggle %s without a toxic", t.Type, t.Action)
	}
	return p.Probe(ctx, addr, t)
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

package faults

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/minip1"
)

// Wire-effect tests: a real TCP server on 127.0.0.1:0, a Toxiproxy proxy in
// front of it (embedded backend, and a remote backend talking to a second
// embedded server over HTTP), a fault's toggles applied with Apply, and what
// a TCP client sees measured. Time is only ever bounded from below: a delay
// is at least what was configured; nothing asserts that something is fast.

// wireBound bounds a blocking step so that a bug fails the test instead of
// hanging it; it is never a guess at how long something takes.
const wireBound = 10 * time.Second

// wireEmbedded starts an embedded Toxiproxy closed by the test.
func wireEmbedded(t *testing.T) *toxi.Embedded {
	t.Helper()
	e, err := toxi.NewEmbedded(testkit.Context(t), toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wireBound)
		defer cancel()
		if err := e.Close(ctx); err != nil {
			t.Errorf("close embedded: %v", err)
		}
	})
	return e
}

// wireBackends runs fn against an embedded backend and against a remote
// backend whose server is another embedded Toxiproxy.
func wireBackends(t *testing.T, fn func(t *testing.T, b toxi.Backend)) {
	t.Run("embedded", func(t *testing.T) { fn(t, wireEmbedded(t)) })
	t.Run("remote", func(t *testing.T) {
		srv := wireEmbedded(t)
		r, err := toxi.NewRemote(testkit.Context(t), srv.URL(), toxi.RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), wireBound)
			defer cancel()
			if err := r.Close(ctx); err != nil {
				t.Errorf("close remote: %v", err)
			}
		})
		fn(t, r)
	})
}

// wireProxyName is the proxy of link "A->B".
func wireProxyName(link string) string {
	return toxi.ProxyPrefix + "wire-" + strings.ReplaceAll(link, "->", "-")
}

// wireProxy creates the proxy of link in front of upstream; returns its
// listen address.
func wireProxy(t *testing.T, b toxi.Backend, link, upstream string) string {
	t.Helper()
	listen, err := b.CreateProxy(testkit.Context(t), wireProxyName(link), upstream)
	if err != nil {
		t.Fatal(err)
	}
	return listen
}

// wireToggles expands one fault of typ on link A->B from at 0 to until 10s
// (or 0 for none).
func wireToggles(t *testing.T, typ string, p tp, until time.Duration) []Toggle {
	t.Helper()
	s, err := Expand("wire", 1, []Spec{{Index: 0, Link: "A->B", Type: typ, Until: until, Params: p}})
	if err != nil {
		t.Fatal(err)
	}
	return s.Toggles
}

// wireApply applies the toggles that heal (heal true) or the others.
func wireApply(t *testing.T, b toxi.Backend, ts []Toggle, heal bool) {
	t.Helper()
	n := 0
	for _, g := range ts {
		if g.Heal != heal {
			continue
		}
		if err := Apply(testkit.Context(t), b, wireProxyName(g.Link), g); err != nil {
			t.Fatalf("Apply(%+v): %v", g, err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no toggles with heal=%v in %+v", heal, ts)
	}
}

// wireHealthy checks proxy of link is enabled, has no toxic, and echoes on
// a new connection.
func wireHealthy(t *testing.T, b toxi.Backend, link, listen string) {
	t.Helper()
	ps, err := b.Proxies(testkit.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == wireProxyName(link) && (!p.Enabled || len(p.Toxics) != 0) {
			t.Fatalf("after heal %s: enabled %v, toxics %+v", link, p.Enabled, p.Toxics)
		}
	}
	c := wireDial(t, listen)
	wireRoundTrip(t, c, []byte("healed?"))
	_ = c.Close()
}

func wireDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wireBound)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(wireBound))
	return c
}

// wireRoundTrip writes msg and reads its echo; returns the time it took.
func wireRoundTrip(t *testing.T, c net.Conn, msg []byte) time.Duration {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(wireBound))
	start := time.Now()
	if _, err := c.Write(msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo = %q, want %q", got, msg)
	}
	return time.Since(start)
}

// wireReadAll reads c until EOF or an error; returns what came and the error
// that ended it (nil for EOF).
func wireReadAll(t *testing.T, c net.Conn) ([]byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(wireBound))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open after %v (read %d bytes)", wireBound, len(out))
			}
			return out, err
		}
	}
}

// wireRefused checks a new dial to addr is refused.
func wireRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wireBound)
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial %s succeeded, want ECONNREFUSED", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want ECONNREFUSED", addr, err)
	}
}

// wireSilent checks that nothing arrives on c within d and c stays open.
func wireSilent(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 16)
	n, err := c.Read(buf)
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read within %v = %d bytes %q, %v; want silence on an open connection", d, n, buf[:n], err)
	}
}

func TestWireLatency(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		c := wireDial(t, listen)
		wireRoundTrip(t, c, []byte("before"))
		const lat = 100 * time.Millisecond
		ts := wireToggles(t, "latency", tp{"latency": lat, "stream": "both"}, 10*time.Second)
		wireApply(t, b, ts, false)
		// Both streams: the request and the echo are each delayed.
		for i := 0; i < 3; i++ {
			if rtt := wireRoundTrip(t, c, []byte("ping")); rtt < 2*lat {
				t.Errorf("round trip %d took %v, want at least %v", i, rtt, 2*lat)
			}
		}
		c2 := wireDial(t, listen)
		if rtt := wireRoundTrip(t, c2, []byte("new conn")); rtt < 2*lat {
			t.Errorf("round trip on a new connection took %v, want at least %v", rtt, 2*lat)
		}
		wireApply(t, b, ts, true)
		wireRoundTrip(t, c, []byte("after"))
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireRefuse(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		c := wireDial(t, listen)
		wireRoundTrip(t, c, []byte("before"))
		ts := wireToggles(t, "refuse", tp{}, 10*time.Second)
		wireApply(t, b, ts, false)
		wireRefused(t, listen)
		if got, err := wireReadAll(t, c); len(got) != 0 {
			t.Errorf("existing connection read %q, %v; want it closed", got, err)
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireCycle(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		ts := wireToggles(t, "cycle", tp{"down": 100 * time.Millisecond, "up": 100 * time.Millisecond, "count": int64(3)}, 0)
		for _, g := range ts {
			if err := Apply(testkit.Context(t), b, wireProxyName(g.Link), g); err != nil {
				t.Fatal(err)
			}
			if g.Action == ActDisable {
				wireRefused(t, listen)
			} else {
				c := wireDial(t, listen)
				wireRoundTrip(t, c, []byte("up"))
				_ = c.Close()
			}
		}
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireBandwidth(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		const rate = 100 // KB/s; Toxiproxy's KB is 1000 bytes
		ts := wireToggles(t, "bandwidth", tp{"rate": int64(rate)}, 10*time.Second)
		wireApply(t, b, ts, false)
		c := wireDial(t, listen)
		payload := bytes.Repeat([]byte("0123456789"), 10000) // 100 kB: 1s at the rate
		start := time.Now()
		werr := make(chan error, 1)
		go func() { _, err := c.Write(payload); werr <- err }()
		got := make([]byte, len(payload))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("read echo: %v", err)
		}
		took := time.Since(start)
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatal("echo differs")
		}
		min := time.Duration(float64(len(payload)) / (rate * 1000) * 0.5 * float64(time.Second))
		if took < min {
			t.Errorf("%d bytes at %d KB/s took %v, want at least %v", len(payload), rate, took, min)
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireBlackhole(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		old := wireDial(t, listen)
		wireRoundTrip(t, old, []byte("before"))
		ts := wireToggles(t, "blackhole", tp{"timeout": time.Duration(0)}, 10*time.Second)
		wireApply(t, b, ts, false)
		c := wireDial(t, listen)
		for _, conn := range []net.Conn{old, c} {
			if _, err := conn.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			wireSilent(t, conn, 300*time.Millisecond)
		}
		wireApply(t, b, ts, true)
		// Removing the timeout toxic closes the connections it held.
		for _, conn := range []net.Conn{old, c} {
			if got, _ := wireReadAll(t, conn); len(got) != 0 {
				t.Errorf("held connection read %q after the heal; want it closed", got)
			}
		}
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireBlackholeTimeout(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		const to = 200 * time.Millisecond
		ts := wireToggles(t, "blackhole", tp{"timeout": to, "stream": "up"}, 10*time.Second)
		wireApply(t, b, ts, false)
		start := time.Now()
		c := wireDial(t, listen)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if got, _ := wireReadAll(t, c); len(got) != 0 {
			t.Errorf("read %q through a blackhole", got)
		}
		if took := time.Since(start); took < to {
			t.Errorf("connection closed after %v, want at least the timeout %v", took, to)
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireReset(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		old := wireDial(t, listen)
		wireRoundTrip(t, old, []byte("before"))
		ts := wireToggles(t, "reset", tp{}, 10*time.Second)
		// Added before connecting: the connection is reset once data flows.
		wireApply(t, b, ts, false)
		c := wireDial(t, listen)
		// No data, no reset.
		wireSilent(t, c, 100*time.Millisecond)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		got, err := wireReadAll(t, c)
		if len(got) != 0 || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("after data through reset_peer: read %q, %v; want ECONNRESET", got, err)
		}
		// A connection opened before the toxic is closed, not reset.
		if _, err := old.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		got, err = wireReadAll(t, old)
		if len(got) != 0 || err != nil {
			t.Errorf("connection opened before reset_peer: read %q, %v; want a plain EOF", got, err)
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireTruncate(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		const n = 100
		ts := wireToggles(t, "truncate", tp{"bytes": int64(n), "stream": "down"}, 10*time.Second)
		wireApply(t, b, ts, false)
		payload := bytes.Repeat([]byte("abcdefghij"), 30)
		// Per connection: every new connection passes n bytes again.
		for i := 0; i < 2; i++ {
			c := wireDial(t, listen)
			if _, err := c.Write(payload); err != nil {
				t.Fatal(err)
			}
			got, err := wireReadAll(t, c)
			if err != nil || !bytes.Equal(got, payload[:n]) {
				t.Errorf("connection %d read %d bytes %q, %v; want exactly the first %d, then EOF", i, len(got), got, err, n)
			}
		}
		wireApply(t, b, ts, true)
		c := wireDial(t, listen)
		wireRoundTrip(t, c, payload)
		wireHealthy(t, b, "A->B", listen)
	})
}

// TestWireSlice checks what Toxiproxy's slicer (v2.12.0, toxics/slicer.go)
// guarantees a reader, however busy the machine: it cuts each chunk into
// pieces of at most average_size+size_variation bytes and waits delay after
// each, so the echo comes back intact, no sooner than (fragments-1) delays
// after the write, in more than one arrival. A late reader takes several
// fragments in one read, so neither read sizes nor the number of reads are
// asserted (under load a read took 36 bytes where fragments are at most 14).
func TestWireSlice(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		const avg, vari, delay = 10, 4, 30 * time.Millisecond
		ts := wireToggles(t, "slice", tp{"average_size": int64(avg), "size_variation": int64(vari), "delay": delay, "stream": "down"}, 10*time.Second)
		wireApply(t, b, ts, false)
		c := wireDial(t, listen)
		payload := bytes.Repeat([]byte("0123456789"), 12)
		start := time.Now()
		if _, err := c.Write(payload); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(payload)) // room for all of it: coalesced fragments come in one read
		a, err := readArrivals(c, got, delay/2)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload) {
			t.Fatalf("echo differs: %q", got)
		}
		// At least ceil(120/14) = 9 fragments, 8 waits of delay between the
		// first and the last. Catches a delay sent as ms where µs are read,
		// or the reverse, and a slicer that does not cut.
		frags := (len(payload) + avg + vari - 1) / (avg + vari)
		if min := time.Duration(frags-1) * delay; took < min {
			t.Errorf("%d bytes in at least %d fragments came back after %v, want at least %v", len(payload), frags, took, min)
		}
		if a.arrivals < 2 {
			t.Errorf("echo came in %d reads, %d arrival(s) at least %v apart; want the %d fragments to arrive apart",
				a.reads, a.arrivals, delay/2, frags)
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireSlowClose(t *testing.T) {
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		// The server echoes; on a first byte 'q' it answers "bye" and closes,
		// reporting when. It reports when it saw the client's EOF.
		closedAt, eofAt := make(chan time.Time, 4), make(chan time.Time, 4)
		srv := testkit.Serve(t, func(c net.Conn) {
			first := make([]byte, 1)
			if _, err := io.ReadFull(c, first); err != nil {
				return
			}
			if first[0] == 'q' {
				_, _ = c.Write([]byte("bye"))
				closedAt <- time.Now()
				_ = c.Close()
				return
			}
			_, _ = c.Write(first)
			_, _ = io.Copy(c, c)
			eofAt <- time.Now()
		})
		listen := wireProxy(t, b, "A->B", srv)
		const delay = 300 * time.Millisecond
		ts := wireToggles(t, "slow_close", tp{"delay": delay}, 10*time.Second)
		wireApply(t, b, ts, false)

		// The client half-closes: the server sees that FIN late (upstream),
		// and the client sees the server's FIN late (downstream).
		c := wireDial(t, listen)
		wireRoundTrip(t, c, []byte("hello"))
		start := time.Now()
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if got, err := wireReadAll(t, c); len(got) != 0 || err != nil {
			t.Errorf("after half-close: read %q, %v; want EOF", got, err)
		}
		if took := time.Since(start); took < delay {
			t.Errorf("client saw the FIN %v after its half-close, want at least %v", took, delay)
		}
		select {
		case at := <-eofAt:
			if d := at.Sub(start); d < delay {
				t.Errorf("server saw the client's FIN %v after the half-close, want at least %v", d, delay)
			}
		case <-time.After(wireBound):
			t.Fatal("server never saw EOF")
		}

		// The server closes: the client sees the FIN late.
		c = wireDial(t, listen)
		if _, err := c.Write([]byte("q")); err != nil {
			t.Fatal(err)
		}
		got, err := wireReadAll(t, c)
		eof := time.Now()
		if string(got) != "bye" || err != nil {
			t.Errorf("read %q, %v; want \"bye\" then EOF", got, err)
		}
		select {
		case at := <-closedAt:
			if d := eof.Sub(at); d < delay {
				t.Errorf("client saw the server's FIN %v after it closed, want at least %v", d, delay)
			}
		case <-time.After(wireBound):
			t.Fatal("server never closed")
		}
		wireApply(t, b, ts, true)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireCutAt(t *testing.T) {
	var frames [][]byte
	for _, u := range []minip1.Unit{
		{Kind: minip1.KindCR, SrcRef: 7, CallingTSAP: "A", CalledTSAP: "B"},
		{Kind: minip1.KindBind, MTAName: "c=US;a= ;p=ORG;o=Site;cn=A", Password: "pw", AssocID: 1, Window: 4},
		{Kind: minip1.KindTransfer, Seq: 1, Flags: minip1.FlagLast, MsgID: "m1", Payload: []byte("body"), Total: 4},
	} {
		f, err := minip1.AppendFrame(nil, &u, minip1.MaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	all := bytes.Join(frames, nil)
	upToBind := len(frames[0]) + len(frames[1])
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		listen := wireProxy(t, b, "A->B", testkit.Serve(t, testkit.Echo))
		ts := wireToggles(t, "cut_at", tp{"unit": "BIND", "index": int64(1), "stream": "down"}, 10*time.Second)
		wireApply(t, b, ts, false)
		c := wireDial(t, listen)
		if _, err := c.Write(all); err != nil {
			t.Fatal(err)
		}
		got, err := wireReadAll(t, c)
		if err != nil || !bytes.Equal(got, all[:upToBind]) {
			t.Errorf("read %d bytes, %v; want the %d bytes of CR+BIND, then EOF", len(got), err, upToBind)
		}
		wireApply(t, b, ts, true)
		c = wireDial(t, listen)
		wireRoundTrip(t, c, all)
		wireHealthy(t, b, "A->B", listen)
	})
}

func TestWireSwizzle(t *testing.T) {
	links := []string{"A->B", "B->C", "C->A"}
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		srv := testkit.Serve(t, testkit.Echo)
		listen := map[string]string{}
		for _, l := range links {
			listen[l] = wireProxy(t, b, l, srv)
		}
		s, err := Expand("wire", 7, []Spec{{Type: "swizzle", Params: tp{"links": links, "step": 100 * time.Millisecond}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Toggles) < 2*len(links) {
			t.Fatalf("swizzle expanded to %d toggles, want a disable and an enable per link: %+v", len(s.Toggles), s.Toggles)
		}
		down := map[string]bool{}
		for _, g := range s.Toggles {
			if err := Apply(testkit.Context(t), b, wireProxyName(g.Link), g); err != nil {
				t.Fatal(err)
			}
			down[g.Link] = g.Action == ActDisable
			for _, l := range links {
				if down[l] {
					wireRefused(t, listen[l])
				} else {
					c := wireDial(t, listen[l])
					wireRoundTrip(t, c, []byte(l))
					_ = c.Close()
				}
			}
		}
		for _, l := range links {
			wireHealthy(t, b, l, listen[l])
		}
	})
}

// TestWireStorm applies a whole storm of every mixable kind, in order and
// without waiting, to three links: every toggle must be accepted by the
// server (no duplicate toxic, no removal of a missing one) and the links
// must end healthy.
func TestWireStorm(t *testing.T) {
	links := []string{"A->B", "B->A", "B->C"}
	kinds := []string{"latency", "refuse", "reset", "truncate", "slice", "bandwidth", "blackhole", "slow_close", "cut_at", "cycle"}
	wireBackends(t, func(t *testing.T, b toxi.Backend) {
		srv := testkit.Serve(t, testkit.Echo)
		listen := map[string]string{}
		for _, l := range links {
			listen[l] = wireProxy(t, b, l, srv)
		}
		for seed := int64(1); seed <= 3; seed++ {
			sp := Spec{Type: "storm", At: time.Second, Until: 6 * time.Second, Params: tp{"links": links, "kinds": kinds, "rate": 8.0}}
			s, err := Expand("wire", seed, []Spec{sp})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Toggles) == 0 {
				t.Fatalf("seed %d: the storm expanded to no toggle: nothing to apply", seed)
			}
			// A connection open through each link while the storm rages.
			for _, l := range links {
				c := wireDial(t, listen[l])
				_, _ = c.Write([]byte("storm"))
			}
			for _, g := range s.Toggles {
				if err := Apply(testkit.Context(t), b, wireProxyName(g.Link), g); err != nil {
					t.Fatalf("seed %d: Apply(%+v): %v", seed, g, err)
				}
			}
			for _, l := range links {
				wireHealthy(t, b, l, listen[l])
			}
		}
	})
}

package cutat_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/faults/toxi/cutat"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/minip1"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds a blocking step so that a bug fails the test instead of
// hanging it; it is never a guess at how long something takes.
const failAfter = 10 * time.Second

func mustFrame(t *testing.T, u minip1.Unit) []byte {
	t.Helper()
	b, err := minip1.AppendFrame(nil, &u, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type frames struct{ cr, cc, bind, accept, transfer []byte }

func testFrames(t *testing.T) frames {
	return frames{
		cr:       mustFrame(t, minip1.Unit{Kind: minip1.KindCR, SrcRef: 1, CallingTSAP: "A", CalledTSAP: "B"}),
		cc:       mustFrame(t, minip1.Unit{Kind: minip1.KindCC, DstRef: 1, SrcRef: 2}),
		bind:     mustFrame(t, minip1.Unit{Kind: minip1.KindBind, MTAName: "cn=A", Password: "pw", AssocID: 5, Window: 4}),
		accept:   mustFrame(t, minip1.Unit{Kind: minip1.KindBindAccept, MTAName: "cn=B", AssocID: 5, Window: 4}),
		transfer: mustFrame(t, minip1.Unit{Kind: minip1.KindTransfer, Seq: 1, Flags: minip1.FlagLast, MsgID: "m", Payload: []byte("body"), Total: 4}),
	}
}

// received is what one side of the connection read until EOF.
type received struct {
	data []byte
	err  error // nil on a clean EOF
}

// readAll reads c until EOF (bounded by failAfter).
func readAll(c net.Conn) received {
	_ = c.SetReadDeadline(time.Now().Add(failAfter))
	b, err := io.ReadAll(c)
	return received{b, err}
}

// server is a one-connection TCP server on 127.0.0.1:0: it writes send,
// then reads until EOF and reports what it read.
func server(t *testing.T, send [][]byte) (addr string, got <-chan received) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan received, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			ch <- received{err: err}
			return
		}
		defer c.Close()
		for _, b := range send {
			if _, err := c.Write(b); err != nil {
				break
			}
		}
		ch <- readAll(c)
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
	})
	return ln.Addr().String(), ch
}

var proxySeq atomic.Int64

// through runs one connection through a fresh proxy of b carrying toxic:
// the client writes up (each element a separate Write, or all in one if
// oneWrite), the server writes down; it returns what the server and the
// client read until EOF. The client never closes its side unless
// closeWrite is set (then it half-closes after writing), so with it unset
// any EOF the server sees comes from the toxic.
func through(t *testing.T, b toxi.Backend, toxic toxi.Toxic, up, down [][]byte, oneWrite, closeWrite bool) (atServer, atClient received) {
	t.Helper()
	ctx := testkit.Context(t)
	addr, got := server(t, down)
	name := fmt.Sprintf("%scutat-%d", toxi.ProxyPrefix, proxySeq.Add(1))
	listen, err := b.CreateProxy(ctx, name, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Remove(context.Background(), name) })
	if err := b.AddToxic(ctx, name, toxic); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if oneWrite {
		up = [][]byte{bytes.Join(up, nil)}
	}
	for _, p := range up {
		if _, err := c.Write(p); err != nil {
			break // the cut may already have closed the connection
		}
	}
	if closeWrite {
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	clientDone := make(chan received, 1)
	go func() { clientDone <- readAll(c) }()
	select {
	case atServer = <-got:
	case <-time.After(failAfter):
		t.Fatal("server never saw EOF")
	}
	atClient = <-clientDone
	return atServer, atClient
}

func cutAt(unit string, index int, stream string) toxi.Toxic {
	return toxi.Toxic{Name: "cut", Type: cutat.Type, Stream: stream,
		Attributes: map[string]any{"unit": unit, "index": index}}
}

func backends(t *testing.T) map[string]toxi.Backend {
	t.Helper()
	ctx := testkit.Context(t)
	e, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	r, err := toxi.NewRemote(ctx, e.URL(), toxi.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return map[string]toxi.Backend{"embedded": e, "remote": r}
}

func TestWireCutAfterBind(t *testing.T) {
	f := testFrames(t)
	want := append(append([]byte(nil), f.cr...), f.bind...)
	for name, b := range backends(t) {
		for _, oneWrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/oneWrite=%v", name, oneWrite), func(t *testing.T) {
				srv, cli := through(t, b, cutAt("BIND", 1, "upstream"),
					[][]byte{f.cr, f.bind, f.transfer}, nil, oneWrite, false)
				if srv.err != nil {
					t.Fatalf("server read error %v, want a clean EOF", srv.err)
				}
				if !bytes.Equal(srv.data, want) {
					t.Fatalf("server got %d bytes % X, want CR+BIND (%d bytes)", len(srv.data), srv.data, len(want))
				}
				if len(cli.data) != 0 {
					t.Fatalf("client read %d bytes", len(cli.data))
				}
			})
		}
	}
}

func TestWireCutDownstreamSecondUnit(t *testing.T) {
	f := testFrames(t)
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			// The server sends CC, BIND-ACCEPT, BIND-ACCEPT; the toxic cuts
			// downstream after the second BIND-ACCEPT.
			_, cli := through(t, b, cutAt("bind_accept", 2, "downstream"),
				nil, [][]byte{f.cc, f.accept, f.accept, f.transfer}, false, false)
			want := bytes.Join([][]byte{f.cc, f.accept, f.accept}, nil)
			if cli.err != nil || !bytes.Equal(cli.data, want) {
				t.Fatalf("client got %d bytes (err %v), want %d then EOF", len(cli.data), cli.err, len(want))
			}
		})
	}
}

func TestWireNotMiniP1PassesThrough(t *testing.T) {
	payload := []byte("EHLO example.org\r\nMAIL FROM:<a@b>\r\n")
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			srv, _ := through(t, b, cutAt("CR", 1, "upstream"), [][]byte{payload}, nil, true, true)
			if srv.err != nil {
				t.Fatalf("server read error %v", srv.err)
			}
			if !bytes.Equal(srv.data, payload) {
				t.Fatalf("server got %q, want %q", srv.data, payload)
			}
		})
	}
}

func TestWireInvalidUnitRejected(t *testing.T) {
	ctx := testkit.Context(t)
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			addr, _ := server(t, nil)
			proxy := toxi.ProxyPrefix + "cutat-invalid-" + name
			if _, err := b.CreateProxy(ctx, proxy, addr); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Remove(context.Background(), proxy) })
			for _, tox := range []toxi.Toxic{cutAt("BINDING", 1, "upstream"), cutAt("BIND", 0, "upstream")} {
				err := b.AddToxic(ctx, proxy, tox)
				if err == nil || !strings.Contains(err.Error(), "bad request body: cut_at:") {
					t.Errorf("%v: err %v, want a bad request from cut_at", tox.Attributes, err)
				}
			}
			ps, err := b.Proxies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Name == proxy && len(p.Toxics) != 0 {
					t.Fatalf("rejected toxic was added: %+v", p.Toxics)
				}
			}
			// A valid one is accepted and listed with its attributes.
			if err := b.AddToxic(ctx, proxy, toxi.Toxic{Name: "ok", Type: cutat.Type, Stream: "upstream",
				Attributes: map[string]any{"unit": "BIND"}}); err != nil {
				t.Fatal(err)
			}
			ps, err = b.Proxies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				if p.Name != proxy {
					continue
				}
				if len(p.Toxics) != 1 || p.Toxics[0].Attributes["unit"] != "BIND" || p.Toxics[0].Attributes["index"] != float64(1) {
					t.Fatalf("listed toxics %+v, want one cut_at BIND index 1", p.Toxics)
				}
			}
		})
	}
}

// TestWireWritesAfterCut writes to the proxy after the server has seen the
// cut: the chunk must not wedge the proxy's goroutines (TestMain checks for
// leaks after every test has closed its backends).
func TestWireWritesAfterCut(t *testing.T) {
	f := testFrames(t)
	ctx := testkit.Context(t)
	for name, b := range backends(t) {
		t.Run(name, func(t *testing.T) {
			addr, got := server(t, nil)
			proxy := toxi.ProxyPrefix + "cutat-after-" + name
			listen, err := b.CreateProxy(ctx, proxy, addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Remove(context.Background(), proxy) })
			if err := b.AddToxic(ctx, proxy, cutAt("CR", 1, "upstream")); err != nil {
				t.Fatal(err)
			}
			c, err := net.Dial("tcp", listen)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write(f.cr); err != nil {
				t.Fatal(err)
			}
			if srv := <-got; srv.err != nil || !bytes.Equal(srv.data, f.cr) {
				t.Fatalf("server got % X (err %v), want CR then EOF", srv.data, srv.err)
			}
			for range 3 {
				if _, err := c.Write(f.bind); err != nil {
					break // the proxy closed the client side meanwhile
				}
			}
			if cli := readAll(c); len(cli.data) != 0 {
				t.Fatalf("client read %d bytes", len(cli.data))
			}
		})
	}
}

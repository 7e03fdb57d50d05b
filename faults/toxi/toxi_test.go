package toxi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

func TestNewRemoteClosedPort(t *testing.T) {
	url := "http://" + testkit.ClosedAddr(t)
	_, err := NewRemote(testkit.Context(t), url, RemoteOptions{CallTimeout: failAfter})
	if err == nil {
		t.Fatal("NewRemote on a closed port succeeded")
	}
	if !strings.HasPrefix(err.Error(), "toxi: ping on "+url+": ") {
		t.Fatalf("error %q does not name the url", err)
	}
	// Refused, not timed out: it failed fast.
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want ECONNREFUSED", err)
	}
}

func TestNewRemoteHungServer(t *testing.T) {
	// A server that accepts TCP but never answers HTTP.
	url := "http://" + testkit.Serve(t, testkit.Hold)
	_, err := NewRemote(testkit.Context(t), url, RemoteOptions{CallTimeout: 50 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("NewRemote on a hung server: %v, want deadline exceeded", err)
	}
	if want := "toxi: ping on " + url + ": context deadline exceeded"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8474":  "http://127.0.0.1:8474",
		"http://127.0.0.1:8474/": "http://127.0.0.1:8474",
		"127.0.0.1:8474":         "http://127.0.0.1:8474",
		" localhost:8474 ":       "http://localhost:8474",
	} {
		if got, err := normalizeURL(in); err != nil || got != want {
			t.Errorf("normalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ftp://x:1", "http://"} {
		if got, err := normalizeURL(in); err == nil {
			t.Errorf("normalizeURL(%q) = %q, want an error", in, got)
		}
	}
}

// TestEmbeddedCallTimeout holds the gate exclusively so that a call cannot
// get it, as when an earlier call over the whole server is stuck inside
// Toxiproxy.
func TestEmbeddedCallTimeout(t *testing.T) {
	e := newEmbedded(t, EmbeddedOptions{CallTimeout: 50 * time.Millisecond, RemoveToxicTimeout: 50 * time.Millisecond})
	holdGate(t, e)
	err := e.Disable(testkit.Context(t), "mtastorm-A-B")
	e.gate.unlock(true)
	want := "toxi: disable mtastorm-A-B on " + e.URL() + ": context deadline exceeded"
	if err == nil || err.Error() != want || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want %q", err, want)
	}

	// A call over the whole server that gets the gate but is stuck is
	// abandoned at the timeout and keeps the gate until it returns: the
	// calls behind it time out cleanly, those handed to a worker and
	// Enable, which runs on the caller's goroutine, alike.
	name := ProxyPrefix + "A-B"
	mustCreate(t, e, name, testkit.Serve(t, testkit.Echo))
	release := make(chan struct{})
	ran := false // written by the stuck call, read once it has returned
	stuck := make(chan error, 1)
	go func() {
		stuck <- e.Do(testkit.Context(t), "stuck", "p", func(*toxiproxy.ApiServer) error { <-release; ran = true; return nil })
	}()
	select {
	case err := <-stuck:
		if !errors.Is(err, context.DeadlineExceeded) {
			close(release)
			t.Fatalf("stuck call: %v, want deadline exceeded", err)
		}
	case <-time.After(failAfter):
		close(release)
		t.Fatal("stuck call not abandoned at its timeout")
	}
	if e.gate.try(true) == nil {
		e.gate.unlock(true)
		close(release)
		t.Fatal("the gate is free while the abandoned call still runs")
	}
	behind := []struct {
		op   string
		call func(context.Context) error
	}{
		{"proxies", func(ctx context.Context) error { _, err := e.Proxies(ctx); return err }},
		{"disable", func(ctx context.Context) error { return e.Disable(ctx, name) }},
		{"enable", func(ctx context.Context) error { return e.Enable(ctx, name) }},
		{"add-toxic", func(ctx context.Context) error {
			return e.AddToxic(ctx, name, Toxic{Type: "latency", Stream: "upstream"})
		}},
		{"remove-toxic", func(ctx context.Context) error { return e.RemoveToxic(ctx, name, "latency_upstream") }},
	}
	for _, b := range behind {
		if err := b.call(testkit.Context(t)); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "toxi: "+b.op+" ") {
			close(release)
			t.Fatalf("%s behind a stuck call: %v, want its deadline exceeded", b.op, err)
		}
	}
	// Cancelling the caller's ctx ends the wait for the token too, long
	// before the call timeout (10s) of a second backend whose token is
	// held.
	e2 := newEmbedded(t, EmbeddedOptions{CallTimeout: failAfter})
	holdGate(t, e2)
	ctx, cancel := context.WithCancel(testkit.Context(t))
	stop := time.AfterFunc(time.Millisecond, cancel)
	err = e2.Enable(ctx, name)
	stop.Stop()
	cancel()
	e2.gate.unlock(true)
	if !errors.Is(err, context.Canceled) {
		close(release)
		t.Fatalf("enable with its ctx cancelled while waiting: %v, want canceled", err)
	}

	close(release)
	if _, err := e.Proxies(testkit.Context(t)); err != nil {
		t.Fatalf("after the stuck call returned: %v", err)
	}
	if !ran {
		t.Fatal("the abandoned call did not run to its end before the next call")
	}
	for _, b := range behind {
		if err := b.call(testkit.Context(t)); err != nil {
			t.Errorf("%s after the stuck call returned: %v", b.op, err)
		}
	}
}

// TestEmbeddedHTTPAndInProcess drives the same proxy through the HTTP API
// (GET /proxies, and a Remote's enable/disable) and in-process at once; with
// -race this fails unless the two paths are serialised.
func TestEmbeddedHTTPAndInProcess(t *testing.T) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	e := newEmbedded(t, EmbeddedOptions{CallTimeout: failAfter})
	r, err := NewRemote(ctx, e.URL(), RemoteOptions{CallTimeout: failAfter})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(ctx)
	const n = 40
	names := []string{ProxyPrefix + "A-B", ProxyPrefix + "B-A"}
	for _, name := range names {
		mustCreate(t, e, name, echo)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: failAfter}

	var wg sync.WaitGroup
	errs := make(chan error, 4*n)
	wg.Add(3)
	go func() { // raw HTTP reader
		defer wg.Done()
		for range n {
			resp, err := hc.Get(e.URL() + "/proxies")
			if err != nil {
				errs <- err
				return
			}
			_ = resp.Body.Close()
		}
	}()
	go func() { // in-process toggler
		defer wg.Done()
		for range n {
			if err := e.Disable(ctx, names[0]); err != nil {
				errs <- err
			}
			if err := e.Enable(ctx, names[0]); err != nil {
				errs <- err
			}
		}
	}()
	go func() { // HTTP toggler and reader
		defer wg.Done()
		for i := range n {
			if err := r.Disable(ctx, names[1]); err != nil {
				errs <- err
			}
			if err := r.Enable(ctx, names[1]); err != nil {
				errs <- err
			}
			if _, err := r.Proxies(ctx); err != nil {
				errs <- err
			}
			if err := r.AddToxic(ctx, names[0], Toxic{Name: fmt.Sprint("t", i), Type: "latency", Stream: "upstream"}); err != nil {
				errs <- err
			}
			if _, err := e.Proxies(ctx); err != nil {
				errs <- err
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, name := range names {
		if p, _ := proxyInfo(t, e, name); !p.Enabled {
			t.Fatalf("%s ended disabled", name)
		}
	}
}

func TestEmbeddedCloseStopsEverything(t *testing.T) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	e, err := NewEmbedded(ctx, EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	listen := mustCreate(t, e, ProxyPrefix+"A-B", echo)
	c := dial(t, listen)
	c.roundTrip(t, "x")
	if err := e.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitClosed(t)
	assertRefused(t, listen)
	assertRefused(t, strings.TrimPrefix(e.URL(), "http://"))
	if _, err := e.CreateProxy(ctx, ProxyPrefix+"C-D", echo); !errors.Is(err, ErrClosed) {
		t.Fatalf("create after close: %v, want ErrClosed", err)
	}
}

// TestEnabledProxyDeadUpstream records a Toxiproxy fact: an enabled proxy
// whose upstream is down accepts the dial and then closes it, it does not
// refuse.
func TestEnabledProxyDeadUpstream(t *testing.T) {
	e := newEmbedded(t, EmbeddedOptions{})
	listen := mustCreate(t, e, ProxyPrefix+"A-B", testkit.ClosedAddr(t))
	dial(t, listen).waitClosed(t)
}

func TestOpen(t *testing.T) {
	ctx := testkit.Context(t)
	t.Setenv(EnvURL, "")
	b, err := Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	e, ok := b.(*Embedded)
	if !ok {
		t.Fatalf("Open without a url = %T, want *Embedded", b)
	}
	defer e.Close(ctx)

	b, err = Open(ctx, e.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := b.(*Remote); !ok || r.URL() != e.URL() {
		t.Fatalf("Open(url) = %T %s, want *Remote at %s", b, b.URL(), e.URL())
	}
	_ = b.Close(ctx)

	t.Setenv(EnvURL, e.URL())
	b, err = Open(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := b.(*Remote); !ok || r.URL() != e.URL() {
		t.Fatalf("Open with %s set = %T, want *Remote", EnvURL, b)
	}
	_ = b.Close(ctx)

	dead := "http://" + testkit.ClosedAddr(t)
	t.Setenv(EnvURL, dead)
	if _, err := Open(ctx, "", nil); err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("Open with a dead %s: %v, want an error naming it", EnvURL, err)
	}
}

// holdGate takes e's gate exclusively, as a call over the whole server
// does; the caller unlocks it.
func holdGate(t *testing.T, e *Embedded) {
	t.Helper()
	if err := e.gate.lock(testkit.Context(t), true, nil); err != nil {
		t.Fatal(err)
	}
}

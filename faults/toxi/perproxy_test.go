package toxi

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

// holdType is a toxic for tests only: it passes data through, and when it
// is interrupted (Toxiproxy's RemoveToxic interrupts the toxic it removes
// and waits for it to return) it reports so and waits for its release. So
// a RemoveToxic of it stays inside Toxiproxy, holding the proxy's toxic
// collection, as a removal that drains a congested link's backlog does.
const holdType = "mtastorm_test_hold"

// holdToxic is the holdType toxic; Key names its hold in holds.
type holdToxic struct {
	Key string `json:"key"`
}

// hold is what a holdToxic reports to and waits for.
type hold struct {
	interrupted chan struct{} // receives once per interrupt
	release     chan struct{} // closed by the test
}

var holds sync.Map // key → *hold

func init() { toxics.Register(holdType, new(holdToxic)) }

// Pipe implements toxics.Toxic.
func (h *holdToxic) Pipe(stub *toxics.ToxicStub) {
	v, _ := holds.Load(h.Key)
	hd, _ := v.(*hold)
	for {
		select {
		case <-stub.Interrupt:
			if hd != nil {
				hd.interrupted <- struct{}{}
				<-hd.release
			}
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			stub.Output <- c
		}
	}
}

func newHold(t *testing.T) (string, *hold) {
	t.Helper()
	key := t.Name()
	h := &hold{interrupted: make(chan struct{}, 1), release: make(chan struct{})}
	holds.Store(key, h)
	t.Cleanup(func() { holds.Delete(key) })
	return key, h
}

// TestEmbeddedStuckProxyBlocksOnlyItself holds a RemoveToxic inside
// Toxiproxy on one proxy (as on a congested link whose backlog drains
// through the rest of the chain) and checks that calls on other proxies
// complete meanwhile, while a call on the same proxy, and one over the
// whole server, wait for it.
func TestEmbeddedStuckProxyBlocksOnlyItself(t *testing.T) {
	ctx := testkit.Context(t)
	e := newEmbedded(t, EmbeddedOptions{CallTimeout: failAfter})
	echo := testkit.Serve(t, testkit.Echo)
	stuck, other := ProxyPrefix+"A-B", ProxyPrefix+"B-A"
	listen := mustCreate(t, e, stuck, echo)
	mustCreate(t, e, other, echo)
	key, h := newHold(t)
	released := false
	release := func() {
		if !released {
			released = true
			close(h.release)
		}
	}
	defer release()
	if err := e.AddToxic(ctx, stuck, Toxic{Name: "hold", Type: holdType, Stream: "upstream",
		Attributes: map[string]any{"key": key}}); err != nil {
		t.Fatal(err)
	}
	c := dial(t, listen)
	c.roundTrip(t, "through the hold") // the connection's link has the toxic

	removed := make(chan error, 1)
	go func() { removed <- e.RemoveToxic(ctx, stuck, "hold") }()
	select {
	case <-h.interrupted:
	case err := <-removed:
		t.Fatalf("RemoveToxic returned (%v) without interrupting the held toxic", err)
	case <-time.After(failAfter):
		t.Fatal("RemoveToxic never interrupted the held toxic")
	}
	// The removal is inside Toxiproxy and holds the stuck proxy's lock.

	for _, call := range []struct {
		op string
		fn func() error
	}{
		{"disable", func() error { return e.Disable(ctx, other) }},
		{"enable", func() error { return e.Enable(ctx, other) }},
		{"add-toxic", func() error {
			return e.AddToxic(ctx, other, Toxic{Name: "lat", Type: "latency", Stream: "downstream"})
		}},
		{"remove-toxic", func() error { return e.RemoveToxic(ctx, other, "lat") }},
		{"create", func() error { _, err := e.CreateProxy(ctx, ProxyPrefix+"C-D", echo); return err }},
	} {
		if err := call.fn(); err != nil {
			t.Fatalf("%s on another proxy while %s's RemoveToxic is held: %v", call.op, stuck, err)
		}
	}

	// A call on the stuck proxy and one over the whole server wait for it.
	behind := make(chan error, 1)
	go func() { behind <- e.Disable(ctx, stuck) }()
	listed := make(chan error, 1)
	go func() { _, err := e.Proxies(ctx); listed <- err }()
	testkit.Eventually(t, failAfter, "the disable waiting for the stuck proxy's lock", func() bool {
		e.locksMu.Lock()
		defer e.locksMu.Unlock()
		return e.locks[stuck] != nil && e.locks[stuck].refs == 2
	})
	select {
	case err := <-behind:
		t.Fatalf("disable of %s finished (%v) while its RemoveToxic is held", stuck, err)
	case err := <-listed:
		t.Fatalf("proxies finished (%v) while a call is in flight", err)
	default:
	}

	release()
	for what, ch := range map[string]chan error{"the held RemoveToxic": removed, "the disable behind it": behind, "proxies": listed} {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(failAfter):
			t.Fatalf("%s did not finish after the release", what)
		}
	}
	if p, _ := proxyInfo(t, e, stuck); p.Enabled || len(p.Toxics) != 0 {
		t.Fatalf("%s after the release: %+v, want disabled and no toxic", stuck, p)
	}
	e.locksMu.Lock()
	defer e.locksMu.Unlock()
	if len(e.locks) != 0 {
		t.Fatalf("%d proxy locks kept after every call ended, want none", len(e.locks))
	}
}

// TestEmbeddedParallelProxies toggles many proxies from as many goroutines
// while the whole server is listed in-process and over HTTP; under -race it
// fails if calls on different proxies touch shared Toxiproxy state
// unguarded.
func TestEmbeddedParallelProxies(t *testing.T) {
	ctx := testkit.Context(t)
	e := newEmbedded(t, EmbeddedOptions{CallTimeout: failAfter})
	echo := testkit.Serve(t, testkit.Echo)
	const proxies, rounds = 8, 10
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: failAfter}
	var wg sync.WaitGroup
	errs := make(chan error, proxies*rounds*4+2*rounds)
	for i := range proxies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("%sP%d", ProxyPrefix, i)
			if _, err := e.CreateProxy(ctx, name, echo); err != nil {
				errs <- err
				return
			}
			for range rounds {
				for _, err := range []error{
					e.Disable(ctx, name),
					e.Enable(ctx, name),
					e.AddToxic(ctx, name, Toxic{Name: "lat", Type: "latency", Stream: "upstream"}),
					e.RemoveToxic(ctx, name, "lat"),
				} {
					if err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			if _, err := e.Proxies(ctx); err != nil {
				errs <- err
			}
			resp, err := hc.Get(e.URL() + "/proxies")
			if err != nil {
				errs <- err
				continue
			}
			_ = resp.Body.Close()
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ps, err := e.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !p.Enabled || len(p.Toxics) != 0 {
			t.Errorf("%s ended %+v, want enabled without toxics", p.Name, p)
		}
	}
	if len(ps) != proxies {
		t.Errorf("%d proxies, want %d", len(ps), proxies)
	}
}

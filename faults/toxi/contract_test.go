package toxi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

func newEmbedded(t *testing.T, opts EmbeddedOptions) *Embedded {
	t.Helper()
	e, err := NewEmbedded(testkit.Context(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("close embedded: %v", err)
		}
	})
	return e
}

// backends are the Backend implementations the contract runs against; the
// remote one talks to an embedded server over HTTP.
var backends = []struct {
	name string
	open func(t *testing.T) Backend
}{
	{"embedded", func(t *testing.T) Backend { return newEmbedded(t, EmbeddedOptions{}) }},
	{"remote", func(t *testing.T) Backend {
		e := newEmbedded(t, EmbeddedOptions{})
		r, err := NewRemote(testkit.Context(t), e.URL(), RemoteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close(context.Background()) })
		return r
	}},
}

func TestContract(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, b.open(t))
				})
			}
		})
	}
}

var contract = []struct {
	name string
	run  func(t *testing.T, b Backend)
}{
	{"RoundTrip", contractRoundTrip},
	{"DisableEnable", contractDisableEnable},
	{"LatencyToxic", contractLatencyToxic},
	{"Remove", contractRemove},
	{"RemovePrefix", contractRemovePrefix},
	{"HTTPListsProxies", contractHTTPListsProxies},
	{"CancelledContext", contractCancelled},
	{"Errors", contractErrors},
	{"Closed", contractClosed},
}

func mustCreate(t *testing.T, b Backend, name, upstream string) string {
	t.Helper()
	listen, err := b.CreateProxy(testkit.Context(t), name, upstream)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(listen, "127.0.0.1:") || strings.HasSuffix(listen, ":0") {
		t.Fatalf("listen = %q, want 127.0.0.1:PORT", listen)
	}
	return listen
}

func proxyInfo(t *testing.T, b Backend, name string) (ProxyInfo, bool) {
	t.Helper()
	ps, err := b.Proxies(testkit.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return ProxyInfo{}, false
}

func contractRoundTrip(t *testing.T, b Backend) {
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	listen := mustCreate(t, b, name, echo)
	c := dial(t, listen)
	for _, s := range []string{"hello", "world", strings.Repeat("x", 100000)} {
		c.roundTrip(t, s)
	}
	p, ok := proxyInfo(t, b, name)
	if !ok {
		t.Fatalf("proxy %s not listed", name)
	}
	want := ProxyInfo{Name: name, Listen: listen, Upstream: echo, Enabled: true}
	if p.Name != want.Name || p.Listen != want.Listen || p.Upstream != want.Upstream || !p.Enabled || len(p.Toxics) != 0 {
		t.Fatalf("proxy info = %+v, want %+v", p, want)
	}
}

func contractDisableEnable(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	listen := mustCreate(t, b, name, echo)
	old := dial(t, listen)
	old.roundTrip(t, "before")

	for i := range 3 {
		if err := b.Disable(ctx, name); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			old.waitClosed(t)
		}
		assertRefused(t, listen)
		if err := b.Disable(ctx, name); err != nil { // idempotent
			t.Fatalf("second disable: %v", err)
		}
		if p, _ := proxyInfo(t, b, name); p.Enabled || p.Listen != listen {
			t.Fatalf("after disable: %+v, want disabled on %s", p, listen)
		}

		if err := b.Enable(ctx, name); err != nil {
			t.Fatal(err)
		}
		if err := b.Enable(ctx, name); err != nil { // idempotent
			t.Fatalf("second enable: %v", err)
		}
		if p, _ := proxyInfo(t, b, name); !p.Enabled || p.Listen != listen {
			t.Fatalf("after enable: %+v, want enabled on %s", p, listen)
		}
		dial(t, listen).roundTrip(t, "after")
	}
}

func contractLatencyToxic(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	listen := mustCreate(t, b, name, echo)
	dial(t, listen).roundTrip(t, "warm")

	const latency = 100 * time.Millisecond
	tox := Toxic{Name: "lat", Type: "latency", Stream: "downstream",
		Attributes: map[string]any{"latency": latency.Milliseconds()}}
	if err := b.AddToxic(ctx, name, tox); err != nil {
		t.Fatal(err)
	}
	if err := b.AddToxic(ctx, name, tox); !errors.Is(err, ErrExists) {
		t.Fatalf("adding the toxic twice: %v, want ErrExists", err)
	}
	p, _ := proxyInfo(t, b, name)
	if len(p.Toxics) != 1 || p.Toxics[0].Name != "lat" || p.Toxics[0].Type != "latency" ||
		p.Toxics[0].Stream != "downstream" || p.Toxics[0].Attributes["latency"] != float64(100) {
		t.Fatalf("toxics = %+v, want the latency toxic", p.Toxics)
	}

	c := dial(t, listen)
	if d := c.roundTrip(t, "slow"); d < latency {
		t.Fatalf("round trip with a %v latency toxic took %v", latency, d)
	}

	if err := b.RemoveToxic(ctx, name, "lat"); err != nil {
		t.Fatal(err)
	}
	if p, _ := proxyInfo(t, b, name); len(p.Toxics) != 0 {
		t.Fatalf("toxics after remove = %+v", p.Toxics)
	}
	c.roundTrip(t, "restored") // the existing connection still works
	dial(t, listen).roundTrip(t, "restored")
	if err := b.RemoveToxic(ctx, name, "lat"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing the toxic twice: %v, want ErrNotFound", err)
	}
}

func contractRemove(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	listen := mustCreate(t, b, name, echo)
	c := dial(t, listen)
	c.roundTrip(t, "x")
	if err := b.Remove(ctx, name); err != nil {
		t.Fatal(err)
	}
	c.waitClosed(t)
	assertRefused(t, listen)
	if _, ok := proxyInfo(t, b, name); ok {
		t.Fatal("removed proxy still listed")
	}
	if err := b.Remove(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v, want ErrNotFound", err)
	}
	// The name is free again.
	dial(t, mustCreate(t, b, name, echo)).roundTrip(t, "again")
}

func contractRemovePrefix(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	a := mustCreate(t, b, ProxyPrefix+"A-B", echo)
	bb := mustCreate(t, b, ProxyPrefix+"B-A", echo)
	other := mustCreate(t, b, "other-A-B", echo)
	if err := b.Disable(ctx, ProxyPrefix+"B-A"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RemovePrefix(ctx, ""); err == nil {
		t.Fatal("RemovePrefix with an empty prefix succeeded")
	}
	removed, err := b.RemovePrefix(ctx, ProxyPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(removed, ",") != ProxyPrefix+"A-B,"+ProxyPrefix+"B-A" {
		t.Fatalf("removed = %v", removed)
	}
	ps, err := b.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Name != "other-A-B" {
		t.Fatalf("left = %+v, want only other-A-B", ps)
	}
	assertRefused(t, a)
	assertRefused(t, bb)
	dial(t, other).roundTrip(t, "kept")
	removed, err = b.RemovePrefix(ctx, ProxyPrefix)
	if err != nil || len(removed) != 0 {
		t.Fatalf("second RemovePrefix = %v, %v", removed, err)
	}
	if err := b.Remove(ctx, "other-A-B"); err != nil {
		t.Fatal(err)
	}
}

func contractHTTPListsProxies(t *testing.T, b Backend) {
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	listen := mustCreate(t, b, name, echo)
	if !strings.HasPrefix(b.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q", b.URL())
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: failAfter}
	resp, err := hc.Get(b.URL() + "/proxies")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /proxies: %s", resp.Status)
	}
	var m map[string]struct {
		Listen   string `json:"listen"`
		Upstream string `json:"upstream"`
		Enabled  bool   `json:"enabled"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	p, ok := m[name]
	if !ok || p.Listen != listen || p.Upstream != echo || !p.Enabled {
		t.Fatalf("GET /proxies = %+v, want %s on %s", m, name, listen)
	}
}

func contractCancelled(t *testing.T, b Backend) {
	echo := testkit.Serve(t, testkit.Echo)
	name := ProxyPrefix + "A-B"
	mustCreate(t, b, name, echo)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"create":        func() error { _, err := b.CreateProxy(ctx, ProxyPrefix+"new", echo); return err },
		"disable":       func() error { return b.Disable(ctx, name) },
		"enable":        func() error { return b.Enable(ctx, name) },
		"remove":        func() error { return b.Remove(ctx, name) },
		"add-toxic":     func() error { return b.AddToxic(ctx, name, Toxic{Type: "latency", Stream: "upstream"}) },
		"remove-toxic":  func() error { return b.RemoveToxic(ctx, name, "x") },
		"proxies":       func() error { _, err := b.Proxies(ctx); return err },
		"remove-prefix": func() error { _, err := b.RemovePrefix(ctx, ProxyPrefix); return err },
	}
	for op, call := range calls {
		err := call()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: %v, want context.Canceled", op, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "toxi: "+op) || !strings.Contains(msg, b.URL()) {
			t.Errorf("%s: error %q does not name the call and backend", op, msg)
		}
	}
	ps, err := b.Proxies(testkit.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Name != name || !ps[0].Enabled || len(ps[0].Toxics) != 0 {
		t.Fatalf("a cancelled call changed the state: %+v", ps)
	}
}

func contractErrors(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	echo := testkit.Serve(t, testkit.Echo)
	missing := ProxyPrefix + "missing"
	err := b.Disable(ctx, missing)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("disable missing: %v, want ErrNotFound", err)
	}
	want := "toxi: disable " + missing + " on " + b.URL() + ": "
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	var te *Error
	if !errors.As(err, &te) || te.Op != "disable" || te.Proxy != missing || te.Backend != b.URL() {
		t.Fatalf("error %#v is not a *Error naming the call", err)
	}
	for op, err := range map[string]error{
		"enable":       b.Enable(ctx, missing),
		"remove":       b.Remove(ctx, missing),
		"add-toxic":    b.AddToxic(ctx, missing, Toxic{Type: "latency", Stream: "upstream"}),
		"remove-toxic": b.RemoveToxic(ctx, missing, "t"),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s on a missing proxy: %v, want ErrNotFound", op, err)
		}
	}

	name := ProxyPrefix + "A-B"
	mustCreate(t, b, name, echo)
	if _, err := b.CreateProxy(ctx, name, echo); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate create: %v, want ErrExists", err)
	}
	if _, err := b.CreateProxy(ctx, "", echo); err == nil {
		t.Fatal("create with an empty name succeeded")
	}
	for _, tox := range []Toxic{
		{Name: "bad", Type: "no-such-toxic", Stream: "upstream"},
		{Name: "bad", Type: "latency", Stream: "sideways"},
		{Name: "bad", Stream: "upstream"},
	} {
		if err := b.AddToxic(ctx, name, tox); err == nil || !strings.HasPrefix(err.Error(), "toxi: add-toxic ") {
			t.Errorf("AddToxic(%+v) = %v, want an error", tox, err)
		}
	}
	if p, _ := proxyInfo(t, b, name); len(p.Toxics) != 0 {
		t.Fatalf("bad toxics were added: %+v", p.Toxics)
	}
}

func contractClosed(t *testing.T, b Backend) {
	ctx := testkit.Context(t)
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := b.Proxies(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("proxies after close: %v, want ErrClosed", err)
	}
}

package toxi

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	zlog "github.com/rs/zerolog/log"

	// Registers the MiniP1-aware "cut_at" toxic with every Toxiproxy
	// server in the process, the embedded one included.
	_ "github.com/mtastorm/mtastorm/faults/toxi/cutat"
)

// EmbeddedOptions configures [NewEmbedded].
type EmbeddedOptions struct {
	// Logger receives debug lines for every call and warnings for abandoned
	// ones; nil discards.
	Logger *slog.Logger
	// CallTimeout bounds every call; 0 means [DefaultCallTimeout] (2s).
	CallTimeout time.Duration
	// RemoveToxicTimeout bounds RemoveToxic instead; 0 means
	// [DefaultRemoveToxicTimeout], and it is never below CallTimeout.
	RemoveToxicTimeout time.Duration
}

// DefaultRemoveToxicTimeout bounds the embedded backend's RemoveToxic.
// Toxiproxy's RemoveToxic flushes what the removed toxic holds through the
// rest of the chain before it returns, giving each chunk up to 5s to be
// written (ToxicLink.RemoveToxic, v2.12.0); when a later toxic on the
// stream has closed (reset_peer, limit_data, timeout) a chunk waits all of
// those 5s. The bound lets two such chunks through; a removal that takes
// that long holds back only its own proxy's next call.
const DefaultRemoveToxicTimeout = 12 * time.Second

// keptWorkers is how many worker goroutines NewEmbedded starts; they live
// until Close (see [Embedded.dispatch]). A call that finds none idle gets a
// goroutine of its own, which ends with the call.
const keptWorkers = 4

// Embedded runs a Toxiproxy server in this process: proxies in-process, its
// HTTP API served on its own 127.0.0.1:0 listener (so external tools and the
// remote backend can talk to it too). A control call on one proxy holds that
// proxy's lock; calls on different proxies run in parallel; calls over the
// whole server and the HTTP API run alone (see the package doc).
type Embedded struct {
	srv     *toxiproxy.ApiServer
	http    *http.Server
	url     string
	log     *slog.Logger
	timeout time.Duration
	// removeTimeout bounds RemoveToxic (see DefaultRemoveToxicTimeout).
	removeTimeout time.Duration

	// gate is held shared by every call on one proxy and exclusively by
	// the calls over the whole server and the HTTP API's requests.
	gate gate
	// locks holds a lock per proxy name while a call holds or waits for it.
	locksMu sync.Mutex
	locks   map[string]*proxyLock
	// calls feeds in-process calls to idle workers (see dispatch); only a
	// holder of the gate sends on it, and Close closes it.
	calls   chan ownerCall
	workers sync.WaitGroup // every worker goroutine
	closed  atomic.Bool
	served  chan struct{} // closed when the HTTP server's Serve returns

	closeMu  sync.Mutex
	closeErr error
	isClosed bool
}

// ownerCall is one in-process call handed to a worker.
type ownerCall struct {
	fn      func() error
	done    chan error // buffered, so the worker never waits for a caller that gave up
	release func()     // frees the call's locks once fn has returned
}

func (c ownerCall) run() {
	c.done <- c.fn()
	c.release()
}

// gate is a readers-writer lock whose waits honour a context and a
// deadline: shared holders are the calls on one proxy, an exclusive holder
// is alone. A waiting exclusive holder does not hold back new shared ones
// (a storm's toggles come in bursts; the exclusive waiter is bounded by its
// own timeout).
type gate struct {
	mu     sync.Mutex
	shared int
	excl   bool
	wake   chan struct{} // closed when the gate becomes free
}

// try takes the gate if it can at once; otherwise it returns a channel
// closed when the gate next becomes free.
func (g *gate) try(exclusive bool) <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.excl || exclusive && g.shared > 0 {
		if g.wake == nil {
			g.wake = make(chan struct{})
		}
		return g.wake
	}
	if exclusive {
		g.excl = true
	} else {
		g.shared++
	}
	return nil
}

func (g *gate) unlock(exclusive bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if exclusive {
		g.excl = false
	} else {
		g.shared--
	}
	if !g.excl && g.shared == 0 && g.wake != nil {
		close(g.wake)
		g.wake = nil
	}
}

// proxyLock is one proxy's lock: a token in a one-slot channel (taken by
// receiving, so that waiting for it honours ctx), and the count of calls
// holding or waiting for it, so that it is forgotten once none does.
type proxyLock struct {
	token chan struct{}
	refs  int
}

// callTimer bounds one call: the deadline is start + the call timeout; the
// timer is only made when the call has to wait. A nil *callTimer waits
// without a deadline.
type callTimer struct {
	start time.Time
	d     time.Duration
	t     *time.Timer
}

func (t *callTimer) c() <-chan time.Time {
	if t == nil {
		return nil
	}
	if t.t == nil {
		t.t = time.NewTimer(t.d - time.Since(t.start))
	}
	return t.t.C
}

func (t *callTimer) stop() {
	if t != nil && t.t != nil {
		t.t.Stop()
	}
}

// await receives from ch, bounded by ctx and t.
func await(ctx context.Context, ch <-chan struct{}, t *callTimer) error {
	select {
	case <-ch:
		return nil
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.c():
		return context.DeadlineExceeded
	}
}

// lockGate takes the gate, shared or exclusive, bounded by ctx and t.
func (g *gate) lock(ctx context.Context, exclusive bool, t *callTimer) error {
	for {
		wake := g.try(exclusive)
		if wake == nil {
			return nil
		}
		if err := await(ctx, wake, t); err != nil {
			return err
		}
	}
}

// lease is what a call holds: the gate (exclusive when proxy is nil) and,
// for a call on one proxy, that proxy's lock.
type lease struct {
	e     *Embedded
	name  string
	proxy *proxyLock
}

func (l lease) release() {
	if l.proxy == nil {
		l.e.gate.unlock(true)
		return
	}
	l.proxy.token <- struct{}{}
	l.e.unref(l.name, l.proxy)
	l.e.gate.unlock(false)
}

// ref returns name's lock, counting the caller among its users.
func (e *Embedded) ref(name string) *proxyLock {
	e.locksMu.Lock()
	defer e.locksMu.Unlock()
	pl := e.locks[name]
	if pl == nil {
		pl = &proxyLock{token: make(chan struct{}, 1)}
		pl.token <- struct{}{}
		e.locks[name] = pl
	}
	pl.refs++
	return pl
}

func (e *Embedded) unref(name string, pl *proxyLock) {
	e.locksMu.Lock()
	defer e.locksMu.Unlock()
	if pl.refs--; pl.refs == 0 {
		delete(e.locks, name)
	}
}

var silenceZerolog sync.Once

// NewEmbedded starts a Toxiproxy server in this process with its HTTP API on
// 127.0.0.1:0. It also silences zerolog globally (Toxiproxy's toxics log
// through zerolog's global logger).
func NewEmbedded(ctx context.Context, opts EmbeddedOptions) (*Embedded, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "start", Backend: "embedded", Err: err}
	}
	silenceZerolog.Do(func() {
		zerolog.SetGlobalLevel(zerolog.Disabled)
		zlog.Logger = zerolog.Nop()
	})
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, &Error{Op: "start", Backend: "embedded", Err: err}
	}
	e := &Embedded{
		srv:     srv,
		url:     "http://" + ln.Addr().String(),
		log:     orDiscard(opts.Logger),
		timeout: callTimeout(opts.CallTimeout),
		removeTimeout: max(callTimeout(opts.CallTimeout),
			cmp.Or(opts.RemoveToxicTimeout, DefaultRemoveToxicTimeout)),
		locks:  map[string]*proxyLock{},
		calls:  make(chan ownerCall),
		served: make(chan struct{}),
	}
	router := srv.Routes()
	// The last middleware added is the innermost: the gate is taken inside
	// Toxiproxy's own timeout handler, around the real handler only.
	router.Use(e.serialize)
	e.http = &http.Server{
		Handler:           router,
		ReadHeaderTimeout: 15 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	for range keptWorkers {
		e.workers.Add(1)
		go func() {
			defer e.workers.Done()
			for c := range e.calls {
				c.run()
			}
		}()
	}
	go func() {
		defer close(e.served)
		if err := e.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Warn("toxi: embedded api server stopped", "url", e.url, "err", err)
		}
	}()
	e.log.Debug("toxi: embedded toxiproxy started", "url", e.url)
	return e, nil
}

// serialize makes an HTTP API request hold the gate exclusively while
// Toxiproxy handles it (its handlers read proxies' fields without their
// locks).
func (e *Embedded) serialize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := e.gate.lock(r.Context(), true, nil); err != nil {
			return
		}
		defer e.gate.unlock(true)
		if e.closed.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"toxi: embedded server closed","status":503}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Server exposes the underlying *toxiproxy.ApiServer (for registering custom
// toxics later). Touching its Collection or proxies directly bypasses the
// backend's locks: do it only through [Embedded.Do].
func (e *Embedded) Server() *toxiproxy.ApiServer { return e.srv }

// Do runs fn alone (no other call and no HTTP request runs meanwhile),
// bounded by ctx and the call timeout, so that fn may touch the Toxiproxy
// state (e.Server()) without racing the backend's calls or its HTTP API.
// op and proxy name the call in errors. fn runs on a worker goroutine; it
// must not call e's methods, which would wait for the lock it holds. If the
// call times out, fn keeps running in the background and keeps everything
// else waiting until it returns.
func (e *Embedded) Do(ctx context.Context, op, proxy string, fn func(*toxiproxy.ApiServer) error) error {
	return e.do(ctx, op, proxy, true, func() error { return fn(e.srv) })
}

// URL returns the HTTP API base URL ("http://127.0.0.1:PORT").
func (e *Embedded) URL() string { return e.url }

func (e *Embedded) wrap(op, proxy string, err error) error {
	var ae *toxiproxy.ApiError
	if errors.As(err, &ae) {
		err = &apiError{Status: ae.StatusCode, Message: ae.Message}
	}
	return &Error{Op: op, Proxy: proxy, Backend: e.url, Err: err}
}

// acquire takes what a call needs: the gate exclusively (all), or the gate
// shared and the lock of the proxy named proxy, bounded by ctx and t. op
// and label name the call in errors. On an error nothing is held.
func (e *Embedded) acquire(ctx context.Context, op, label, proxy string, all bool, t *callTimer) (lease, error) {
	if err := ctx.Err(); err != nil {
		return lease{}, e.wrap(op, label, err)
	}
	if e.closed.Load() {
		return lease{}, e.wrap(op, label, ErrClosed)
	}
	if err := e.gate.lock(ctx, all, t); err != nil {
		return lease{}, e.wrap(op, label, err)
	}
	l := lease{e: e}
	if !all {
		l.name, l.proxy = proxy, e.ref(proxy)
		if err := await(ctx, l.proxy.token, t); err != nil {
			e.unref(proxy, l.proxy)
			e.gate.unlock(false)
			return lease{}, e.wrap(op, label, err)
		}
	}
	if e.closed.Load() {
		l.release()
		return lease{}, e.wrap(op, label, ErrClosed)
	}
	return l, nil
}

// dispatch hands c to an idle worker, or to a goroutine of its own when
// none is idle: calls on different proxies run in parallel, so a call never
// waits for a worker. Long-lived workers cost less per call than a new
// goroutine each time (≈ 10 µs less per toxic add here, see BENCHMARKS.md):
// handing a call over is a channel send, and a worker's stack stays grown,
// where a new goroutine grows its stack again for AddToxicJson's decoding.
func (e *Embedded) dispatch(c ownerCall) {
	select {
	case e.calls <- c:
		return
	default:
	}
	e.workers.Add(1)
	go func() {
		defer e.workers.Done()
		c.run()
	}()
}

// do runs fn on a worker holding the locks the call needs (all: the whole
// server; else the proxy named proxy), bounded by ctx and the call timeout:
// a call still running at the timeout is abandoned and keeps its locks
// until it returns. See Do.
func (e *Embedded) do(ctx context.Context, op, proxy string, all bool, fn func() error) error {
	return e.doOn(ctx, op, proxy, proxy, all, e.timeout, fn)
}

// doOn is do with the label that names the call in errors (proxy/toxic for
// a toxic call) apart from the proxy whose lock it takes, and the call's
// bound d.
func (e *Embedded) doOn(ctx context.Context, op, label, proxy string, all bool, d time.Duration, fn func() error) error {
	t := &callTimer{start: time.Now(), d: d}
	defer t.stop()
	l, err := e.acquire(ctx, op, label, proxy, all, t)
	if err != nil {
		return err
	}
	c := ownerCall{fn: fn, done: make(chan error, 1), release: l.release}
	e.dispatch(c)
	var cause error
	select {
	case err = <-c.done:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-t.c():
		cause = context.DeadlineExceeded
	}
	if cause != nil {
		select {
		case err = <-c.done: // finished at the same moment: report the truth
		default:
			e.log.Warn("toxi: call abandoned, it may still take effect",
				"op", op, "proxy", label, "url", e.url, "err", cause)
			return e.wrap(op, label, cause)
		}
	}
	return e.done(op, label, t.start, err)
}

// doInline runs fn on the caller's goroutine holding the proxy's lock and
// the gate shared: only for a fn that cannot block once they are held (see
// Enable), since nothing could abandon it. Waiting for the locks is still
// bounded by ctx and the call timeout.
func (e *Embedded) doInline(ctx context.Context, op, proxy string, fn func() error) error {
	t := &callTimer{start: time.Now(), d: e.timeout}
	l, err := e.acquire(ctx, op, proxy, proxy, false, t)
	t.stop()
	if err != nil {
		return err
	}
	err = func() error {
		defer l.release()
		return fn()
	}()
	return e.done(op, proxy, t.start, err)
}

// done logs a finished call and wraps its error.
func (e *Embedded) done(op, proxy string, start time.Time, err error) error {
	if err != nil {
		e.log.Debug("toxi: call failed", "op", op, "proxy", proxy, "err", err)
		return e.wrap(op, proxy, err)
	}
	e.log.Debug("toxi: call", "op", op, "proxy", proxy, "took", time.Since(start))
	return nil
}

// CreateProxy creates and starts a proxy named name on 127.0.0.1:0
// forwarding to upstream; returns its listen address.
func (e *Embedded) CreateProxy(ctx context.Context, name, upstream string) (string, error) {
	if name == "" || upstream == "" {
		return "", e.wrap("create", name, errors.New("proxy name and upstream must not be empty"))
	}
	var listen string
	err := e.do(ctx, "create", name, false, func() error {
		for attempt := 0; ; attempt++ {
			// A port outside the ephemeral range (see stableListen); another
			// process may take it between the check and the listen: try again.
			p := toxiproxy.NewProxy(e.srv, name, stableListen("127.0.0.1"), upstream)
			err := e.srv.Collection.Add(p, true)
			if inUse(err) && attempt < 4 {
				continue
			}
			if err != nil {
				return err
			}
			// Start has returned (it waits for the listener), so Listen holds
			// the resolved address; we hold the proxy's lock, so nothing
			// writes it.
			listen = p.Listen
			return nil
		}
	})
	if err != nil {
		return "", err
	}
	return listen, nil
}

// Disable stops the proxy: new dials are refused and its connections closed.
func (e *Embedded) Disable(ctx context.Context, name string) error {
	return e.do(ctx, "disable", name, false, func() error {
		p, err := e.srv.Collection.Get(name)
		if err != nil {
			return err
		}
		p.Stop()
		return nil
	})
}

// Enable restarts the proxy on the port it had.
//
// It runs on the caller's goroutine (doInline), which saves the handoff to
// a worker, because it cannot block for long once it holds the proxy's
// lock and the gate shared (Toxiproxy v2.12.0 source): Collection.Get
// takes the collection's read lock, whose writers are Add (CreateProxy,
// holding the gate shared: it only listens, as Start does) and Remove,
// Clear and PopulateJson (the HTTP API, Remove, RemovePrefix and Close,
// which hold the gate exclusively, so not now); Proxy.Start takes the
// proxy's lock, whose writers (Start, Stop, Update) are calls on this
// proxy, which hold its lock. Start then spawns the accept goroutine and
// waits only for its net.Listen (socket, bind, listen: no peer, link or
// toxic is involved) to report. A call stuck inside Toxiproxy on this
// proxy holds its lock, so Enable waits for the lock, bounded by the
// timeout, never for the call.
func (e *Embedded) Enable(ctx context.Context, name string) error {
	return e.doInline(ctx, "enable", name, func() error {
		p, err := e.srv.Collection.Get(name)
		if err != nil {
			return err
		}
		// Start re-listens on p.Listen, which the first start resolved to
		// 127.0.0.1:PORT, so the port stays the same.
		if err := p.Start(); err != nil && !errors.Is(err, toxiproxy.ErrProxyAlreadyStarted) {
			return err
		}
		return nil
	})
}

// Remove stops the proxy and forgets it.
func (e *Embedded) Remove(ctx context.Context, name string) error {
	// Alone: Collection.Remove holds the collection's write lock, which
	// every call's Collection.Get waits for, while Proxy.Stop waits for the
	// accept loop (an upstream dial without a timeout).
	return e.do(ctx, "remove", name, true, func() error {
		return e.srv.Collection.Remove(name)
	})
}

// AddToxic adds t to proxy with toxicity 1.
func (e *Embedded) AddToxic(ctx context.Context, proxy string, t Toxic) error {
	if err := t.validate(); err != nil {
		return e.wrap("add-toxic", toxicName(proxy, t.Name), err)
	}
	body, err := json.Marshal(t.wire())
	if err != nil {
		return e.wrap("add-toxic", toxicName(proxy, t.Name), err)
	}
	return e.doOn(ctx, "add-toxic", toxicName(proxy, t.Name), proxy, false, e.timeout, func() error {
		p, err := e.srv.Collection.Get(proxy)
		if err != nil {
			return err
		}
		_, err = p.Toxics.AddToxicJson(bytes.NewReader(body))
		return err
	})
}

// RemoveToxic removes the toxic named toxic from proxy, bounded by the
// RemoveToxic timeout (see [DefaultRemoveToxicTimeout]) rather than the call
// timeout: it waits for the toxic's backlog to be flushed.
func (e *Embedded) RemoveToxic(ctx context.Context, proxy, toxic string) error {
	return e.doOn(ctx, "remove-toxic", toxicName(proxy, toxic), proxy, false, e.removeTimeout, func() error {
		p, err := e.srv.Collection.Get(proxy)
		if err != nil {
			return err
		}
		// The context only carries Toxiproxy's logger; the call must not be
		// cut short half-way, so it does not get ours.
		return p.Toxics.RemoveToxic(context.Background(), toxic)
	})
}

// Proxies lists every proxy, sorted by name, including proxies created
// through the HTTP API.
func (e *Embedded) Proxies(ctx context.Context) ([]ProxyInfo, error) {
	var out []ProxyInfo
	err := e.do(ctx, "proxies", "", true, func() error {
		var err error
		out, err = e.snapshot()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// snapshot reads the collection; the caller holds the gate exclusively
// (it reads Listen and Enabled, which Proxy.Start writes).
func (e *Embedded) snapshot() ([]ProxyInfo, error) {
	ps := e.srv.Collection.Proxies()
	out := make([]ProxyInfo, 0, len(ps))
	for _, p := range ps {
		info := ProxyInfo{Name: p.Name, Listen: p.Listen, Upstream: p.Upstream, Enabled: p.Enabled}
		for _, w := range p.Toxics.GetToxicArray() {
			raw, err := json.Marshal(w)
			if err != nil {
				return nil, fmt.Errorf("encode toxic of %s: %w", p.Name, err)
			}
			var tj toxicJSON
			if err := json.Unmarshal(raw, &tj); err != nil {
				return nil, fmt.Errorf("decode toxic of %s: %w", p.Name, err)
			}
			info.Toxics = append(info.Toxics, Toxic{Name: tj.Name, Type: tj.Type, Stream: tj.Stream, Attributes: tj.Attributes})
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemovePrefix removes every proxy whose name starts with prefix, in one
// call over the whole server; returns the names removed, sorted.
func (e *Embedded) RemovePrefix(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		return nil, e.wrap("remove-prefix", "", errors.New("empty prefix would remove every proxy"))
	}
	var removed []string
	err := e.do(ctx, "remove-prefix", prefix+"*", true, func() error {
		var errs []error
		for name := range e.srv.Collection.Proxies() {
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			if err := e.srv.Collection.Remove(name); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			removed = append(removed, name)
		}
		sort.Strings(removed)
		return errors.Join(errs...)
	})
	if err != nil {
		// On a timeout the worker may still be appending.
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return removed, err
	}
	return removed, nil
}

// Close clears all proxies (closing their connections) and stops the HTTP
// API server. It is bounded by ctx and the call timeout; if the calls in
// flight do not end in time, the proxies are cleared in the background as
// soon as they do. Calling Close again returns the first result.
func (e *Embedded) Close(ctx context.Context) error {
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.isClosed {
		return e.closeErr
	}
	e.isClosed = true
	e.closeErr = e.close(ctx)
	return e.closeErr
}

func (e *Embedded) close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	var errs []error

	e.closed.Store(true) // no new call starts; calls in flight finish first
	cleared := make(chan struct{})
	go func() {
		defer close(cleared)
		_ = e.gate.lock(context.Background(), true, nil) // waits for every call in flight
		defer e.gate.unlock(true)
		_ = e.srv.Collection.Clear() // always nil in v2.12.0
		// Every later holder of the gate sees closed and sends no call.
		close(e.calls)
	}()
	select {
	case <-cleared:
		// The workers return as soon as calls is closed: each released
		// its call's locks before Clear could take the gate.
		stopped := make(chan struct{})
		go func() { e.workers.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop workers: %w", ctx.Err()))
		}
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("clear proxies: %w", ctx.Err()))
	}

	if err := e.http.Shutdown(ctx); err != nil {
		_ = e.http.Close()
		errs = append(errs, fmt.Errorf("stop api server: %w", err))
	}
	select {
	case <-e.served:
	case <-ctx.Done():
	}
	if err := errors.Join(errs...); err != nil {
		return e.wrap("close", "", err)
	}
	e.log.Debug("toxi: embedded toxiproxy stopped", "url", e.url)
	return nil
}

var _ Backend = (*Embedded)(nil)

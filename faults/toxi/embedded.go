package toxi

import (
	"bytes"
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
}

// Embedded runs a Toxiproxy server in this process: proxies in-process, its
// HTTP API served on its own 127.0.0.1:0 listener (so external tools and the
// remote backend can talk to it too). Every control call, in-process or
// through the HTTP API, goes through one owner token (see the package doc).
type Embedded struct {
	srv     *toxiproxy.ApiServer
	http    *http.Server
	url     string
	log     *slog.Logger
	timeout time.Duration

	// token is the owner: whoever holds its single slot may touch the
	// Toxiproxy state. A channel rather than a mutex so waiting honours ctx.
	token chan struct{}
	// calls feeds the in-process calls to the owner goroutine (see own);
	// only a holder of the token sends on it, and Close closes it.
	calls  chan ownerCall
	owned  chan struct{} // closed when the owner goroutine returns
	closed atomic.Bool
	served chan struct{} // closed when the HTTP server's Serve returns

	closeMu  sync.Mutex
	closeErr error
	isClosed bool
}

// ownerCall is one in-process call handed to the owner goroutine.
type ownerCall struct {
	fn   func() error
	done chan error // buffered, so the owner never waits for a caller that gave up
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
		token:   make(chan struct{}, 1),
		calls:   make(chan ownerCall),
		owned:   make(chan struct{}),
		served:  make(chan struct{}),
	}
	go e.own()
	router := srv.Routes()
	// The last middleware added is the innermost: the token is taken inside
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
	go func() {
		defer close(e.served)
		if err := e.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Warn("toxi: embedded api server stopped", "url", e.url, "err", err)
		}
	}()
	e.log.Debug("toxi: embedded toxiproxy started", "url", e.url)
	return e, nil
}

// serialize makes an HTTP API request hold the owner token while Toxiproxy
// handles it.
func (e *Embedded) serialize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case e.token <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-e.token }()
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
// owner token: do it only through [Embedded.Do].
func (e *Embedded) Server() *toxiproxy.ApiServer { return e.srv }

// Do runs fn while holding the owner token, bounded by ctx and the call
// timeout, so that fn may touch the Toxiproxy state (e.Server()) without
// racing the backend's calls or its HTTP API. op and proxy name the call in
// errors. fn runs on the backend's owner goroutine; it must not call e's
// methods, which would wait for the token it holds. If the call times out,
// fn keeps running in the background and still holds the token until it
// returns.
func (e *Embedded) Do(ctx context.Context, op, proxy string, fn func(*toxiproxy.ApiServer) error) error {
	return e.do(ctx, op, proxy, func() error { return fn(e.srv) })
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

// own is the owner goroutine: it runs the in-process calls one at a time
// and releases the token each call's caller took once the call returns, so
// a call its caller abandoned at the timeout keeps the token until it
// really ends and the next call waits for it (or times out in turn). One
// long-lived goroutine costs less per call than a new goroutine each time
// (≈ 10 µs less per toxic add here, see BENCHMARKS.md): handing a call to
// it is a channel send, and its stack stays grown, where a new goroutine
// grows its stack again for AddToxicJson's decoding. It returns when Close
// closes calls.
func (e *Embedded) own() {
	defer close(e.owned)
	for c := range e.calls {
		c.done <- c.fn()
		<-e.token
	}
}

// acquire takes the owner token for a call that started at start, bounded
// by ctx and the call timeout. The timer is only started when the token is
// not free at once (an earlier call still holds it); acquire returns it,
// still running, so that the caller bounds the rest of the call with it,
// and the caller stops it. On an error the token is not held.
func (e *Embedded) acquire(ctx context.Context, op, proxy string, start time.Time) (*time.Timer, error) {
	if err := ctx.Err(); err != nil {
		return nil, e.wrap(op, proxy, err)
	}
	if e.closed.Load() {
		return nil, e.wrap(op, proxy, ErrClosed)
	}
	var timer *time.Timer
	select {
	case e.token <- struct{}{}:
	default:
		timer = time.NewTimer(e.timeout - time.Since(start))
		select {
		case e.token <- struct{}{}:
		case <-ctx.Done():
			timer.Stop()
			return nil, e.wrap(op, proxy, ctx.Err())
		case <-timer.C:
			return nil, e.wrap(op, proxy, context.DeadlineExceeded)
		}
	}
	if e.closed.Load() {
		<-e.token
		if timer != nil {
			timer.Stop()
		}
		return nil, e.wrap(op, proxy, ErrClosed)
	}
	return timer, nil
}

// do runs fn as the owner on the owner goroutine, bounded by ctx and the
// call timeout: a call still running at the timeout is abandoned (it keeps
// the token until it returns). See Do.
func (e *Embedded) do(ctx context.Context, op, proxy string, fn func() error) error {
	start := time.Now()
	timer, err := e.acquire(ctx, op, proxy, start)
	if err != nil {
		return err
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	// The owner releases the token once fn returns. It is waiting for a
	// call, or about to: it released the token (which we now hold) only
	// after the last one, and Close, which stops it, sets closed before
	// taking the token. The send is bounded all the same.
	c := ownerCall{fn: fn, done: make(chan error, 1)}
	var cause error
	select {
	case e.calls <- c:
	default:
		if timer == nil {
			timer = time.NewTimer(e.timeout - time.Since(start))
		}
		select {
		case e.calls <- c:
		case <-ctx.Done():
			cause = ctx.Err()
		case <-timer.C:
			cause = context.DeadlineExceeded
		}
		if cause != nil {
			<-e.token // fn never started
			return e.wrap(op, proxy, cause)
		}
	}
	if timer == nil {
		timer = time.NewTimer(e.timeout - time.Since(start))
	}
	select {
	case err = <-c.done:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-timer.C:
		cause = context.DeadlineExceeded
	}
	if cause != nil {
		select {
		case err = <-c.done: // finished at the same moment: report the truth
		default:
			e.log.Warn("toxi: call abandoned, it may still take effect",
				"op", op, "proxy", proxy, "url", e.url, "err", cause)
			return e.wrap(op, proxy, cause)
		}
	}
	return e.done(op, proxy, start, err)
}

// doInline runs fn as the owner on the caller's goroutine: only for a fn
// that cannot block once the token is held (see Enable), since nothing
// could abandon it. Waiting for the token is still bounded by ctx and the
// call timeout.
func (e *Embedded) doInline(ctx context.Context, op, proxy string, fn func() error) error {
	start := time.Now()
	timer, err := e.acquire(ctx, op, proxy, start)
	if err != nil {
		return err
	}
	if timer != nil {
		timer.Stop()
	}
	err = func() error {
		defer func() { <-e.token }()
		return fn()
	}()
	return e.done(op, proxy, start, err)
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
	err := e.do(ctx, "create", name, func() error {
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
			// the resolved address; we hold the token, so nothing writes it.
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
	return e.do(ctx, "disable", name, func() error {
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
// the owner goroutine, because it cannot block once the token is held
// (Toxiproxy v2.12.0 source): Collection.Get takes the collection's read
// lock and Proxy.Start the proxy's lock, and every writer of either (Add,
// Remove, Clear, PopulateJson, Start, Stop, Update) is a control call that
// holds the token; Start then spawns the accept goroutine and waits only
// for its net.Listen (socket, bind, listen: no peer, link or toxic is
// involved) to report. A call stuck inside Toxiproxy holds the token, so
// Enable waits for the token, bounded by the timeout, never for the call.
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
	return e.do(ctx, "remove", name, func() error {
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
	return e.do(ctx, "add-toxic", toxicName(proxy, t.Name), func() error {
		p, err := e.srv.Collection.Get(proxy)
		if err != nil {
			return err
		}
		_, err = p.Toxics.AddToxicJson(bytes.NewReader(body))
		return err
	})
}

// RemoveToxic removes the toxic named toxic from proxy.
func (e *Embedded) RemoveToxic(ctx context.Context, proxy, toxic string) error {
	return e.do(ctx, "remove-toxic", toxicName(proxy, toxic), func() error {
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
	err := e.do(ctx, "proxies", "", func() error {
		var err error
		out, err = e.snapshot()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// snapshot reads the collection; the caller holds the token.
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
// owner call; returns the names removed, sorted.
func (e *Embedded) RemovePrefix(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		return nil, e.wrap("remove-prefix", "", errors.New("empty prefix would remove every proxy"))
	}
	var removed []string
	err := e.do(ctx, "remove-prefix", prefix+"*", func() error {
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
		// On a timeout the owner goroutine may still be appending.
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return removed, err
	}
	return removed, nil
}

// Close clears all proxies (closing their connections) and stops the HTTP
// API server. It is bounded by ctx and the call timeout; if the owner token
// cannot be had in time, the proxies are cleared in the background as soon
// as it frees. Calling Close again returns the first result.
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
		e.token <- struct{}{}
		defer func() { <-e.token }()
		_ = e.srv.Collection.Clear() // always nil in v2.12.0
		// Every later holder of the token sees closed and sends no call.
		close(e.calls)
	}()
	select {
	case <-cleared:
		// The owner goroutine returns as soon as calls is closed: it
		// released the token before Clear could take it.
		select {
		case <-e.owned:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("stop owner: %w", ctx.Err()))
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

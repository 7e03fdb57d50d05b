package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// Act is one fault actuation, timed in parts: the three toggle calls each
// on its own, and the first refused dial after Disable.
type Act struct {
	// Tick is the timer's own lateness: from the moment it fired to the
	// moment the goroutine waiting on it ran. It is the runtime's, the same
	// whatever the backend, and is not part of the actuation.
	Tick time.Duration
	// Disable is the Disable call, from the goroutine running at the tick
	// to the call's return.
	Disable time.Duration
	// Refused is from Disable's return to the first dial refused.
	Refused time.Duration
	// Enable is the Enable call that follows (the proxy disabled).
	Enable time.Duration
	// ToxicAdd is the AddToxic call of a latency toxic on the enabled,
	// accepting proxy.
	ToxicAdd time.Duration
}

// Total is the toggle and its first effect: tick (the driver running) →
// proxy disabled → first refused dial.
func (a Act) Total() time.Duration { return a.Disable + a.Refused }

// actToxic is the toxic whose AddToxic call is timed: a latency, as the
// shipped scenarios add most.
var actToxic = toxi.Toxic{Name: "bench-act-latency", Type: "latency", Stream: "upstream",
	Attributes: map[string]any{"latency": 50, "jitter": 0}}

// Actuation measures one round of fault toggles on backend b's proxy
// (which listens on addr). Each call is made as the harness's driver makes
// a toggle, at a schedule tick (a timer firing), and timed alone from the
// goroutine running at the tick to the call's return: Disable, and from
// its return to the first dial of addr that is refused; Enable; then, once
// addr accepts again, AddToxic of a latency toxic. The proxy is enabled
// and checked to accept first, and the toxic removed at the end (untimed).
func Actuation(ctx context.Context, b toxi.Backend, proxy, addr string) (Act, error) {
	if err := b.Enable(ctx, proxy); err != nil {
		return Act{}, err
	}
	if err := waitAccepting(addr); err != nil {
		return Act{}, err
	}
	var a Act
	a.Tick, a.Disable = atTick(func() error { return b.Disable(ctx, proxy) })
	if a.Disable < 0 {
		return Act{}, b.Disable(ctx, proxy)
	}
	t1 := time.Now()
	refused := false
	for attempt := 0; attempt < 500 && time.Since(t1) < 5*time.Second; attempt++ {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			_ = c.Close()
			continue
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			return Act{}, err
		}
		a.Refused, refused = time.Since(t1), true
		break
	}
	if !refused {
		return Act{}, fmt.Errorf("bench: proxy %s still accepting after Disable", proxy)
	}
	var err error
	if _, a.Enable = atTick(func() error { err = b.Enable(ctx, proxy); return err }); err != nil {
		return Act{}, err
	}
	if err := waitAccepting(addr); err != nil {
		return Act{}, err
	}
	if _, a.ToxicAdd = atTick(func() error { err = b.AddToxic(ctx, proxy, actToxic); return err }); err != nil {
		return Act{}, err
	}
	if err := b.RemoveToxic(ctx, proxy, actToxic.Name); err != nil {
		return Act{}, err
	}
	return a, nil
}

// atTick waits for a 1 ms timer, then runs call: it returns the timer's
// lateness (from firing to this goroutine running) and the call's duration
// from then, or a negative duration when the call failed.
func atTick(call func() error) (late, took time.Duration) {
	tick := time.NewTimer(time.Millisecond)
	fired := <-tick.C
	t0 := time.Now()
	if err := call(); err != nil {
		return t0.Sub(fired), -1
	}
	return t0.Sub(fired), time.Since(t0)
}

// BackToBack times the three toggle calls on b's proxy made one right
// after the other, with no tick and no dial between them: AddToxic (then
// RemoveToxic, untimed), Disable, Enable. It is the calls' own cost in a
// running process, without the wake-up after an idle tick that Actuation
// includes (the machine's, paid alike by every backend); Tick and Refused
// are zero. The proxy is left enabled.
func BackToBack(ctx context.Context, b toxi.Backend, proxy string) (Act, error) {
	var a Act
	for _, c := range []struct {
		d    *time.Duration
		call func() error
	}{
		{&a.ToxicAdd, func() error { return b.AddToxic(ctx, proxy, actToxic) }},
		{nil, func() error { return b.RemoveToxic(ctx, proxy, actToxic.Name) }},
		{&a.Disable, func() error { return b.Disable(ctx, proxy) }},
		{&a.Enable, func() error { return b.Enable(ctx, proxy) }},
	} {
		t0 := time.Now()
		if err := c.call(); err != nil {
			return Act{}, err
		}
		if c.d != nil {
			*c.d = time.Since(t0)
		}
	}
	return a, nil
}

func waitAccepting(addr string) error {
	var err error
	for attempt := 0; attempt < 200; attempt++ {
		var c net.Conn
		c, err = net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			return c.Close()
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("bench: proxy %s not accepting after Enable: %w", addr, err)
}

// actPart is one timed part of an Act.
type actPart struct {
	name string // the figure's member name
	of   func(Act) time.Duration
}

// callParts are the toggle calls, each its own fault_call_speedup figure.
var callParts = []actPart{
	{"disable", func(a Act) time.Duration { return a.Disable }},
	{"enable", func(a Act) time.Duration { return a.Enable }},
	{"toxic_add", func(a Act) time.Duration { return a.ToxicAdd }},
}

// Actuations are the rounds of one backend.
type Actuations struct {
	Name string // embedded, http, external
	Acts []Act  // rounds of Actuation: each call at a tick
	Hot  []Act  // rounds of BackToBack
}

// P50 returns the median of part over the Actuation rounds.
func (s Actuations) P50(part func(Act) time.Duration) time.Duration {
	return p50(s.Acts, part)
}

func p50(acts []Act, part func(Act) time.Duration) time.Duration {
	ds := make([]time.Duration, len(acts))
	for i, x := range acts {
		ds[i] = part(x)
	}
	return percentile(ds, 50)
}

func (s Actuations) String() string {
	return fmt.Sprintf("%s at a tick: Disable %.0fµs + first refused dial %.0fµs = %.0fµs",
		s.Name, us(s.P50(callParts[0].of)), us(s.P50(refusedPart)), us(s.P50(Act.Total)))
}

func refusedPart(a Act) time.Duration { return a.Refused }

// actuationResults judges the rounds: each toggle call made back to back,
// embedded against the same server's HTTP API (fault_call_speedup/KIND,
// DESIGN.md section 11), with the same calls made at a tick in the detail;
// the toggle at a tick and its first refused dial (informational: the
// refused dial and the wake-up, paid by both, bound that ratio); and, when
// ext has rounds, the calls against an external server (informational).
func actuationResults(emb, api, ext Actuations, extWhy string) []Result {
	var out []Result
	n, hot := min(len(emb.Acts), len(api.Acts)), min(len(emb.Hot), len(api.Hot))
	for _, p := range callParts {
		e, h := p50(emb.Hot, p.of), p50(api.Hot, p.of)
		te, th := emb.P50(p.of), api.P50(p.of)
		out = append(out, measured("fault_call_speedup/"+p.name, ratio(h, e),
			fmt.Sprintf("p50 of %d back to back: %s %.1fµs embedded, %.1fµs through the HTTP API of the same server; each at a tick (p50 of %d): %.0fµs / %.0fµs = %.2f×",
				hot, p.name, us(e), us(h), n, us(te), us(th), ratio(th, te))))
	}
	tick := emb.P50(func(x Act) time.Duration { return x.Tick })
	out = append(out, info("fault_actuation_speedup", ratio(api.P50(Act.Total), emb.P50(Act.Total)), "ratio",
		fmt.Sprintf("driver at the tick → Disable → first refused dial, p50 of %d; %s; %s; timer lateness before the tick %.0fµs, not counted",
			n, emb, api, us(tick))))
	for _, p := range callParts {
		figure := "fault_call_speedup_vs_external/" + p.name
		if len(ext.Hot) == 0 {
			out = append(out, skipped(figure, "ratio", extWhy))
			continue
		}
		x := p50(ext.Hot, p.of)
		out = append(out, info(figure, ratio(x, p50(emb.Hot, p.of)), "ratio",
			fmt.Sprintf("back to back, p50 of %d: %.1fµs through the HTTP API of another process", len(ext.Hot), us(x))))
	}
	return out
}

// roundOrder is the order of the backends in round i: the first two (the
// embedded backend and the HTTP API of the same server) swap places every
// other round, so that each follows every other backend's round as often
// as the other does. In a fixed order the embedded backend always came
// right after the external server's round, and a call made just after a
// call to another process pays for that process's wake-up on the shared
// cores: ≈ 10 µs more per embedded call here (BENCHMARKS.md).
func roundOrder[T any](acts []T, i int) []T {
	if i%2 == 0 || len(acts) < 2 {
		return acts
	}
	return append([]T{acts[1], acts[0]}, acts[2:]...)
}

// ratio returns a / b, NaN when b is 0 (judged as an error, never as 0).
func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func runActuation(ctx context.Context, o *Options) []Result {
	iters := 50
	if o.Quick {
		iters = 15
	}
	fail := func(err error) []Result {
		var out []Result
		for _, p := range callParts {
			out = append(out, failed("fault_call_speedup/"+p.name, "ratio", err))
		}
		return out
	}
	echo, err := NewRawEcho()
	if err != nil {
		return fail(err)
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		return fail(err)
	}
	defer emb.Close(context.Background())
	// The same embedded server through its own HTTP API: only the path of
	// the call differs.
	api, err := toxi.NewRemote(ctx, emb.URL(), toxi.RemoteOptions{})
	if err != nil {
		return fail(err)
	}
	defer api.Close(context.Background())

	type actuator struct {
		Actuations
		b     toxi.Backend
		proxy string
		addr  string
	}
	acts := []*actuator{
		{Actuations: Actuations{Name: "embedded"}, b: emb, proxy: toxi.ProxyPrefix + "bench-act-embedded"},
		{Actuations: Actuations{Name: "http"}, b: api, proxy: toxi.ProxyPrefix + "bench-act-http"},
	}
	extWhy := "no toxiproxy-server"
	if len(o.ToxiproxyServer) > 0 {
		srv, err := StartToxiproxyServer(ctx, o.ToxiproxyServer)
		if err != nil {
			extWhy = err.Error()
		} else {
			defer srv.Stop()
			acts = append(acts, &actuator{Actuations: Actuations{Name: "external"}, b: srv.Remote, proxy: toxi.ProxyPrefix + "bench-act-external"})
		}
	}
	for _, a := range acts {
		addr, err := a.b.CreateProxy(ctx, a.proxy, echo.Addr())
		if err != nil {
			return fail(fmt.Errorf("%s: %w", a.Name, err))
		}
		a.addr = addr
	}
	// One untimed round each to warm the HTTP connection and the code.
	for _, a := range acts {
		if _, err := Actuation(ctx, a.b, a.proxy, a.addr); err != nil {
			return fail(fmt.Errorf("%s: %w", a.Name, err))
		}
	}
	// Interleaved, so that a slow patch of the machine hits every backend
	// alike: first the rounds at a tick, then the calls back to back.
	for i := range iters {
		for _, a := range roundOrder(acts, i) {
			if ctx.Err() != nil {
				return nil
			}
			x, err := Actuation(ctx, a.b, a.proxy, a.addr)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", a.Name, err))
			}
			a.Acts = append(a.Acts, x)
		}
	}
	for i := range 2 * iters {
		for _, a := range roundOrder(acts, i) {
			if ctx.Err() != nil {
				return nil
			}
			x, err := BackToBack(ctx, a.b, a.proxy)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", a.Name, err))
			}
			a.Hot = append(a.Hot, x)
		}
	}
	var ext Actuations
	if len(acts) > 2 {
		ext = acts[2].Actuations
	}
	return actuationResults(acts[0].Actuations, acts[1].Actuations, ext, extWhy)
}

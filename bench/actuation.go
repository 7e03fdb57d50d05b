package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// Act is one fault actuation, timed in three parts.
type Act struct {
	// Tick is the timer's own lateness: from the moment it fired to the
	// moment the goroutine waiting on it ran. It is the runtime's, the same
	// whatever the backend, and is not part of the actuation.
	Tick time.Duration
	// Call is the Disable call, from the goroutine running at the tick to
	// the call's return.
	Call time.Duration
	// Refused is from Disable's return to the first dial refused.
	Refused time.Duration
}

// Total is the actuation: tick (the driver running) → proxy disabled →
// first refused dial.
func (a Act) Total() time.Duration { return a.Call + a.Refused }

// Actuation measures one fault actuation on backend b: a schedule tick (a
// timer firing, the way the harness's driver wakes for a toggle) → Disable
// → the first dial of the proxy's address that is refused. The proxy is
// enabled again (untimed) and checked to accept first.
func Actuation(ctx context.Context, b toxi.Backend, proxy, addr string) (Act, error) {
	if err := b.Enable(ctx, proxy); err != nil {
		return Act{}, err
	}
	if err := waitAccepting(addr); err != nil {
		return Act{}, err
	}
	tick := time.NewTimer(time.Millisecond)
	fired := <-tick.C
	t0 := time.Now()
	if err := b.Disable(ctx, proxy); err != nil {
		return Act{}, err
	}
	t1 := time.Now()
	for attempt := 0; attempt < 500 && time.Since(t0) < 5*time.Second; attempt++ {
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			_ = c.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			t2 := time.Now()
			return Act{Tick: t0.Sub(fired), Call: t1.Sub(t0), Refused: t2.Sub(t1)}, nil
		}
		return Act{}, err
	}
	return Act{}, fmt.Errorf("proxy %s still accepting after Disable", proxy)
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
	return fmt.Errorf("proxy %s not accepting after Enable: %w", addr, err)
}

type actuator struct {
	name  string
	b     toxi.Backend
	proxy string
	addr  string
	acts  []Act
}

// p50 returns the median of part over the actuator's runs.
func (a *actuator) p50(part func(Act) time.Duration) time.Duration {
	ds := make([]time.Duration, len(a.acts))
	for i, x := range a.acts {
		ds[i] = part(x)
	}
	return percentile(ds, 50)
}

func callPart(x Act) time.Duration    { return x.Call }
func refusedPart(x Act) time.Duration { return x.Refused }

func (a *actuator) String() string {
	return fmt.Sprintf("%s %.0fµs (Disable %.0fµs + refused dial %.0fµs)", a.name,
		us(a.p50(Act.Total)), us(a.p50(callPart)), us(a.p50(refusedPart)))
}

func runActuation(ctx context.Context, o *Options) []Result {
	const figure, target = "fault_actuation_speedup", ">= 5"
	iters := 30
	if o.Quick {
		iters = 10
	}
	echo, err := NewRawEcho()
	if err != nil {
		return []Result{failed(figure, "ratio", target, err)}
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		return []Result{failed(figure, "ratio", target, err)}
	}
	defer emb.Close(context.Background())
	// The same embedded server through its own HTTP API: only the path of
	// the call differs.
	api, err := toxi.NewRemote(ctx, emb.URL(), toxi.RemoteOptions{})
	if err != nil {
		return []Result{failed(figure, "ratio", target, err)}
	}
	defer api.Close(context.Background())

	acts := []*actuator{{name: "embedded", b: emb, proxy: toxi.ProxyPrefix + "bench-act-embedded"},
		{name: "http", b: api, proxy: toxi.ProxyPrefix + "bench-act-http"}}
	extWhy := "no toxiproxy-server"
	if len(o.ToxiproxyServer) > 0 {
		srv, err := StartToxiproxyServer(ctx, o.ToxiproxyServer)
		if err != nil {
			extWhy = err.Error()
		} else {
			defer srv.Stop()
			acts = append(acts, &actuator{name: "external", b: srv.Remote, proxy: toxi.ProxyPrefix + "bench-act-external"})
		}
	}
	for _, a := range acts {
		addr, err := a.b.CreateProxy(ctx, a.proxy, echo.Addr())
		if err != nil {
			return []Result{failed(figure, "ratio", target, err)}
		}
		a.addr = addr
	}
	// One untimed actuation each to warm the HTTP connection and the code.
	for _, a := range acts {
		if _, err := Actuation(ctx, a.b, a.proxy, a.addr); err != nil {
			return []Result{failed(figure, "ratio", target, fmt.Errorf("%s: %w", a.name, err))}
		}
	}
	for range iters {
		for _, a := range acts {
			if ctx.Err() != nil {
				return nil
			}
			x, err := Actuation(ctx, a.b, a.proxy, a.addr)
			if err != nil {
				return []Result{failed(figure, "ratio", target, fmt.Errorf("%s: %w", a.name, err))}
			}
			a.acts = append(a.acts, x)
		}
	}
	e50, h50 := acts[0].p50(Act.Total), acts[1].p50(Act.Total)
	tick := acts[0].p50(func(x Act) time.Duration { return x.Tick })
	out := []Result{atLeast(figure, float64(h50)/float64(e50), "ratio", 5,
		fmt.Sprintf("p50 of %d, driver at the tick → first refused dial: %s; %s (HTTP API of the same server); the Disable call alone %.1f× faster; timer lateness before the tick %.0fµs, not counted",
			iters, acts[0], acts[1], float64(acts[1].p50(callPart))/float64(acts[0].p50(callPart)), us(tick)))}
	if len(acts) > 2 {
		x50 := acts[2].p50(Act.Total)
		out = append(out, info("fault_actuation_speedup_vs_external", float64(x50)/float64(e50), "ratio", acts[2].String()+" (HTTP API)"))
	} else {
		out = append(out, skipped("fault_actuation_speedup_vs_external", "ratio", "", extWhy))
	}
	return out
}

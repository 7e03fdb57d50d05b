// Package harness runs an mtastorm scenario: it starts the MTAs and the
// links (Toxiproxy proxies), drives traffic, faults and actions on one
// timeline, samples every pool, ends the run as soon as its verdict is
// decided, judges recovery (DESIGN.md section 6) and writes the bundle.
package harness

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/capture"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// Options tune a run. The zero value runs on an embedded Toxiproxy (or
// TOXIPROXY_URL) and writes no bundle.
type Options struct {
	// Out is the bundle folder; "" writes none.
	Out string
	// Seed, when set, overrides the scenario's seed.
	Seed *int64
	// ToxiproxyURL selects an external toxiproxy-server; "" means
	// TOXIPROXY_URL, else an embedded server.
	ToxiproxyURL string
	// Backend, when set, is used instead of opening one (and is not closed).
	Backend toxi.Backend
	// Logger receives the run's logs (default: discard).
	Logger *slog.Logger
	// Timeline receives a short human timeline (nil: none).
	Timeline io.Writer
	// SampleEvery is the pool sampling period (default 50ms).
	SampleEvery time.Duration
	// Schedule, when set, is applied instead of expanding the scenario's
	// faults from the seed (a replay).
	Schedule *faults.Schedule
	// AdminToken is the bearer token for the admin API of the MTAs with
	// admin: in the scenario; "" means $MTASTUB_TOKEN (EnvAdminToken).
	AdminToken string
	// Capture writes per-link pcapng captures into Out's captures/ (as
	// the scenario's capture: true does); CaptureLimit bounds each file
	// (default capture.DefaultLimit).
	Capture      bool
	CaptureLimit int64
	// OnPeak, when set, is called once from the timeline at the middle
	// fault toggle of the schedule (every MTA, link and probe alive), e.g.
	// to take a goroutine profile (`mtastorm run --pprof`).
	OnPeak func()
	// ToggleWorkers bounds how many links' fault toggles are applied at
	// once (default DefaultToggleWorkers); each link's toggles are applied
	// in order.
	ToggleWorkers int
}

// InputError is a problem with what the run was given (exit code 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// InfraError is an infrastructure failure: Toxiproxy unreachable, a port in
// use, a timeout (exit code 3).
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// Result is what a run produced.
type Result struct {
	Summary    Summary
	Schedule   *faults.Schedule
	Events     []eventlog.Record
	Deliveries []DeliveryRecord
	Samples    []Sample
	Ledger     []LedgerEntry
	// Dir is the bundle folder ("" when none was written).
	Dir string
	// Wire compares each link's captures (nil: the bundle has none).
	Wire []*capture.Wire

	submitted map[string]submission
	// refused are the messages offered while their sender was stopped.
	refused map[string]submission
}

type (
	// DeliveryRecord is one message delivered to an MTA's user.
	DeliveryRecord = result.DeliveryRecord
	// Sample is one MTA's pool and queue at one moment.
	Sample = result.Sample
	// LedgerEntry is one line of ledger.jsonl.
	LedgerEntry = result.LedgerEntry
)

// run is one scenario run in progress.
type run struct {
	sc      *scenario.Scenario
	opts    Options
	log     *slog.Logger
	tl      *timeline
	backend toxi.Backend
	mtas    map[string]node
	// expose is set when the toxiproxy-server is on another host.
	expose  *exposure
	order   []string
	proxies map[string]string // link -> proxy name
	// probes are the links' twins: same toggles, upstream an echo server,
	// so a probe can observe each toggle's effect without reaching an MTA.
	probes     map[string]string // link -> probe proxy name
	probeAddrs map[string]string // link -> probe proxy address
	echo       *faults.Server
	probing    sync.WaitGroup
	// effects bounds the probes of toggles that apply an effect (disable,
	// add a toxic): once every link is healed at the run's end none of them
	// can still see its effect, so they are cancelled then instead of
	// waiting out faults.ProbeTimeout.
	effects     context.Context
	stopEffects context.CancelFunc
	prefix      string
	sched       *faults.Schedule
	t0          time.Time
	// rec records the links' captures (nil: none).
	rec *capture.Recorder

	mu        sync.Mutex
	events    []eventlog.Record
	ledger    []LedgerEntry
	submitted map[string]submission
	refused   map[string]submission
	samples   []Sample
	maxLeaked map[string]int
	stepsDone bool
	stepErr   error
}

type submission struct {
	from, to string
	at       time.Duration
}

// Run runs sc and judges it. The error is an *InputError or *InfraError
// when the run could not be carried out; a failed check is not an error.
func Run(ctx context.Context, sc *scenario.Scenario, opts Options) (*Result, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SampleEvery <= 0 {
		opts.SampleEvery = 50 * time.Millisecond
	}
	if opts.Seed != nil {
		cp := *sc
		cp.Seed = *opts.Seed
		sc = &cp
	}
	r := &run{sc: sc, opts: opts, log: opts.Logger, tl: newTimeline(opts.Timeline), mtas: map[string]node{},
		proxies: map[string]string{}, probes: map[string]string{}, probeAddrs: map[string]string{}, submitted: map[string]submission{}, refused: map[string]submission{}, maxLeaked: map[string]int{}}
	r.effects, r.stopEffects = context.WithCancel(context.Background())
	defer r.stopEffects()
	r.sched = opts.Schedule
	if r.sched == nil {
		sched, err := faults.Expand(sc.Name, sc.Seed, specs(sc))
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("harness: %s: %w", sc.File, err)}
		}
		r.sched = sched
	}
	for _, t := range r.sched.Toggles {
		if from, to, ok := scenario.ParseLink(t.Link); !ok || !sc.HasLink(from, to) {
			return nil, &InputError{Err: fmt.Errorf("harness: %s: schedule toggle at %s names link %q, which the scenario does not declare", sc.File, t.At, t.Link)}
		}
	}
	return r.execute(ctx)
}

func specs(sc *scenario.Scenario) []faults.Spec {
	out := make([]faults.Spec, len(sc.Faults))
	for i, f := range sc.Faults {
		out[i] = faults.Spec{Index: i, At: f.At, Until: f.Until, Link: f.Link, Type: f.Type, Params: f}
		if f.From != "" {
			out[i].Link = f.From + "->" + f.To
		}
	}
	return out
}

func (r *run) execute(ctx context.Context) (*Result, error) {
	began := time.Now()
	if err := r.setup(ctx); err != nil {
		r.teardown()
		return nil, err
	}
	r.log.Debug("phase", "name", "setup", "mtas", len(r.sc.MTAs), "links", len(r.sc.Links), "took", time.Since(began))
	steps := r.steps()
	for _, t := range r.sched.Toggles {
		r.record(LedgerEntry{Phase: "planned", Planned: t.Offset.Seconds(), Link: t.Link, Fault: t.Fault, Type: t.Type, Action: t.Action})
	}
	r.t0 = time.Now()
	r.tl.start(r.sc, r.t0)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.drive(runCtx, steps) }()
	r.watch(ctx)
	cancel()
	wg.Wait()
	elapsed := time.Since(r.t0)
	r.log.Debug("phase", "name", "timeline", "took", elapsed)
	mark := time.Now()
	r.healAll()
	r.stopEffects()
	r.probing.Wait()
	r.sample() // the final state, healed
	r.syncNodes()
	r.log.Debug("phase", "name", "heal", "took", time.Since(mark))
	mark = time.Now()
	res := r.collect(elapsed)
	r.log.Debug("phase", "name", "collect", "events", len(res.Events), "deliveries", len(res.Deliveries), "samples", len(res.Samples), "took", time.Since(mark))
	mark = time.Now()
	r.teardown()
	r.log.Debug("phase", "name", "teardown", "took", time.Since(mark))
	if r.stepErr != nil {
		return nil, &InfraError{Err: r.stepErr}
	}
	if ctx.Err() != nil {
		return nil, &InfraError{Err: fmt.Errorf("harness: %s: interrupted: %w", r.sc.Name, ctx.Err())}
	}
	res.Summary = judge(r.sc, res, r.anchor(), elapsed)
	r.tl.verdict(res.Summary)
	if r.opts.Out != "" {
		mark = time.Now()
		if err := writeBundle(r.opts.Out, r.sc, res); err != nil {
			return res, &InfraError{Err: err}
		}
		res.Dir = r.opts.Out
		r.log.Debug("phase", "name", "bundle", "took", time.Since(mark))
	}
	return res, nil
}

// setup opens the backend, starts the MTAs and creates the links.
func (r *run) setup(ctx context.Context) error {
	if err := checkRemoteActions(r.sc); err != nil {
		return err
	}
	if err := checkFDs(r.sc); err != nil {
		return &InfraError{Err: err}
	}
	r.backend = r.opts.Backend
	if r.backend == nil {
		b, ex, err := openBackend(ctx, r.opts.ToxiproxyURL, r.log)
		if err != nil {
			return &InfraError{Err: fmt.Errorf("harness: %w", err)}
		}
		r.backend, r.expose = b, ex
	}
	if err := r.startCapture(); err != nil {
		return err
	}
	for _, spec := range r.sc.MTAs {
		m, err := startNode(ctx, r.sc, spec, r.opts, r.log, r.onEvent, r.tap(spec))
		if err != nil {
			return err
		}
		r.mtas[spec.Name] = m
		r.order = append(r.order, spec.Name)
	}
	if err := removeLeftovers(ctx, r.backend, r.log); err != nil {
		return &InfraError{Err: fmt.Errorf("harness: %w", err)}
	}
	echo, err := r.expose.newEcho()
	if err != nil {
		return &InfraError{Err: fmt.Errorf("harness: %w", err)}
	}
	r.echo = echo
	prefix := proxyPrefix()
	r.prefix = prefix
	for _, l := range r.sc.Links {
		link := l.From + "->" + l.To
		name := fmt.Sprintf("%s%s-%s", prefix, l.From, l.To)
		listen, err := r.backend.CreateProxy(ctx, name, r.mtas[l.To].Addr())
		if err != nil {
			return &InfraError{Err: fmt.Errorf("harness: link %s: %w", link, err)}
		}
		r.proxies[link] = name
		probe, err := r.backend.CreateProxy(ctx, name+"-probe", echo.Addr())
		if err != nil {
			return &InfraError{Err: fmt.Errorf("harness: link %s probe: %w", link, err)}
		}
		listen, probe = r.expose.proxyAddr(listen), r.expose.proxyAddr(probe)
		r.probes[link], r.probeAddrs[link] = name+"-probe", probe
		if r.rec != nil {
			r.rec.Route(capture.Link{From: l.From, To: l.To}, listen)
		}
		if err := r.mtas[l.From].SetPeer(ctx, l.To, listen); err != nil {
			return &InfraError{Err: fmt.Errorf("harness: link %s: %w", link, err)}
		}
	}
	return nil
}

// teardown stops the MTAs, removes the proxies and closes an owned backend.
func (r *run) teardown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, name := range r.order {
		if err := r.mtas[name].Close(ctx); err != nil {
			r.log.Warn("stop MTA", "mta", name, "err", err)
		}
	}
	r.probing.Wait()
	r.closeCapture()
	if r.echo != nil {
		_ = r.echo.Close()
	}
	if r.backend == nil {
		return
	}
	// The run's proxies all carry its prefix: one call removes them (800
	// at 400 links) instead of one call each.
	if r.prefix != "" {
		if _, err := r.backend.RemovePrefix(ctx, r.prefix); err != nil {
			r.log.Warn("remove proxies", "prefix", r.prefix, "err", err)
		}
	}
	if r.opts.Backend == nil {
		if err := r.backend.Close(ctx); err != nil {
			r.log.Warn("close toxiproxy backend", "err", err)
		}
	}
}

// healAll leaves every link enabled and without toxics.
func (r *run) healAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	names := make([]string, 0, 2*len(r.proxies))
	for link, p := range r.proxies {
		names = append(names, p, r.probes[link])
	}
	if err := faults.HealAll(ctx, r.backend, names); err != nil {
		r.log.Warn("heal", "err", err)
		r.mu.Lock()
		if r.stepErr == nil {
			r.stepErr = err
		}
		r.mu.Unlock()
	}
}

// syncNodes brings every MTA's events and deliveries up to date (a remote
// MTA's streams may lag); a failure is the run's infrastructure error.
func (r *run) syncNodes() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*remoteCallTimeout)
	defer cancel()
	for _, name := range r.order {
		if err := r.mtas[name].Sync(ctx); err != nil {
			r.log.Warn("sync MTA", "mta", name, "err", err)
			r.mu.Lock()
			if r.stepErr == nil {
				r.stepErr = fmt.Errorf("harness: %w", err)
			}
			r.mu.Unlock()
		}
	}
}

func (r *run) onEvent(rec eventlog.Record) {
	r.mu.Lock()
	r.events = append(r.events, rec)
	r.mu.Unlock()
	r.tl.event(rec)
}

func (r *run) offset() time.Duration { return time.Since(r.t0) }

// anchor is when recovery starts counting: the last fault healed or the
// last action, whichever is later.
func (r *run) anchor() time.Duration {
	a := r.sched.LastHeal()
	for _, act := range r.sc.Actions {
		a = max(a, act.At)
	}
	return a
}

// collect gathers what the run produced.
func (r *run) collect(elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{Schedule: r.sched, Events: append([]eventlog.Record(nil), r.events...), Samples: r.samples, Ledger: r.ledger}
	sort.SliceStable(res.Ledger, func(i, j int) bool { return res.Ledger[i].At < res.Ledger[j].At })
	for _, name := range r.order {
		for _, d := range r.mtas[name].Deliveries() {
			res.Deliveries = append(res.Deliveries, DeliveryRecord{Delivery: d, T: d.At.Sub(r.t0).Seconds()})
		}
	}
	sort.SliceStable(res.Deliveries, func(i, j int) bool { return res.Deliveries[i].T < res.Deliveries[j].T })
	sort.SliceStable(res.Events, func(i, j int) bool { return res.Events[i].Time.Before(res.Events[j].Time) })
	res.submitted, res.refused = r.submitted, r.refused
	res.Summary = Summary{Scenario: r.sc.Name, Seed: r.sc.Seed, Started: r.t0, DurationS: elapsed.Seconds(), MTAs: totals(r.sc, res)}
	return res
}

// payload builds the payload of message i of traffic t (deterministic).
func payload(size int, i int) []byte {
	b := make([]byte, size)
	for j := range b {
		b[j] = byte('a' + (i+j)%26)
	}
	return b
}

func (r *run) submit(ctx context.Context, t scenario.Traffic, ti, i int) error {
	id := fmt.Sprintf("%s-%s-%d-%06d", t.From, t.To, ti, i)
	m := r.mtas[t.From]
	if !m.Running() {
		// A stopped MTA accepts nothing: the message is recorded as
		// refused, so the run accounts for it.
		r.mu.Lock()
		r.refused[id] = submission{from: t.From, to: t.To, at: r.offset()}
		r.mu.Unlock()
		return nil
	}
	if err := m.Submit(ctx, store.Message{ID: id, To: t.To, Priority: uint8(t.Priority), Payload: payload(t.Size, i)}); err != nil {
		return err
	}
	r.mu.Lock()
	r.submitted[id] = submission{from: t.From, to: t.To, at: r.offset()}
	r.mu.Unlock()
	return nil
}

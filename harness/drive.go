package harness

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// step is one thing the timeline does at an offset.
type step struct {
	at     time.Duration
	order  int // ties: faults, then actions, then traffic
	toggle *faults.Toggle
	action *scenario.Action
	submit func(ctx context.Context) error
}

// steps merges the schedule, the actions and the traffic into one timeline.
func (r *run) steps() []step {
	var out []step
	for i := range r.sched.Toggles {
		out = append(out, step{at: r.sched.Toggles[i].Offset, order: 0, toggle: &r.sched.Toggles[i]})
	}
	for i := range r.sc.Actions {
		out = append(out, step{at: r.sc.Actions[i].At, order: 1, action: &r.sc.Actions[i]})
	}
	for ti, t := range r.sc.Traffic {
		for i := 0; i < t.Messages; i++ {
			at := t.Start
			if t.Rate > 0 {
				at += time.Duration(float64(i) / t.Rate * float64(time.Second))
			}
			ti, i, t := ti, i, t
			out = append(out, step{at: at, order: 2, submit: func(ctx context.Context) error { return r.submit(ctx, t, ti, i) }})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].at != out[j].at {
			return out[i].at < out[j].at
		}
		return out[i].order < out[j].order
	})
	return out
}

// drive carries out the steps at their offsets. Toggles go to a toggler,
// which applies each link's in order and those of different links up to
// Options.ToggleWorkers at once (default one: see DefaultToggleWorkers).
// An action waits for the toggles before it (so it sees the links as the
// schedule left them); traffic does not. The first failed step stops the
// timeline.
func (r *run) drive(ctx context.Context, steps []step) {
	tg := newToggler(r.opts.ToggleWorkers)
	defer func() {
		tg.wait()
		r.mu.Lock()
		r.stepsDone = true
		r.mu.Unlock()
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	peak, toggles := len(r.sched.Toggles)/2, 0
	for _, s := range steps {
		if wait := s.at - r.offset(); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return
			}
		}
		if r.failed() {
			return
		}
		var err error
		switch {
		case s.toggle != nil:
			at, t := s.at, *s.toggle
			tg.submit(t.Link, func() {
				if !r.failed() { // the timeline stops at the first failure
					r.stepDone(ctx, at, r.applyToggle(ctx, at, t))
				}
			})
			if toggles++; toggles == peak+1 && r.opts.OnPeak != nil {
				r.opts.OnPeak()
			}
			continue
		case s.action != nil:
			tg.wait()
			if r.failed() {
				return
			}
			err = r.act(ctx, *s.action)
		default:
			err = s.submit(ctx)
		}
		if !r.stepDone(ctx, s.at, err) {
			return
		}
	}
}

// stepDone records the first error of a step planned at at as the run's
// (unless the run is being cancelled); it reports whether err was nil.
func (r *run) stepDone(ctx context.Context, at time.Duration, err error) bool {
	if err == nil {
		return true
	}
	if ctx.Err() == nil {
		r.mu.Lock()
		if r.stepErr == nil {
			r.stepErr = err
		}
		r.mu.Unlock()
		r.log.Error("step failed", "at", at, "err", err)
	}
	return false
}

// failed reports whether a step has failed.
func (r *run) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stepErr != nil
}

func (r *run) applyToggle(ctx context.Context, planned time.Duration, t faults.Toggle) error {
	err := faults.Apply(ctx, r.backend, r.proxies[t.Link], t)
	if err == nil {
		err = faults.Apply(ctx, r.backend, r.probes[t.Link], t)
	}
	applied := r.offset()
	e := LedgerEntry{Phase: "applied", Planned: planned.Seconds(), At: applied.Seconds(),
		LagMS: float64(applied-planned) / float64(time.Millisecond), Link: t.Link, Fault: t.Fault, Type: t.Type, Action: t.Action}
	if t.Heal {
		e.Phase = "healed"
	}
	if err != nil {
		e.Phase, e.Error = "failed", err.Error()
	}
	r.record(e)
	r.tl.toggle(applied, t)
	if err == nil && t.Action != faults.ActUpdateToxic {
		r.verify(planned, t)
	}
	return err
}

// verify probes the toggle's effect on the link's probe twin in the
// background and records what it saw.
func (r *run) verify(planned time.Duration, t faults.Toggle) {
	ctx := context.Background()
	if t.Action == faults.ActDisable || t.Action == faults.ActAddToxic {
		ctx = r.effects
	}
	r.probing.Add(1)
	go func() {
		defer r.probing.Done()
		detail, err := faults.Probe(ctx, r.probeAddrs[t.Link], t)
		if err != nil && r.effects.Err() != nil && ctx == r.effects {
			err = fmt.Errorf("not seen before every link was healed at the run's end: %w", err)
		}
		e := LedgerEntry{Phase: "verified", Planned: planned.Seconds(), At: r.offset().Seconds(), Link: t.Link,
			Fault: t.Fault, Type: t.Type, Action: t.Action, Detail: detail}
		if err != nil {
			e.Phase, e.Error = "unverified", err.Error()
		}
		r.record(e)
	}()
}

func (r *run) record(e LedgerEntry) {
	r.mu.Lock()
	r.ledger = append(r.ledger, e)
	r.mu.Unlock()
}

func (r *run) act(ctx context.Context, a scenario.Action) error {
	m := r.mtas[a.MTA]
	var err error
	switch a.Op {
	case "restart":
		err = m.Restart(ctx)
	case "stop":
		err = m.Stop(ctx)
	case "start":
		err = m.StartAgain(ctx)
	default:
		err = fmt.Errorf("unknown action %q", a.Op)
	}
	at := r.offset()
	e := LedgerEntry{Phase: "action", Planned: a.At.Seconds(), At: at.Seconds(),
		LagMS: float64(at-a.At) / float64(time.Millisecond), Fault: -1, Action: a.Op, MTA: a.MTA}
	if err != nil {
		e.Error = err.Error()
		err = fmt.Errorf("harness: %s %s at %s: %w", a.Op, a.MTA, a.At, err)
	}
	r.record(e)
	r.tl.action(at, a)
	return err
}

// watch samples the pools until the run's verdict is decided or its
// duration is up.
func (r *run) watch(ctx context.Context) {
	tick := time.NewTicker(r.opts.SampleEvery)
	defer tick.Stop()
	end := time.NewTimer(r.sc.Duration)
	defer end.Stop()
	anchor := r.anchor()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-tick.C:
		}
		quiet := r.sample()
		r.mu.Lock()
		done, failed := r.stepsDone, r.stepErr != nil
		delivered := r.allDelivered()
		r.mu.Unlock()
		if failed {
			return
		}
		if !done || r.offset() < anchor {
			continue
		}
		if delivered && quiet {
			return // everything delivered, every pool at baseline: decided
		}
		// Delivery late past the recovery bound decides the run. Pools
		// still winding down after everything arrived in time do not:
		// associations close on their idle timers, so the run waits for
		// quiescence (up to its duration) before judging the baseline.
		if rec := r.sc.Expect.Recovery; rec != nil && !delivered && r.offset() > anchor+rec.Within+r.opts.SampleEvery {
			return // the recovery bound is already broken: decided
		}
	}
}

// allDelivered reports whether every submitted message reached its
// receiver; r.mu must be held.
func (r *run) allDelivered() bool {
	want := 0
	for _, t := range r.sc.Traffic {
		want += t.Messages
	}
	if len(r.submitted)+len(r.refused) < want {
		return false
	}
	got := map[string]bool{}
	for _, name := range r.order {
		for _, d := range r.mtas[name].Deliveries() {
			got[d.ID] = true
		}
	}
	for id := range r.submitted {
		if !got[id] {
			return false
		}
	}
	return true
}

// sample records every MTA's pool; it reports whether all are at baseline
// with empty queues.
func (r *run) sample() bool {
	t := r.offset().Seconds()
	quiet := true
	var batch []Sample
	for _, name := range r.order {
		m := r.mtas[name]
		s := Sample{T: t, MTA: name, Running: m.Running()}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		snap, err := m.Snapshot(ctx)
		cancel()
		if err == nil {
			s.Idle, s.Busy, s.Leaked, s.Queued = snap.Idle, snap.Busy, snap.Leaked, snap.Queued
			for _, k := range snap.KCBs {
				s.States = append(s.States, int(k.State))
			}
		} else if s.Running = m.Running(); s.Running {
			// A running MTA that did not answer (a remote one, slow or
			// unreachable) is unknown, not idle: no sample, not quiet.
			r.log.Warn("sample", "mta", name, "err", err)
			quiet = false
			continue
		}
		if !s.Running || s.Busy > 0 || s.Leaked > 0 || s.Queued > 0 {
			quiet = false
		}
		batch = append(batch, s)
	}
	r.mu.Lock()
	for _, s := range batch {
		if s.Leaked > r.maxLeaked[s.MTA] {
			r.tl.leaked(r.offset(), s.MTA, r.maxLeaked[s.MTA], s.Leaked)
			r.maxLeaked[s.MTA] = s.Leaked
		}
	}
	r.samples = append(r.samples, batch...)
	r.mu.Unlock()
	return quiet
}

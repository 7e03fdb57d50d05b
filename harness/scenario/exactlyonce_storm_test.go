package scenario_test

// LONG TEST (skipped under -short): exactly-once under a long storm.
//
// 10,000 messages go from A to B through an embedded Toxiproxy while the
// link is cycled 120 times and, every 400ms in turn, reset, truncated and
// sliced. sp2 must lose none and deliver none twice. sp0 leaks KCBs at B
// under this storm (the Q152877 defect), so B is restarted every 2s (the
// KB workaround, keeping its store): it must lose none. The figures (sent,
// delivered, duplicates suppressed, lost, wall time) are logged: run with
// -v. About 20s per build.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

const (
	stormMessages = 10000
	stormCycles   = 120
	stormSpan     = 18 * time.Second // submissions and faults both end by then
)

// stormFaults writes the storm as scenario faults, so that the scenario
// loader and faults.Expand turn it into toggles exactly as a run would.
func stormFaults() string {
	var b strings.Builder
	b.WriteString("version: 1\nname: exactly-once-storm\nseed: 424242\nmtas: [{name: A}, {name: B}]\nlinks: [{from: A, to: B}]\nfaults:\n")
	// 120 cycles of 40ms down, 100ms up: 16.8s.
	fmt.Fprintf(&b, "  - {at: 300ms, link: A->B, type: cycle, down: 40ms, up: 100ms, count: %d, jitter: 10ms}\n", stormCycles)
	kinds := []string{
		"type: reset, timeout: 0s",
		"type: truncate, bytes: 700, stream: up",
		"type: slice, average_size: 40, size_variation: 20, delay: 1ms, stream: both",
	}
	for i, at := 0, 500*time.Millisecond; at < stormSpan-time.Second; i, at = i+1, at+400*time.Millisecond {
		fmt.Fprintf(&b, "  - {at: %dms, until: %dms, link: A->B, %s}\n", at.Milliseconds(), (at + 150*time.Millisecond).Milliseconds(), kinds[i%len(kinds)])
	}
	fmt.Fprintf(&b, "duration: %ds\n", int(stormSpan.Seconds())+60)
	return b.String()
}

func TestExactlyOnceLongStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("long storm: skipped under -short")
	}
	for _, mode := range []kernel.Mode{kernel.SP2, kernel.SP0} {
		t.Run(string(mode), func(t *testing.T) { longStorm(t, mode) })
	}
}

func longStorm(t *testing.T, mode kernel.Mode) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sc, err := scenario.LoadBytes("storm.yaml", []byte(stormFaults()))
	if err != nil {
		t.Fatal(err)
	}
	specs := make([]faults.Spec, len(sc.Faults))
	for i, f := range sc.Faults {
		specs[i] = faults.Spec{Index: i, At: f.At, Until: f.Until, Link: "A->B", Type: f.Type, Params: f}
	}
	sched, err := faults.Expand(sc.Name, sc.Seed, specs)
	if err != nil {
		t.Fatal(err)
	}

	backend, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = backend.Close(context.Background()) }()
	timers := kernel.Timers{Open: 300 * time.Millisecond, OpenInterval: 50 * time.Millisecond, Transfer: 500 * time.Millisecond,
		Reassembly: 300 * time.Millisecond, Lifetime: 300 * time.Millisecond, Disconnect: 200 * time.Millisecond}
	b, err := mtastub.Start(ctx, mtastub.Config{Name: "B", Mode: mode, Timers: timers, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close(context.Background()) }()
	const proxy = "mtastorm-storm-A-B"
	listen, err := backend.CreateProxy(ctx, proxy, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	a, err := mtastub.Start(ctx, mtastub.Config{Name: "A", Mode: mode, Timers: timers, Seed: 2, Peers: map[string]string{"B": listen}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close(context.Background()) }()

	t0 := time.Now()
	var wg sync.WaitGroup
	// The faults, applied at their offsets.
	applied := map[string]int{} // cycles: one per disable; others: one per fault window
	windows := map[int]bool{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, tg := range sched.Toggles {
			time.Sleep(time.Until(t0.Add(tg.Offset)))
			if err := faults.Apply(ctx, backend, proxy, tg); err != nil {
				t.Errorf("apply: %v", err)
				continue
			}
			switch {
			case tg.Action == faults.ActDisable:
				applied[tg.Type]++
			case tg.Action == faults.ActAddToxic && !windows[tg.Fault]:
				windows[tg.Fault] = true
				applied[tg.Type]++
			}
		}
	}()
	// The traffic, spread over the storm.
	wg.Add(1)
	go func() {
		defer wg.Done()
		every := (stormSpan - 2*time.Second) / stormMessages
		for i := range stormMessages {
			time.Sleep(time.Until(t0.Add(time.Duration(i) * every)))
			msg := store.Message{ID: fmt.Sprintf("s%05d", i), To: "B", Payload: []byte(strings.Repeat("x", 100+i%400))}
			if err := a.Submit(ctx, msg); err != nil {
				t.Errorf("submit %s: %v", msg.ID, err)
				return
			}
		}
	}()
	// sp0: the KB workaround, a restart of B every 2s (its store is kept);
	// the counters of each life are added up.
	var suppressed, restarts int
	var restartMu sync.Mutex
	stopRestarts := make(chan struct{})
	restartDone := make(chan struct{})
	go func() {
		defer close(restartDone)
		if mode != kernel.SP0 {
			return
		}
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopRestarts:
				return
			case <-tick.C:
			}
			restartMu.Lock()
			if s, err := b.Snapshot(ctx); err == nil {
				suppressed += s.Duplicates
			}
			if err := b.Restart(ctx); err != nil {
				t.Errorf("restart B: %v", err)
			}
			restarts++
			restartMu.Unlock()
		}
	}()
	wg.Wait()
	close(stopRestarts)
	<-restartDone
	if err := faults.Heal(ctx, backend, proxy); err != nil {
		t.Fatal(err)
	}
	if mode == kernel.SP0 {
		// A last restart after the storm returns whatever it leaked.
		if s, err := b.Snapshot(ctx); err == nil {
			suppressed += s.Duplicates
		}
		if err := b.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		restarts++
	}

	// Everything is delivered, or the deadline says what was lost.
	deadline := time.Now().Add(60 * time.Second)
	for distinct(b.Deliveries()) < stormMessages && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	wall := time.Since(t0)
	ds := b.Deliveries()
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.ID]++
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	sb, err := b.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sa, err := a.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	suppressed += sb.Duplicates
	lost := stormMessages - len(seen)
	ev := map[int]int{}
	for id, n := range b.Events().Counts() {
		ev[id] += n
	}
	t.Logf("%s: sent %d, delivered %d, delivered twice %d, duplicates suppressed (ACK result 1) %d, lost %d; "+
		"A re-sent %d; link cycles %d, resets %d, truncations %d, slicings %d; B restarts %d; wall %s; B events %v, A events %v",
		mode, stormMessages, len(seen), dups, suppressed, lost, sa.Resent,
		applied["cycle"], applied["reset"], applied["truncate"], applied["slice"], restarts, wall.Round(time.Millisecond), ev, a.Events().Counts())
	if applied["cycle"] < 100 {
		t.Errorf("only %d link cycles applied, want 100+", applied["cycle"])
	}
	if lost != 0 {
		t.Errorf("%s: %d of %d messages lost", mode, lost, stormMessages)
	}
	if mode == kernel.SP2 && dups != 0 {
		t.Errorf("sp2: %d messages delivered twice", dups)
	}
}

func distinct(ds []kernel.Delivery) int {
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		seen[d.ID] = true
	}
	return len(seen)
}

package repro

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// gauge counts the jobs in flight and remembers the most at once.
type gauge struct {
	mu        sync.Mutex
	now, peak int
}

func (g *gauge) enter() {
	g.mu.Lock()
	g.now++
	g.peak = max(g.peak, g.now)
	g.mu.Unlock()
}

func (g *gauge) leave() {
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
}

// window keeps par jobs in flight, and hands results over in index order
// although the jobs finish in a very different order: the driver always
// lets the highest-numbered job in flight finish first.
func TestWindowRunsParAtOnceInIndexOrder(t *testing.T) {
	const n, par = 23, 5
	started := make(chan int, n)
	release := make([]chan struct{}, n)
	for i := range release {
		release[i] = make(chan struct{})
	}
	var g gauge
	var finished []int // completion order
	var fmu sync.Mutex
	go func() {
		var pending []int
		for released := 0; released < n; released++ {
			for len(pending) < min(par, n-released) {
				pending = append(pending, <-started)
			}
			slices.Sort(pending)
			last := pending[len(pending)-1]
			pending = pending[:len(pending)-1]
			close(release[last])
		}
	}()
	var accepted []int
	err := window(context.Background(), n, par,
		func(int) bool { return true },
		func(ctx context.Context, i int) (int, error) {
			g.enter()
			defer g.leave()
			started <- i
			select {
			case <-release[i]:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
			fmu.Lock()
			finished = append(finished, i)
			fmu.Unlock()
			return 10 * i, nil
		},
		func(i, v int, err error, ran bool) (bool, error) {
			if err != nil || !ran || v != 10*i {
				t.Errorf("job %d: value %d, err %v, ran %v", i, v, err, ran)
			}
			accepted = append(accepted, i)
			return false, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if g.peak != par {
		t.Errorf("at most %d jobs at once, want %d", g.peak, par)
	}
	for i, j := range accepted {
		if i != j {
			t.Fatalf("accepted in order %v", accepted)
		}
	}
	if len(accepted) != n {
		t.Fatalf("accepted %d of %d", len(accepted), n)
	}
	if slices.IsSorted(finished) {
		t.Fatalf("the jobs finished in index order (%v): the test shows nothing", finished)
	}
}

// When accept stops at an index, nothing past it is handed over or
// started, and the jobs past it still running are cancelled.
func TestWindowStopCancelsTheRest(t *testing.T) {
	const n, par, stopAt = 40, 4, 5
	var mu sync.Mutex
	var startedIdx []int
	cancelled := 0
	err := window(context.Background(), n, par,
		func(int) bool { return true },
		func(ctx context.Context, i int) (int, error) {
			mu.Lock()
			startedIdx = append(startedIdx, i)
			mu.Unlock()
			if i <= stopAt {
				return i, nil
			}
			<-ctx.Done() // only cancellation ends a job past the stop
			mu.Lock()
			cancelled++
			mu.Unlock()
			return 0, ctx.Err()
		},
		func(i, v int, err error, ran bool) (bool, error) {
			if i > stopAt {
				t.Errorf("job %d handed over past the stop at %d", i, stopAt)
			}
			return i == stopAt, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range startedIdx {
		if i > stopAt+par {
			t.Errorf("job %d started although the window could not reach it", i)
		}
	}
	if want := len(startedIdx) - (stopAt + 1); cancelled != want {
		t.Errorf("%d jobs past the stop cancelled, %d started", cancelled, want)
	}
}

// A job whose start says no is not run, and is handed over as not ran; an
// error from accept ends the window with it.
func TestWindowStartAndFatal(t *testing.T) {
	var ran []int
	var mu sync.Mutex
	boom := errors.New("boom")
	var seen []string
	err := window(context.Background(), 10, 3,
		func(i int) bool { return i%2 == 0 },
		func(ctx context.Context, i int) (int, error) {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			return i, nil
		},
		func(i, v int, err error, r bool) (bool, error) {
			if r {
				seen = append(seen, "ran")
			} else {
				seen = append(seen, "skipped")
			}
			if i == 4 {
				return false, boom
			}
			return false, nil
		})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if want := []string{"ran", "skipped", "ran", "skipped", "ran"}; !slices.Equal(seen, want) {
		t.Errorf("handed over %v, want %v", seen, want)
	}
	for _, i := range ran {
		if i%2 != 0 {
			t.Errorf("job %d ran although start said no", i)
		}
	}
}

func TestMachineDefaultAndChecks(t *testing.T) {
	per := perCPU
	if raceDetector {
		per = perCPURace
	}
	plenty := Machine{CPUs: 2, FDLimit: 20000, FDsOpen: 10, MemAvailable: 8 << 30}
	if got := plenty.DefaultParallel(); got != 2*per {
		t.Errorf("2 CPUs, plenty of fds and memory: default %d, want %d", got, 2*per)
	}
	if got := (Machine{CPUs: 64, FDLimit: 1 << 20, MemAvailable: 1 << 40}).DefaultParallel(); got != maxParallel {
		t.Errorf("64 CPUs: default %d, want %d", got, maxParallel)
	}
	fds := Machine{CPUs: 8, FDLimit: 1024, FDsOpen: 10, MemAvailable: 8 << 30}
	if got := fds.DefaultParallel(); got != 7 { // (1024-10-64)/128
		t.Errorf("1024 fds: default %d, want 7", got)
	}
	if err := fds.Check(7); err != nil {
		t.Errorf("7 runs in 1024 fds: %v", err)
	}
	err := fds.Check(8)
	if !errors.Is(err, ErrResources) || !strings.Contains(err.Error(), "RLIMIT_NOFILE is 1024") || !strings.Contains(err.Error(), "--parallel to 7") {
		t.Errorf("8 runs in 1024 fds: %v", err)
	}
	mem := Machine{CPUs: 8, FDLimit: 20000, MemAvailable: 256 << 20}
	if got := mem.DefaultParallel(); got != 4 {
		t.Errorf("256 MiB: default %d, want 4", got)
	}
	err = mem.Check(5)
	if !errors.Is(err, ErrResources) || !strings.Contains(err.Error(), "256 MiB is available") {
		t.Errorf("5 runs in 256 MiB: %v", err)
	}
	if got := (Machine{CPUs: 8, FDLimit: 100, MemAvailable: 1 << 30}).DefaultParallel(); got != 1 {
		t.Errorf("no room: default %d, want 1 (Check then says why)", got)
	}
	if err := (Machine{CPUs: 2, FDLimit: 100}).Check(1); !errors.Is(err, ErrResources) {
		t.Errorf("1 run in 100 fds: %v", err)
	}
	if err := plenty.Check(0); err == nil {
		t.Error("parallel 0 accepted")
	}
}

// Search checks the machine before it starts anything: a Parallel the
// descriptors cannot hold is an error, and no run is launched.
func TestSearchChecksResourcesFirst(t *testing.T) {
	m, err := ReadMachine()
	if err != nil {
		t.Fatal(err)
	}
	if m.FDLimit <= 0 || m.CPUs <= 0 {
		t.Fatalf("machine %+v", m)
	}
	n := m.FDLimit/RunFDs + 1
	_, err = Search(context.Background(), sigOf(t, "outage.csv"), Options{Parallel: n, Budget: time.Minute})
	if !errors.Is(err, ErrResources) || !strings.Contains(err.Error(), "RLIMIT_NOFILE") {
		t.Fatalf("parallel %d: %v", n, err)
	}
}

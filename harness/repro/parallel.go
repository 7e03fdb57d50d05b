package repro

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Resources a candidate run is counted on to need when Parallel is checked
// against the machine. A run is two to eleven MTAs (a listener each, an
// admin-free kernel), one proxy per link, and per association four
// descriptors (the sender's socket, the proxy's accepted and dialled
// sockets, the receiver's accepted socket): a 10-sender pressure run with
// pools of 8 stays under 128. Memory is mostly Toxiproxy's copy buffers and
// the goroutines of the MTAs; 64 MiB is several times what a run was seen
// to hold.
const (
	RunFDs    = 128
	RunMemory = 64 << 20
	// perCPU is how many runs go at once per CPU by default: a candidate
	// run is asleep on its timers most of its life (30 sequential runs
	// took 39.6 s of wall and 1.2 s of CPU), so eight per CPU keeps the
	// CPUs about a quarter busy and the runs' timers on time.
	perCPU = 8
	// perCPURace is perCPU in a -race build, where a run's CPU costs
	// several times as much: 16 runs at once on 2 cores then miss their
	// timers (a 600ms latency no longer outlasts the transfer timer), and
	// 4 at once saw Toxiproxy API calls time out: the 2 of the sequential
	// search it replaced.
	perCPURace = 1
	// maxParallel bounds the default: more runs at once than this would
	// only wait for the explore window to refill.
	maxParallel = 32
)

// reservedFDs are the descriptors kept back for the process itself (the
// embedded Toxiproxy's API, logs, output files, the Go runtime).
const reservedFDs = 64

// Machine is what the resource checks of a search read from the system.
type Machine struct {
	// CPUs is GOMAXPROCS.
	CPUs int
	// FDLimit is the soft RLIMIT_NOFILE; FDsOpen how many descriptors are
	// open already (-1 when unknown).
	FDLimit, FDsOpen int
	// MemAvailable is the memory the system reports available (bytes,
	// MemAvailable of /proc/meminfo, bounded by the cgroup's limit);
	// 0 when unknown.
	MemAvailable uint64
}

// ReadMachine reads the CPUs, the descriptor limit and the available memory.
func ReadMachine() (Machine, error) {
	m := Machine{CPUs: runtime.GOMAXPROCS(0), FDsOpen: -1}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return m, fmt.Errorf("repro: read RLIMIT_NOFILE: %w", err)
	}
	m.FDLimit = int(min(rl.Cur, 1<<30))
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		m.FDsOpen = len(ents)
	}
	m.MemAvailable = memAvailable()
	return m, nil
}

// memAvailable returns MemAvailable of /proc/meminfo, bounded by the
// cgroup v2 memory limit less its usage; 0 when neither can be read.
func memAvailable() uint64 {
	var avail uint64
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "MemAvailable:"); ok {
				if kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64); err == nil {
					avail = kb << 10
				}
			}
		}
		_ = f.Close()
	}
	limit, err1 := readUint("/sys/fs/cgroup/memory.max")
	used, err2 := readUint("/sys/fs/cgroup/memory.current")
	if err1 == nil && err2 == nil && limit > used {
		if avail == 0 || limit-used < avail {
			avail = limit - used
		}
	}
	return avail
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// fdRoom is how many runs the descriptors left allow.
func (m Machine) fdRoom() int {
	open := max(m.FDsOpen, 0)
	return (m.FDLimit - open - reservedFDs) / RunFDs
}

// memRoom is how many runs the available memory allows (-1: unknown).
func (m Machine) memRoom() int {
	if m.MemAvailable == 0 {
		return -1
	}
	return int(min(m.MemAvailable/RunMemory, 1<<20))
}

// DefaultParallel returns how many candidate runs go at once on m when
// Options.Parallel is 0: eight per CPU (one in a -race build), at most 32,
// and no more than the descriptors and memory left allow (at least 1).
func (m Machine) DefaultParallel() int {
	per := perCPU
	if raceDetector {
		per = perCPURace
	}
	n := min(per*max(m.CPUs, 1), maxParallel, m.fdRoom())
	if r := m.memRoom(); r >= 0 {
		n = min(n, r)
	}
	return max(n, 1)
}

// ErrResources is wrapped by the error of a search whose Parallel the
// machine cannot hold.
var ErrResources = errors.New("not enough resources")

// Check reports whether n runs at once fit in m's descriptors and memory;
// the error says what is short, by how much, and how to fix it.
func (m Machine) Check(n int) error {
	if n < 1 {
		return fmt.Errorf("repro: parallel %d: at least 1 run at a time", n)
	}
	if need := n*RunFDs + reservedFDs + max(m.FDsOpen, 0); need > m.FDLimit {
		return fmt.Errorf("repro: parallel %d needs about %d file descriptors (%d per run, %d open already, %d kept back) but RLIMIT_NOFILE is %d: raise it (ulimit -n %d) or lower --parallel to %d: %w",
			n, need, RunFDs, max(m.FDsOpen, 0), reservedFDs, m.FDLimit, need, max(m.fdRoom(), 0), ErrResources)
	}
	if r := m.memRoom(); r >= 0 && n > r {
		return fmt.Errorf("repro: parallel %d needs about %d MiB of memory (%d MiB per run) but %d MiB is available: lower --parallel to %d: %w",
			n, n*RunMemory>>20, RunMemory>>20, m.MemAvailable>>20, max(r, 0), ErrResources)
	}
	return nil
}

// window runs the jobs 0..n-1 with at most par at once and hands their
// results to accept in index order, whatever order they finish in, so that
// what the caller decides from them does not depend on timing. A job runs
// only if start(i), called in index order just before, returns true;
// accept sees ran false for one that did not. When accept returns stop, no
// job past that index is started, and those already running are cancelled
// and their results dropped; when it returns an error, every running job
// is cancelled and window returns the error. window returns once no job it
// started is running.
func window[T any](ctx context.Context, n, par int, start func(i int) bool,
	run func(ctx context.Context, i int) (T, error),
	accept func(i int, v T, err error, ran bool) (stop bool, fatal error)) error {
	type result struct {
		v   T
		err error
		ran bool
	}
	par = max(par, 1)
	type finished struct {
		i int
		r *result
	}
	results := make([]*result, n)
	cancels := make([]context.CancelFunc, n)
	done := make(chan finished, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		for _, c := range cancels {
			if c != nil {
				c()
			}
		}
	}()
	next, running, cut := 0, 0, n
	var fatal error
	for i := 0; i < cut; {
		// Fill the window.
		for fatal == nil && next < cut && running < par {
			j := next
			next++
			if !start(j) {
				results[j] = &result{}
				continue
			}
			jctx, cancel := context.WithCancel(ctx)
			cancels[j] = cancel
			running++
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := run(jctx, j)
				done <- finished{j, &result{v: v, err: err, ran: true}}
			}()
		}
		// Hand over the finished prefix.
		for fatal == nil && i < cut && results[i] != nil {
			r := results[i]
			stop, err := accept(i, r.v, r.err, r.ran)
			i++
			switch {
			case err != nil:
				fatal, cut = err, i
			case stop:
				cut = i
			}
		}
		if fatal != nil || i >= cut {
			break
		}
		if running == 0 && next >= cut {
			break // never: every started job is waited for
		}
		f := <-done
		running--
		results[f.i] = f.r
		cancels[f.i]()
		cancels[f.i] = nil
	}
	return fatal
}

// RunPlans runs plans against the customer's signature, Parallel at once
// (Options.Parallel; 0 is the machine's default), on opts.Backend or an
// embedded Toxiproxy of its own, and returns the scored trials in the
// plans' order, whatever order the runs finished in. A run lost to an
// infrastructure failure is left out (the fourth such loss is an error).
// It is the search's explore step without its stopping rule: `mtastorm
// bench` times it sequentially and concurrently side by side.
func RunPlans(ctx context.Context, customer Signature, plans []Plan, opts Options) ([]Trial, error) {
	if err := opts.prepareRuns(); err != nil {
		return nil, err
	}
	opts.Name = scenarioName(opts.Name)
	s := &searcher{opts: opts, log: opts.Logger, customer: customer, start: time.Now()}
	s.deadline = s.start.Add(24 * time.Hour) // every plan runs: RunPlans has no budget
	done, err := s.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	out, _, err := s.runAll(ctx, "explore", plans)
	return out, err
}

// BenchPlans returns n short candidate plans for timing the search: the
// refuse and reset families' shortest variants (2.6 s scenarios), under
// both 4.0 builds, with pools of 4 and 8, in a fixed order, seeds from 1.
func BenchPlans(n int) []Plan {
	var base []Plan
	for _, f := range []string{FamilyRefuse, FamilyReset} {
		g := grid(f)
		p := g[0]
		for _, q := range g[1:] {
			if q.Duration() < p.Duration() {
				p = q
			}
		}
		for _, kcbs := range []int{4, 8} {
			for _, m := range []string{"sp0", "sp2"} {
				q := p.WithMode(m)
				q.KCBs = kcbs
				base = append(base, q)
			}
		}
	}
	out := make([]Plan, n)
	for i := range out {
		out[i] = base[i%len(base)].clone()
		out[i].Seed = int64(i + 1)
	}
	return out
}

// prepareRuns fills what both the search and RunPlans need before any run:
// the concurrency (the machine's default when unset), checked against the
// file descriptors and memory available, and a logger.
func (o *Options) prepareRuns() error {
	m, err := ReadMachine()
	if err != nil {
		return err
	}
	if o.Parallel <= 0 {
		o.Parallel = m.DefaultParallel()
	}
	if err := m.Check(o.Parallel); err != nil {
		return err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// ScaleConfig shapes the scale figure: Initiators MTAs each open one
// association to each of Responders MTAs, through one embedded Toxiproxy
// (one proxy per responder), Initiators × Responders associations in all.
type ScaleConfig struct {
	Initiators, Responders int
	// Size is the size of the one message each association carries.
	Size int
	// AtPeak, when set, is called once every association is open, before
	// the memory is read (a heap profile can be written there).
	AtPeak func()
}

// ScaleResult is what Scale measured between the moment every MTA and
// proxy was up (the baseline) and the moment every association was open.
type ScaleResult struct {
	Assocs int // associations seen open at the responders
	Want   int
	// Errors counts submit errors, failure events (1004, 1008, 1198,
	// 1277), undelivered messages and associations not open.
	Errors     int
	ErrorNotes []string
	HeapDelta  int64 // live heap after GC
	StackDelta int64
	RSSDelta   int64
	Goroutines int // goroutines added
	CPU        time.Duration
	Wall       time.Duration
}

// PerAssoc returns d divided by the associations wanted, in KB (1000 bytes).
func (r ScaleResult) PerAssoc(d int64) float64 {
	if r.Want == 0 {
		return 0
	}
	return float64(d) / float64(r.Want) / 1000
}

var scaleTimers = kernel.Timers{
	Open: 15 * time.Second, OpenInterval: 200 * time.Millisecond, Transfer: 15 * time.Second,
	Reassembly: 5 * time.Second, Lifetime: 5 * time.Minute, Disconnect: 200 * time.Millisecond,
}

// Scale runs the scale figure in this process.
func Scale(ctx context.Context, sc ScaleConfig) (res ScaleResult, err error) {
	res.Want = sc.Initiators * sc.Responders
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{CallTimeout: 10 * time.Second})
	if err != nil {
		return res, err
	}
	var mtas []*mtastub.MTA
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for _, m := range mtas {
			wg.Add(1)
			go func() { defer wg.Done(); _ = m.Close(cctx) }()
		}
		wg.Wait()
		_ = emb.Close(cctx)
	}()
	resp := make([]*mtastub.MTA, sc.Responders)
	peers := map[string]string{}
	for i := range resp {
		name := fmt.Sprintf("R%03d", i)
		m, err := mtastub.Start(ctx, mtastub.Config{Name: name, KCBs: sc.Initiators + 2, Window: Window, Timers: scaleTimers})
		if err != nil {
			return res, err
		}
		mtas = append(mtas, m)
		resp[i] = m
		addr, err := emb.CreateProxy(ctx, toxi.ProxyPrefix+"bench-scale-"+name, m.Addr())
		if err != nil {
			return res, err
		}
		peers[name] = addr
	}
	init := make([]*mtastub.MTA, sc.Initiators)
	for i := range init {
		m, err := mtastub.Start(ctx, mtastub.Config{Name: fmt.Sprintf("I%03d", i), KCBs: sc.Responders + 2, Window: Window,
			Timers: scaleTimers, Peers: peers})
		if err != nil {
			return res, err
		}
		mtas = append(mtas, m)
		init[i] = m
	}

	m0, rss0, cpu0, g0 := memNow()
	start := time.Now()
	payload := make([]byte, sc.Size)
	var (
		mu    sync.Mutex
		notes []string
		wg    sync.WaitGroup
	)
	note := func(s string) {
		mu.Lock()
		res.Errors++
		if len(notes) < 5 {
			notes = append(notes, s)
		}
		mu.Unlock()
	}
	for i, m := range init {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, r := range resp {
				msg := store.Message{ID: fmt.Sprintf("s-%d-%d", i, j), To: r.Name(), Payload: payload}
				if err := m.Submit(ctx, msg); err != nil {
					note(err.Error())
				}
			}
		}()
	}
	wg.Wait()
	// Every message delivered, and every association still open.
	delivered := 0
	deadline := time.Now().Add(60 * time.Second)
	for delivered < res.Want && time.Now().Before(deadline) && ctx.Err() == nil {
		delivered = 0
		for _, r := range resp {
			delivered += len(r.Deliveries())
		}
		if delivered < res.Want {
			time.Sleep(20 * time.Millisecond)
		}
	}
	res.Wall = time.Since(start)
	if delivered < res.Want {
		note(fmt.Sprintf("%d of %d messages delivered", delivered, res.Want))
	}
	for _, r := range resp {
		snap, err := r.Snapshot(ctx)
		if err != nil {
			note(err.Error())
			continue
		}
		for _, k := range snap.KCBs {
			if k.Index > 0 && k.State == kernel.Associated {
				res.Assocs++
			}
		}
	}
	if res.Assocs < res.Want {
		note(fmt.Sprintf("%d of %d associations open", res.Assocs, res.Want))
	}
	if sc.AtPeak != nil {
		sc.AtPeak()
	}
	m1, rss1, cpu1, g1 := memNow()
	for _, m := range mtas {
		for _, id := range []int{eventlog.IDAssocError, eventlog.IDAssocErrorAnon, eventlog.IDStateCheck, eventlog.IDConnRefused} {
			if c := m.Events().Count(id); c > 0 {
				note(fmt.Sprintf("%s: %d× event %d", m.Name(), c, id))
			}
		}
	}
	res.ErrorNotes = notes
	res.HeapDelta = int64(m1.HeapAlloc) - int64(m0.HeapAlloc)
	res.StackDelta = int64(m1.StackInuse) - int64(m0.StackInuse)
	res.RSSDelta = rss1 - rss0
	res.CPU = cpu1 - cpu0
	res.Goroutines = g1 - g0
	return res, nil
}

// memNow collects garbage, returns freed memory to the OS (so that the RSS
// delta that follows counts new pages), and reads the heap, RSS, CPU time
// and goroutine count.
func memNow() (runtime.MemStats, int64, time.Duration, int) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m, rss(), cpuTime(), runtime.NumGoroutine()
}

// rss returns the process's resident set size in bytes (0 if unknown).
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runScale(ctx context.Context, o *Options) []Result {
	sc := ScaleConfig{Initiators: 50, Responders: 20, Size: 1 << 10}
	r, err := Scale(ctx, sc)
	if err != nil {
		return []Result{failed("scale_heap_per_assoc", "KB", "<= 100", err)}
	}
	shape := fmt.Sprintf("%d initiator MTAs × %d responder MTAs through one embedded Toxiproxy, %d of %d associations open in %.2fs",
		sc.Initiators, sc.Responders, r.Assocs, r.Want, r.Wall.Seconds())
	notes := "none"
	if len(r.ErrorNotes) > 0 {
		notes = strings.Join(r.ErrorNotes, "; ")
	}
	return []Result{
		atMost("scale_heap_per_assoc", r.PerAssoc(r.HeapDelta), "KB", 100,
			fmt.Sprintf("%s; live heap +%.1f MB, stacks +%.1f MB, +%d goroutines (%.1f per association)",
				shape, float64(r.HeapDelta)/1e6, float64(r.StackDelta)/1e6, r.Goroutines, float64(r.Goroutines)/float64(r.Want))),
		atMost("scale_rss_per_assoc", r.PerAssoc(r.RSSDelta), "KB", 100, fmt.Sprintf("RSS +%.1f MB", float64(r.RSSDelta)/1e6)),
		{Figure: "scale_errors", Value: float64(r.Errors), Unit: "count", Target: "== 0", Met: r.Errors == 0, Detail: notes},
		info("scale_cpu_per_assoc", float64(r.CPU)/float64(time.Millisecond)/float64(max(r.Want, 1)), "ms",
			fmt.Sprintf("CPU %.2fs user+sys for opening %d associations and one 1 KiB message on each", r.CPU.Seconds(), r.Want)),
	}
}

package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
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
	// CopyBufDelta is the part of HeapDelta in Toxiproxy's io.Copy
	// buffers, estimated from the heap profile (see ToxiproxyCopyBuffers);
	// CopyBufSamples is how many sampled buffers the estimate rests on.
	CopyBufDelta   int64
	CopyBufSamples int64
	StackDelta     int64
	// RSSDelta is the resident set added; RSSErr says why it could not be
	// read (then RSSDelta is meaningless).
	RSSDelta   int64
	RSSErr     error
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

// ScaleProfileRate is the heap profile's sampling rate (runtime.MemProfileRate)
// while Scale runs: fine enough to count Toxiproxy's 32 KiB copy buffers to
// about 1 % (each is sampled with probability 1 − e⁻² ≈ 0.86), coarse
// enough to cost little time and memory (one profile record per sampled
// object, outside the heap).
const ScaleProfileRate = 16 << 10

// Scale runs the scale figure in this process. It sets
// runtime.MemProfileRate to ScaleProfileRate while it runs.
func Scale(ctx context.Context, sc ScaleConfig) (res ScaleResult, err error) {
	res.Want = sc.Initiators * sc.Responders
	oldRate := runtime.MemProfileRate
	runtime.MemProfileRate = ScaleProfileRate
	defer func() { runtime.MemProfileRate = oldRate }()
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
	buf0, _, _ := ToxiproxyCopyBuffers()
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
	buf1, samples, perr := ToxiproxyCopyBuffers()
	if perr != nil {
		return res, perr
	}
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
	res.CopyBufDelta, res.CopyBufSamples = buf1-buf0, samples
	res.RSSDelta = rss1.n - rss0.n
	res.RSSErr = errors.Join(rss0.err, rss1.err)
	res.CPU = cpu1 - cpu0
	res.Goroutines = g1 - g0
	return res, nil
}

// memNow collects garbage, returns freed memory to the OS (so that the RSS
// delta that follows counts new pages), and reads the heap, RSS, CPU time
// and goroutine count. The heap profile is current after it (the GC it ran
// published it).
func memNow() (runtime.MemStats, rssRead, time.Duration, int) {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	n, err := rss()
	return m, rssRead{n, err}, cpuTime(), runtime.NumGoroutine()
}

type rssRead struct {
	n   int64
	err error
}

// rss returns the process's resident set size in bytes, VmRSS of
// /proc/self/status.
func rss() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("bench: rss: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("bench: rss: /proc/self/status VmRSS %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("bench: rss: /proc/self/status: %w", err)
	}
	return 0, errors.New("bench: rss: no VmRSS line in /proc/self/status")
}

// toxiproxyPkg prefixes the functions of Toxiproxy's packages in a stack.
const toxiproxyPkg = "github.com/Shopify/toxiproxy/v2"

// ToxiproxyCopyBuffers estimates the live heap bytes in Toxiproxy's copy
// buffers from the heap profile (runtime.MemProfile, as of the last
// completed GC): objects allocated in io.copyBuffer under a Toxiproxy
// function (its ToxicLink copies each direction of a proxied connection
// with io.Copy, a 32 KiB buffer per copy), scaled for sampling at the
// current runtime.MemProfileRate as pprof scales them. It returns the bytes
// and the sampled objects they rest on; an error when the profile holds no
// live object at all (profiling off).
func ToxiproxyCopyBuffers() (bytes, samples int64, err error) {
	var recs []runtime.MemProfileRecord
	for n, ok := runtime.MemProfile(nil, false); ; n, ok = runtime.MemProfile(recs, false) {
		if ok {
			recs = recs[:n]
			break
		}
		recs = make([]runtime.MemProfileRecord, n+64)
	}
	rate := int64(runtime.MemProfileRate)
	live := int64(0)
	for _, r := range recs {
		live += r.InUseBytes()
		if !copiedByToxiproxy(r.Stack()) {
			continue
		}
		_, b := scaleHeapSample(r.InUseObjects(), r.InUseBytes(), rate)
		bytes += b
		samples += r.InUseObjects()
	}
	if live == 0 {
		return 0, 0, errors.New("bench: the heap profile holds no live object (runtime.MemProfileRate 0?)")
	}
	return bytes, samples, nil
}

// copiedByToxiproxy reports whether stack is an allocation made by
// io.copyBuffer itself (its buffer; not what the writers it calls
// allocate) with a Toxiproxy function among its callers.
func copiedByToxiproxy(stack []uintptr) bool {
	frames := runtime.CallersFrames(stack)
	leaf := ""
	for {
		f, more := frames.Next()
		if leaf == "" && !strings.HasPrefix(f.Function, "runtime.") {
			leaf = f.Function
			if leaf != "io.copyBuffer" {
				return false
			}
		}
		if strings.HasPrefix(f.Function, toxiproxyPkg+".") || strings.HasPrefix(f.Function, toxiproxyPkg+"/") {
			return true
		}
		if !more {
			return false
		}
	}
}

// scaleHeapSample turns a sampled count and size into an estimate of the
// real ones, as runtime/pprof does: an object of average size s is sampled
// with probability 1 − e^(−s/rate).
func scaleHeapSample(count, size, rate int64) (int64, int64) {
	if count == 0 || size == 0 {
		return 0, 0
	}
	if rate <= 1 {
		return count, size
	}
	avg := float64(size) / float64(count)
	scale := 1 / (1 - math.Exp(-avg/float64(rate)))
	return int64(float64(count) * scale), int64(float64(size) * scale)
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
		return []Result{
			failed("scale_rss_per_assoc", "KB", err),
			failed("scale_errors", "count", err),
			failed("scale_heap_ours_per_assoc", "KB", err),
		}
	}
	return scaleResults(sc, r)
}

// scaleResults judges a scale run: RSS per association and errors (DESIGN.md
// section 11), the live heap per association split into Toxiproxy's copy
// buffers (informational) and the rest ("ours", target from issue 18), and
// the CPU spent (informational).
func scaleResults(sc ScaleConfig, r ScaleResult) []Result {
	shape := fmt.Sprintf("%d initiator MTAs × %d responder MTAs through one embedded Toxiproxy, %d of %d associations open in %.2fs",
		sc.Initiators, sc.Responders, r.Assocs, r.Want, r.Wall.Seconds())
	notes := "none"
	if len(r.ErrorNotes) > 0 {
		notes = strings.Join(r.ErrorNotes, "; ")
	}
	var out []Result
	if r.RSSErr != nil {
		out = append(out, skipped("scale_rss_per_assoc", "KB", "RSS not readable here: "+r.RSSErr.Error()))
	} else {
		out = append(out, measured("scale_rss_per_assoc", r.PerAssoc(r.RSSDelta), fmt.Sprintf("RSS +%.1f MB; %s", float64(r.RSSDelta)/1e6, shape)))
	}
	heap, bufs := r.PerAssoc(r.HeapDelta), r.PerAssoc(r.CopyBufDelta)
	out = append(out,
		measured("scale_errors", float64(r.Errors), notes),
		info("scale_heap_per_assoc", heap, "KB",
			fmt.Sprintf("live heap +%.1f MB = Toxiproxy's copy buffers %.1f KB + the rest %.1f KB per association; stacks +%.1f MB, +%d goroutines (%.1f per association)",
				float64(r.HeapDelta)/1e6, bufs, heap-bufs, float64(r.StackDelta)/1e6, r.Goroutines, float64(r.Goroutines)/float64(max(r.Want, 1)))),
		info("scale_heap_toxiproxy_copybuf_per_assoc", bufs, "KB",
			fmt.Sprintf("io.copyBuffer under Toxiproxy's ToxicLink, from the heap profile sampled every %d KiB (%d buffers sampled)", ScaleProfileRate>>10, r.CopyBufSamples)),
		measured("scale_heap_ours_per_assoc", heap-bufs,
			"live heap per association less Toxiproxy's copy buffers: the MTAs, KCBs, timers, paths and Toxiproxy's link objects"),
		info("scale_cpu_per_assoc", float64(r.CPU)/float64(time.Millisecond)/float64(max(r.Want, 1)), "ms",
			fmt.Sprintf("CPU %.2fs user+sys for opening %d associations and one 1 KiB message on each", r.CPU.Seconds(), r.Want)),
	)
	return out
}

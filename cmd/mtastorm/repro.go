package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/repro"
)

// reproCmd searches for a scenario that reproduces a customer's event log
// (DESIGN.md section 9):
//
//	mtastorm repro EVENTLOG [--out DIR] [--budget 60s] [--seeds N] [--parallel N] [--toxiproxy URL]
//
// Candidate runs go --parallel at once (default: eight per CPU, at most 32,
// within the file descriptors and memory left); a --parallel the machine
// cannot hold is refused before anything runs (exit 2).
// The first line on stdout is the diagnosis (the top KB, its title, the
// build and the service pack that fixes it; for a log no hypothesis
// reproduces, "NOT reproduced" and the IDs none produced), then the
// runner-ups; what the log holds, the search's progress (--verbose, or a
// progress bar on a terminal) and errors go to stderr.
// It writes DIR/summary.json, DIR/diagnosis.json, and DIR/repro.yaml and DIR/repro_test.go
// when a scenario was found. The last lines say "reproduced" or "NOT
// reproduced" and why, naming the log's event IDs no run logged and those
// the stub does not model. Exit codes: 0 reproduced, 1 not reproduced, 2
// bad input, 3 infrastructure.
func reproCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm repro", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output folder (default ./mtastorm-out/repro-<log>-<time>)")
	budget := fs.Duration("budget", repro.DefaultBudget, "time bound of the whole search")
	seeds := fs.Int("seeds", repro.DefaultSeeds, fmt.Sprintf("further seeds the hit rate of the best candidate is measured over (at least %d)", repro.MinSeeds))
	machine, merr := repro.ReadMachine()
	parallel := fs.Int("parallel", machine.DefaultParallel(), "candidate runs at once (default: 8 per CPU, at most 32, within RLIMIT_NOFILE and free memory)")
	url := fs.String("toxiproxy", "", "external toxiproxy-server URL (default $TOXIPROXY_URL, else embedded)")
	verbose := fs.Bool("verbose", false, "print one line per run")
	debug := fs.Bool("debug", false, "debug logs on stderr")
	arg, ok := oneArg(fs, args, "event log", stderr)
	if !ok {
		return exitUsage
	}
	if *budget <= 0 {
		fmt.Fprintf(stderr, "mtastorm repro: --budget must be positive\n")
		return exitUsage
	}
	if *seeds < repro.MinSeeds {
		fmt.Fprintf(stderr, "mtastorm repro: --seeds %d: the hit rate is measured over at least %d further seeds\n", *seeds, repro.MinSeeds)
		return exitUsage
	}
	if merr != nil {
		fmt.Fprintf(stderr, "mtastorm repro: %v\n", merr)
		return exitInfra
	}
	if err := machine.Check(*parallel); err != nil {
		fmt.Fprintf(stderr, "mtastorm repro: --parallel %d: %v\n", *parallel, err)
		return exitUsage
	}
	sig, format, code := loadEventLog(arg, stderr)
	if code != exitPassed {
		return code
	}
	base := strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
	if *out == "" {
		*out = filepath.Join("mtastorm-out", fmt.Sprintf("repro-%s-%s", base, time.Now().Format("20060102-150405")))
	}
	level := slog.LevelWarn
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// What the log says and how the search runs go to stderr: the
	// diagnosis is the first line on stdout.
	fmt.Fprintf(stderr, "%s (%s): %d events, ids %v, leak indicator %v\n", arg, format, sig.Events, sig.Order, sig.Leak)
	if sig.Build != "" {
		fmt.Fprintf(stderr, "  the log's banner names build %s: every hypothesis runs under it\n", sig.Build)
	}
	if len(sig.NotModelled) > 0 {
		fmt.Fprintf(stderr, "  not modelled by the stub: %v (no lab run logs them: this log will not be reproduced)\n", sig.NotModelled)
	}
	if sig.Companions() {
		fmt.Fprintln(stderr, "  the log has companion events: candidates run with extended_events on")
	}
	fmt.Fprintf(stderr, "  %d candidate runs at once (--parallel)\n", *parallel)
	opts := repro.Options{Budget: *budget, Seeds: *seeds, Parallel: *parallel, Logger: logger, Name: base}
	if *url != "" || os.Getenv(toxi.EnvURL) != "" {
		b, err := toxi.Open(ctx, *url, logger)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: %v\n", err)
			return exitInfra
		}
		defer func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = b.Close(cctx)
		}()
		opts.Backend = b
	}
	if *verbose {
		opts.Progress = stderr
	}
	stopBar := func() {}
	if !*verbose && showProgress(stderr) {
		opts.OnStep, stopBar = progressBar(stderr, *budget)
	}
	res, err := repro.Search(ctx, sig, opts)
	stopBar()
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	if err := res.Write(*out, arg); err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	fmt.Fprint(stdout, res.String())
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	if res.Reproduced {
		fmt.Fprintf(stdout, "next: mtastorm run %s\n", filepath.Join(*out, repro.FileScenario))
		return exitPassed
	}
	return exitFailed
}

// showProgress reports whether long work may draw a progress bar on w: a
// terminal, and not in CI.
func showProgress(w io.Writer) bool {
	if os.Getenv("CI") == "true" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar draws the search's progress against its budget on w. It
// returns the step callback and a function that clears the bar.
func progressBar(w io.Writer, budget time.Duration) (func(repro.Step), func()) {
	bar := progressbar.NewOptions64(budget.Milliseconds(),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("repro: starting"),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	start := time.Now()
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				mu.Lock()
				_ = bar.Set64(min(time.Since(start).Milliseconds(), budget.Milliseconds()-1))
				mu.Unlock()
			}
		}
	}()
	step := func(s repro.Step) {
		mu.Lock()
		defer mu.Unlock()
		bar.Describe(fmt.Sprintf("repro: run %d (%s), best %.2f", s.Tried, s.Phase, s.Best))
	}
	stop := func() {
		close(done)
		wg.Wait()
		_ = bar.Finish()
	}
	return step, stop
}

package main

import (
	"context"
	"errors"
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
//	mtastorm repro EVENTLOG [--out DIR] [--budget 60s] [--seeds N] [--seed N] [--parallel N] [--toxiproxy URL]
//	mtastorm repro EVENTLOG --shard I/N [--out DIR] [--budget 60s] [--seed N] [--parallel N] [--toxiproxy URL]
//	mtastorm repro merge SHARDDIR... [--out DIR] [--budget 60s] [--seeds N] [--parallel N] [--toxiproxy URL]
//
// Candidate runs go --parallel at once (default: eight per CPU, at most 32,
// within the file descriptors and memory left); a --parallel the machine
// cannot hold is refused before anything runs (exit 2).
// The first line on stdout is the diagnosis (the top KB, its title, the
// build and the service pack that fixes it; for a log no hypothesis
// reproduces, "NOT reproduced" and the IDs none produced), then the
// runner-ups; what the log holds, the search's progress (--verbose, or a
// progress bar on a terminal) and errors go to stderr.
// It writes DIR/summary.json and DIR/diagnosis.json, and DIR/repro.yaml and
// DIR/repro_test.go when a scenario was found. The last lines say
// "reproduced" or "NOT reproduced" and why, naming the log's event IDs no
// run logged and those the stub does not model. Exit codes: 0 reproduced,
// 1 not reproduced, 2 bad input, 3 infrastructure.
//
// With --shard I/N (default: $JOB_COMPLETION_INDEX/$JOB_COMPLETIONS when
// both are set, as in a Kubernetes Indexed Job) it scores only shard I of
// the initial hypothesis batch and writes DIR/shard-I-of-N/shard.json
// (DIR defaults to mtastorm-out/repro-<log>-shards); exit 0 once written.
// `repro merge` finishes the diagnosis from the shard directories (or
// directories holding shard-*-of-* ones) and writes what a single process
// would; shards that do not make one diagnosis exit 2.
func reproCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return reproMergeCmd(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("mtastorm repro", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := newReproFlags(fs)
	shardFlag := fs.String("shard", "", fmt.Sprintf("score only shard I of N of the initial hypotheses (I/N) and write DIR/shard-I-of-N for `repro merge` (default $%s/$%s)", repro.EnvShardIndex, repro.EnvShardCount))
	seed := fs.Int64("seed", repro.DefaultSeed, "seed of the first runs (every shard of a diagnosis must use the same)")
	arg, ok := oneArg(fs, args, "event log", stderr)
	if !ok {
		return exitUsage
	}
	if code := rf.check(stderr); code != exitPassed {
		return code
	}
	if *seed == 0 {
		fmt.Fprintf(stderr, "mtastorm repro: --seed 0: a seed is a nonzero number\n")
		return exitUsage
	}
	shard, sharded, err := repro.ShardFromEnv(os.Getenv)
	if *shardFlag != "" {
		shard, err = repro.ParseShard(*shardFlag)
		sharded = err == nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm repro: %v\n", err)
		return exitUsage
	}
	if dryRun(ctx) {
		return exitPassed // --parallel is checked against the machine it runs on
	}
	if code := rf.checkMachine(stderr); code != exitPassed {
		return code
	}
	sig, format, code := loadEventLog(arg, stderr)
	if code != exitPassed {
		return code
	}
	base := strings.TrimSuffix(filepath.Base(arg), filepath.Ext(arg))
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
	fmt.Fprintf(stderr, "  %d candidate runs at once (--parallel)\n", *rf.parallel)
	opts, done, code := rf.options(ctx, stderr)
	if code != exitPassed {
		return code
	}
	defer done()
	opts.Name, opts.Seed = base, *seed
	if sharded {
		return reproShard(ctx, arg, base, sig, shard, rf, opts, stdout, stderr)
	}
	if *rf.out == "" {
		*rf.out = filepath.Join("mtastorm-out", fmt.Sprintf("repro-%s-%s", base, time.Now().Format("20060102-150405")))
	}
	stopBar := rf.progress(&opts, stderr)
	res, err := repro.Search(ctx, sig, opts)
	stopBar()
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	return writeOutcome(res, *rf.out, arg, stdout, stderr)
}

// reproShard scores one shard of the initial hypothesis batch and writes
// its directory.
func reproShard(ctx context.Context, arg, base string, sig repro.Signature, shard repro.Shard, rf *reproFlags,
	opts repro.Options, stdout, stderr io.Writer) int {
	parent := *rf.out
	if parent == "" {
		parent = filepath.Join("mtastorm-out", fmt.Sprintf("repro-%s-shards", base))
	}
	dir := filepath.Join(parent, shard.Dir())
	stopBar := rf.progress(&opts, stderr)
	r, err := repro.ExploreShard(ctx, sig, shard, opts)
	stopBar()
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	r.Log = arg
	if err := r.Write(dir); err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	best, top := "none", -1.0
	for _, t := range r.Trials {
		if t.Score > top {
			best, top = fmt.Sprintf("%s (score %.3f)", t.Plan, t.Score), t.Score
		}
	}
	fmt.Fprintf(stdout, "shard %s: %d of %d hypotheses (seed %d, list %.12s), %d scored in %.1fs; best here %s\n",
		shard, len(r.Owned), r.Hypotheses, r.Seed, r.ListHash, len(r.Trials), r.Seconds, best)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(stdout, "  WARNING: %d not run (budget or infrastructure): indexes %v; a merge goes on without them\n", len(r.Skipped), r.Skipped)
	}
	fmt.Fprintf(stdout, "wrote %s\nnext, once every shard is written: mtastorm repro merge %s\n", dir, parent)
	return exitPassed
}

// reproMergeCmd finishes a sharded diagnosis: `mtastorm repro merge DIR...`.
func reproMergeCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm repro merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rf := newReproFlags(fs)
	dirs, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(dirs) == 0 {
		fmt.Fprintf(stderr, "mtastorm repro merge: want shard directories (written by mtastorm repro LOG --shard I/N)\n%s", usage)
		return exitUsage
	}
	if code := rf.check(stderr); code != exitPassed {
		return code
	}
	if dryRun(ctx) {
		return exitPassed // --parallel is checked against the machine it runs on
	}
	if code := rf.checkMachine(stderr); code != exitPassed {
		return code
	}
	var rs []*repro.ShardResult
	for _, d := range shardDirs(dirs) {
		r, err := repro.ReadShard(d)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm repro merge: %v\n", err)
			return exitUsage
		}
		rs = append(rs, r)
	}
	if err := repro.CheckShards(rs); err != nil {
		fmt.Fprintf(stderr, "mtastorm repro merge: %v\n", err)
		return exitUsage
	}
	log := rs[0].Log
	base := strings.TrimSuffix(filepath.Base(log), filepath.Ext(log))
	skipped := 0
	for _, r := range rs {
		skipped += len(r.Skipped)
	}
	fmt.Fprintf(stderr, "%s: %d shards of %d hypotheses (seed %d, list %.12s), %d not run by their shard\n",
		log, len(rs), rs[0].Hypotheses, rs[0].Seed, rs[0].ListHash, skipped)
	opts, done, code := rf.options(ctx, stderr)
	if code != exitPassed {
		return code
	}
	defer done()
	if *rf.out == "" {
		*rf.out = filepath.Join("mtastorm-out", fmt.Sprintf("repro-%s-%s", base, time.Now().Format("20060102-150405")))
	}
	stopBar := rf.progress(&opts, stderr)
	res, err := repro.Merge(ctx, rs, opts)
	stopBar()
	if errors.Is(err, repro.ErrShards) {
		fmt.Fprintf(stderr, "mtastorm repro merge: %v\n", err)
		return exitUsage
	}
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	return writeOutcome(res, *rf.out, log, stdout, stderr)
}

// shardDirs expands each directory without a shard.json that holds
// shard-*-of-* directories into them (sorted), so that the --out of the
// shards can be merged as one argument.
func shardDirs(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, repro.FileShard)); err != nil {
			if sub, _ := filepath.Glob(filepath.Join(d, "shard-*-of-*", repro.FileShard)); len(sub) > 0 {
				for _, s := range sub {
					out = append(out, filepath.Dir(s))
				}
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// writeOutcome writes a search's files and prints its verdict: exit 0
// reproduced, 1 not.
func writeOutcome(res *repro.Outcome, out, log string, stdout, stderr io.Writer) int {
	if err := res.Write(out, log); err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitInfra
	}
	fmt.Fprint(stdout, res.String())
	fmt.Fprintf(stdout, "wrote %s\n", out)
	if res.Reproduced {
		fmt.Fprintf(stdout, "next: mtastorm run %s\n", filepath.Join(out, repro.FileScenario))
		return exitPassed
	}
	return exitFailed
}

// reproFlags are the flags repro and repro merge share.
type reproFlags struct {
	out             *string
	budget          *time.Duration
	seeds, parallel *int
	url             *string
	verbose, debug  *bool
	machine         repro.Machine
	machineErr      error
}

func newReproFlags(fs *flag.FlagSet) *reproFlags {
	rf := &reproFlags{}
	rf.out = fs.String("out", "", "output folder (default ./mtastorm-out/repro-<log>-<time>; with --shard, the folder of the shard directories)")
	rf.budget = fs.Duration("budget", repro.DefaultBudget, "time bound of the whole search (of a shard: of its runs; of a merge: of what it runs)")
	rf.seeds = fs.Int("seeds", repro.DefaultSeeds, fmt.Sprintf("further seeds the hit rate of the best candidate is measured over (at least %d)", repro.MinSeeds))
	rf.machine, rf.machineErr = repro.ReadMachine()
	rf.parallel = fs.Int("parallel", rf.machine.DefaultParallel(), "candidate runs at once (default: 8 per CPU, at most 32, within RLIMIT_NOFILE and free memory)")
	rf.url = fs.String("toxiproxy", "", "external toxiproxy-server URL (default $TOXIPROXY_URL, else embedded)")
	rf.verbose = fs.Bool("verbose", false, "print one line per run")
	rf.debug = fs.Bool("debug", false, "debug logs on stderr")
	return rf
}

// check validates the shared flags' values: exit 2 for a bad one.
func (rf *reproFlags) check(stderr io.Writer) int {
	name := "mtastorm repro"
	if *rf.budget <= 0 {
		fmt.Fprintf(stderr, "%s: --budget must be positive\n", name)
		return exitUsage
	}
	if *rf.seeds < repro.MinSeeds {
		fmt.Fprintf(stderr, "%s: --seeds %d: the hit rate is measured over at least %d further seeds\n", name, *rf.seeds, repro.MinSeeds)
		return exitUsage
	}
	return exitPassed
}

// checkMachine checks --parallel against this machine's descriptors and
// memory: exit 2 when it cannot hold it, 3 when the machine cannot be read.
func (rf *reproFlags) checkMachine(stderr io.Writer) int {
	name := "mtastorm repro"
	if rf.machineErr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, rf.machineErr)
		return exitInfra
	}
	if err := rf.machine.Check(*rf.parallel); err != nil {
		fmt.Fprintf(stderr, "%s: --parallel %d: %v\n", name, *rf.parallel, err)
		return exitUsage
	}
	return exitPassed
}

// options returns the search options of the flags, with the Toxiproxy of
// --toxiproxy or $TOXIPROXY_URL opened (done closes it).
func (rf *reproFlags) options(ctx context.Context, stderr io.Writer) (repro.Options, func(), int) {
	level := slog.LevelWarn
	if *rf.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opts := repro.Options{Budget: *rf.budget, Seeds: *rf.seeds, Parallel: *rf.parallel, Logger: logger}
	if *rf.verbose {
		opts.Progress = stderr
	}
	done := func() {}
	if *rf.url != "" || os.Getenv(toxi.EnvURL) != "" {
		b, err := toxi.Open(ctx, *rf.url, logger)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: %v\n", err)
			return opts, nil, exitInfra
		}
		done = func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = b.Close(cctx)
		}
		opts.Backend = b
	}
	return opts, done, exitPassed
}

// progress draws a progress bar for the search on stderr when it is a
// terminal (not with --verbose, not in CI); it returns the function that
// clears it.
func (rf *reproFlags) progress(opts *repro.Options, stderr io.Writer) func() {
	if *rf.verbose || !showProgress(stderr) {
		return func() {}
	}
	var stop func()
	opts.OnStep, stop = progressBar(stderr, *rf.budget)
	return stop
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

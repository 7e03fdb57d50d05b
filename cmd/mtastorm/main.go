// Command mtastorm is the lab CLI: it runs scenario files against stub MTAs
// through Toxiproxy and judges recovery (DESIGN.md section 7).
//
//	mtastorm run SCENARIO.yaml [--out DIR] [--seed N] [--toxiproxy URL]
//	mtastorm replay DIR [--out DIR] [--toxiproxy URL]
//	mtastorm toxiproxy [--host 127.0.0.1] [--port 8474]
//
// Exit codes: 0 every check passed; 1 a check failed; 2 bad input or usage;
// 3 infrastructure failure; 4 verdict unknown.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// Exit codes.
const (
	exitPassed  = 0
	exitFailed  = 1
	exitUsage   = 2
	exitInfra   = 3
	exitUnknown = 4
)

const usage = `usage:
  mtastorm run SCENARIO.yaml [--out DIR] [--seed N] [--toxiproxy URL] [--capture] [--capture-max SIZE] [--quiet] [--debug]
  mtastorm replay DIR [--out DIR] [--toxiproxy URL] [--capture] [--capture-max SIZE] [--quiet] [--debug]
      re-run a bundle: its scenario.yaml with the toggles of its schedule.json
      --capture writes per-link pcapng files into the bundle's captures/ (tools/wireshark/minip1.lua decodes them)
  mtastorm check DIR    re-judge a saved bundle; rewrites its summary.json, junit.xml and report.html
  mtastorm import EVENTLOG [--json]
      print the signature of an event log (Event Viewer CSV, wevtutil text, events.jsonl)
  mtastorm repro EVENTLOG [--out DIR] [--budget 60s] [--seeds N] [--seed N] [--parallel N] [--verbose]
      search for a scenario that reproduces an event log; writes diagnosis.json, repro.yaml, summary.json, repro_test.go
  mtastorm repro EVENTLOG --shard I/N [--out DIR] [--seed N] [--parallel N]
      score shard I of N of the hypotheses only (default $JOB_COMPLETION_INDEX/$JOB_COMPLETIONS); writes DIR/shard-I-of-N
  mtastorm repro merge SHARDDIR... [--out DIR] [--budget 60s] [--seeds N] [--parallel N]
      finish a sharded diagnosis: the same files as one process
  mtastorm toxiproxy [--host 127.0.0.1] [--port 8474]
      a toxiproxy-server with mtastorm's cut_at toxic registered
  mtastorm bench [--json] [--quick] [--suite] [--readme] [--only GROUPS] [--root DIR] [--toxiproxy-server BIN]

exit codes: 0 passed, 1 a check failed, 2 bad input, 3 infrastructure failure, 4 verdict unknown
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "replay":
		return replayCmd(ctx, args[1:], stdout, stderr)
	case "check":
		return checkCmd(ctx, args[1:], stdout, stderr)
	case "import":
		return importCmd(ctx, args[1:], stdout, stderr)
	case "repro":
		return reproCmd(ctx, args[1:], stdout, stderr)
	case "toxiproxy":
		return toxiproxyCmd(ctx, args[1:], stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitPassed
	}
	fmt.Fprintf(stderr, "mtastorm: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

// dryRunKey marks a context under which a command returns exitPassed as
// soon as its arguments are parsed and checked: before it reads a file,
// reads the machine's resources, opens a socket or starts a run.
type dryRunKey struct{}

// dryRun reports whether ctx asks a command to stop once its arguments
// are parsed and checked (checkArgs).
func dryRun(ctx context.Context) bool {
	v, _ := ctx.Value(dryRunKey{}).(bool)
	return v
}

// checkArgs parses and checks a mtastorm command line (the arguments after
// the program name) as the CLI would, and runs nothing: nil when mtastorm
// would accept it, else an error holding what mtastorm printed. The
// deployment manifests (deploy/k8s) are tested with it. Paths in args are
// not opened: they name files in the container, not here.
func checkArgs(args []string) error {
	var out strings.Builder
	ctx := context.WithValue(context.Background(), dryRunKey{}, true)
	if code := run(ctx, args, io.Discard, &out); code != exitPassed {
		// The message, without the usage or the flag list printed after it.
		msg, _, _ := strings.Cut(strings.TrimSpace(out.String()), "\nusage:")
		msg, _, _ = strings.Cut(msg, "\nUsage of ")
		return fmt.Errorf("mtastorm %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(msg))
	}
	return nil
}

// oneArg parses fs and wants exactly one positional argument (what); on
// anything else it says so on stderr with the usage and returns false.
func oneArg(fs *flag.FlagSet, args []string, what string, stderr io.Writer) (string, bool) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", false
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "%s: want one %s, got %d\n%s", fs.Name(), what, len(pos), usage)
		return "", false
	}
	return pos[0], true
}

// parse parses flags and positional arguments in any order.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// common are the flags run and replay share.
type common struct {
	out, url, captureMax, pprof *string
	quiet, debug, capture       *bool
}

func commonFlags(fs *flag.FlagSet) common {
	return common{
		out:        fs.String("out", "", "bundle folder (default ./mtastorm-out/<scenario>-<time>)"),
		url:        fs.String("toxiproxy", "", "external toxiproxy-server URL (default $TOXIPROXY_URL, else embedded)"),
		quiet:      fs.Bool("quiet", false, "print only the bundle line"),
		debug:      fs.Bool("debug", false, "debug logs on stderr"),
		capture:    fs.Bool("capture", false, "write per-link pcapng captures into the bundle's captures/ (as the scenario key capture: true)"),
		captureMax: fs.String("capture-max", "", "size limit of each capture file, e.g. 16MiB (default 64MiB)"),
		pprof:      fs.String("pprof", "", "write CPU, allocation and goroutine profiles of the run into DIR (cpu.pprof, allocs.pprof, goroutine.pprof)"),
	}
}

// check validates the common flags' values: exit 2, saying why, for a bad one.
func (c common) check(stderr io.Writer) int {
	if *c.captureMax != "" {
		n, err := scenario.ParseSize(*c.captureMax)
		if err != nil || n < 4096 {
			fmt.Fprintf(stderr, "mtastorm: --capture-max %q: want a size of at least 4KiB, e.g. 16MiB\n", *c.captureMax)
			return exitUsage
		}
	}
	return exitPassed
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := commonFlags(fs)
	seed := fs.Int64("seed", 0, "override the scenario's seed")
	arg, ok := oneArg(fs, args, "scenario file", stderr)
	if !ok {
		return exitUsage
	}
	if code := c.check(stderr); code != exitPassed || dryRun(ctx) {
		return code
	}
	sc, err := scenario.Load(arg)
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitUsage
	}
	opts := harness.Options{}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "seed" {
			opts.Seed = seed
		}
	})
	return execute(ctx, sc, opts, c, "", stdout, stderr)
}

func replayCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := commonFlags(fs)
	arg, ok := oneArg(fs, args, "bundle folder", stderr)
	if !ok {
		return exitUsage
	}
	if code := c.check(stderr); code != exitPassed || dryRun(ctx) {
		return code
	}
	sc, err := scenario.Load(filepath.Join(arg, harness.FileScenario))
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitUsage
	}
	sched, err := harness.LoadSchedule(filepath.Join(arg, harness.FileSchedule))
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm: %v\n", err)
		return exitUsage
	}
	// The kernel's own draws (leak_probability) use the seed the bundle ran with.
	return execute(ctx, sc, harness.Options{Schedule: sched, Seed: &sched.Seed}, c, "-replay", stdout, stderr)
}

// execute runs sc and maps the outcome to an exit code.
func execute(ctx context.Context, sc *scenario.Scenario, opts harness.Options, c common, suffix string, stdout, stderr io.Writer) int {
	opts.Out, opts.ToxiproxyURL, opts.Timeline = *c.out, *c.url, stdout
	opts.Capture = *c.capture
	if *c.captureMax != "" {
		opts.CaptureLimit, _ = scenario.ParseSize(*c.captureMax) // checked by c.check
	}
	if opts.Out == "" {
		opts.Out = filepath.Join("mtastorm-out", fmt.Sprintf("%s%s-%s", sc.Name, suffix, time.Now().Format("20060102-150405")))
	}
	if *c.quiet {
		opts.Timeline = nil
	}
	level := slog.LevelWarn
	if *c.debug {
		level = slog.LevelDebug
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *c.pprof != "" {
		stop, err := startProfiles(*c.pprof, &opts)
		if err != nil {
			fmt.Fprintf(stderr, "mtastorm: --pprof: %v\n", err)
			return exitInfra
		}
		defer func() {
			if err := stop(); err != nil {
				fmt.Fprintf(stderr, "mtastorm: --pprof: %v\n", err)
			}
		}()
	}
	res, err := harness.Run(ctx, sc, opts)
	if err != nil {
		return errorCode(err, stderr)
	}
	fmt.Fprintf(stdout, "bundle %s\n", res.Dir)
	return verdictCode(res.Summary.Verdict)
}

// errorCode reports a harness error on stderr and maps it to an exit code:
// bad input (file, line and key named) 2, anything else infrastructure 3.
func errorCode(err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "mtastorm: %v\n", err)
	var inErr *harness.InputError
	if errors.As(err, &inErr) {
		return exitUsage
	}
	return exitInfra
}

// verdictCode maps a run's verdict to its exit code.
func verdictCode(verdict string) int {
	switch verdict {
	case harness.Passed:
		return exitPassed
	case harness.Failed:
		return exitFailed
	}
	return exitUnknown
}

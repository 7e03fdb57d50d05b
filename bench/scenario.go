package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// PairScenarios are the shipped Q152877 pair, relative to the repository root.
var PairScenarios = []string{"scenarios/q152877-sp0.yaml", "scenarios/q152877-sp2.yaml"}

// ScenarioRun is one harness run as `mtastorm run` does it, bundle included.
type ScenarioRun struct {
	Name    string
	Verdict string
	// Wall is from harness.Run's call to its return: backend, MTAs and
	// proxies set up, the timeline, healing, teardown and the bundle.
	Wall time.Duration
	// Scenario is the scenario time the run itself needed: Summary.DurationS,
	// from the timeline's start (t0) to the moment the run's verdict was
	// decided (every check settled) or its duration ran out.
	Scenario time.Duration
	// LastStep is the offset of the last planned step (fault toggle or
	// action): no run can end before it.
	LastStep time.Duration
}

// Overhead returns Wall / Scenario.
func (r ScenarioRun) Overhead() float64 {
	if r.Scenario <= 0 {
		return 0
	}
	return r.Wall.Seconds() / r.Scenario.Seconds()
}

// RunScenario runs the scenario file at path, writing its bundle under a
// temporary folder that is removed afterwards.
func RunScenario(ctx context.Context, path string) (ScenarioRun, error) {
	sc, err := scenario.Load(path)
	if err != nil {
		return ScenarioRun{}, err
	}
	dir, err := os.MkdirTemp("", "mtastorm-bench-")
	if err != nil {
		return ScenarioRun{}, err
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	res, err := harness.Run(ctx, sc, harness.Options{Out: filepath.Join(dir, sc.Name)})
	wall := time.Since(start)
	if err != nil {
		return ScenarioRun{}, err
	}
	var last time.Duration
	for _, t := range res.Schedule.Toggles {
		last = max(last, t.Offset)
	}
	for _, a := range sc.Actions {
		last = max(last, a.At)
	}
	return ScenarioRun{Name: sc.Name, Verdict: res.Summary.Verdict, Wall: wall,
		Scenario: time.Duration(res.Summary.DurationS * float64(time.Second)), LastStep: last}, nil
}

// RunPair runs the scenario files side by side and returns each run and the
// wall time until the last one returned.
func RunPair(ctx context.Context, paths []string) ([]ScenarioRun, time.Duration, error) {
	runs := make([]ScenarioRun, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	start := time.Now()
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i], errs[i] = RunScenario(ctx, p)
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	for i, err := range errs {
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", paths[i], err)
		}
	}
	return runs, wall, nil
}

func runHarness(ctx context.Context, o *Options) []Result {
	paths := make([]string, len(PairScenarios))
	for i, p := range PairScenarios {
		paths[i] = filepath.Join(o.Root, p)
	}
	var out []Result
	// Alone, one after the other: each run's own overhead, and the pair's
	// sequential wall time.
	var seq []ScenarioRun
	var seqWall time.Duration
	if !o.Quick {
		for _, p := range paths {
			r, err := RunScenario(ctx, p)
			if err != nil {
				return []Result{failed("harness_overhead", "ratio", err)}
			}
			seq = append(seq, r)
			seqWall += r.Wall
		}
	}
	par, parWall, err := RunPair(ctx, paths)
	if err != nil {
		return append(out, failed("q152877_pair_wall", "s", err))
	}
	each := seq
	how := "run alone"
	if each == nil {
		each, how = par, "run side by side"
	}
	for _, r := range each {
		out = append(out, measured("harness_overhead/"+r.Name, r.Overhead(),
			fmt.Sprintf("%s: wall %.3fs (setup, timeline, heal, teardown, bundle) / scenario time %.3fs (t0 → decided end; last planned step %.1fs); verdict %s",
				how, r.Wall.Seconds(), r.Scenario.Seconds(), r.LastStep.Seconds(), r.Verdict)))
	}
	var verdicts []string
	for _, r := range par {
		verdicts = append(verdicts, fmt.Sprintf("%s %s %.2fs", r.Name, r.Verdict, r.Wall.Seconds()))
	}
	d := "side by side in one process: " + strings.Join(verdicts, ", ")
	if seq != nil {
		d += fmt.Sprintf("; one after the other %.2fs", seqWall.Seconds())
	}
	out = append(out, measured("q152877_pair_wall", parWall.Seconds(), d))
	return out
}

// SuiteCommand is the default suite, run from the repository root.
var SuiteCommand = []string{"bash", "ci/test.sh", "./suites/..."}

// ReadmeTestCommand is the command README.md gives under "Run the tests",
// run from the repository root (a test pins the two together).
var ReadmeTestCommand = []string{"bash", "ci/test.sh"}

func runSuite(ctx context.Context, o *Options) []Result {
	return []Result{timeCommand(ctx, o.Root, "default_suite_wall", SuiteCommand, o.Suite, "--suite", 15*time.Minute)}
}

func runReadme(ctx context.Context, o *Options) []Result {
	return []Result{timeCommand(ctx, o.Root, "readme_test_wall", ReadmeTestCommand, o.Readme, "--readme", 30*time.Minute)}
}

// timeCommand times argv run in root as figure; it is skipped unless
// optedIn (flag names the opt-in), and fails when the command fails or
// runs past limit.
func timeCommand(ctx context.Context, root, figure string, argv []string, optedIn bool, flag string, limit time.Duration) Result {
	line := strings.Join(argv, " ")
	if !optedIn {
		return skipped(figure, "s", "slow: pass "+flag+" to time `"+line+"`")
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = root
	start := time.Now()
	outb, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		tail := string(outb)
		if len(tail) > 400 {
			tail = tail[len(tail)-400:]
		}
		return failed(figure, "s", fmt.Errorf("bench: %s after %.1fs: %w: %s", line, wall.Seconds(), err, tail))
	}
	return measured(figure, wall.Seconds(), "`"+line+"` (module and build caches as found)")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/bench"
)

// stubBench replaces bench.Run for the duration of the test and records the
// options it was called with.
func stubBench(t *testing.T, results []bench.Result) *bench.Options {
	t.Helper()
	var got bench.Options
	old := benchRun
	benchRun = func(_ context.Context, o bench.Options) []bench.Result {
		got = o
		return results
	}
	t.Cleanup(func() { benchRun = old })
	return &got
}

func runBench(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"bench"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestBenchJSONPrintsOneObjectPerFigure(t *testing.T) {
	opts := stubBench(t, []bench.Result{
		{Figure: "minip1_direct_vs_raw/64B", Value: 0.62, Unit: "ratio", Target: ">= 0.5", Met: true},
		{Figure: "default_suite_wall", Unit: "s", Target: "<= 60", Skipped: true, Reason: "slow: pass --suite"},
	})
	code, out, stderr := runBench("--json", "--quick", "--root", "/some/repo")
	if code != exitPassed {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not a JSON array: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("%d objects, want 2", len(got))
	}
	for _, k := range []string{"figure", "value", "unit", "target", "met"} {
		if _, ok := got[0][k]; !ok {
			t.Errorf("object lacks %q: %v", k, got[0])
		}
	}
	if got[0]["value"] != 0.62 || got[0]["met"] != true || got[0]["target"] != ">= 0.5" {
		t.Errorf("first object %v", got[0])
	}
	// A figure not measured has no value and no verdict, only the reason.
	if _, ok := got[1]["value"]; ok || got[1]["skipped"] != true || got[1]["reason"] != "slow: pass --suite" {
		t.Errorf("skipped object %v", got[1])
	}
	if _, ok := got[1]["met"]; ok {
		t.Errorf("skipped object is judged: %v", got[1])
	}
	if !opts.Quick || opts.Suite || opts.Root != "/some/repo" {
		t.Errorf("options %+v", *opts)
	}
}

func TestBenchMissedTargetExitsOne(t *testing.T) {
	stubBench(t, []bench.Result{{Figure: "q152877_pair_wall", Value: 7, Unit: "s", Target: "<= 6", Met: false}})
	code, out, _ := runBench()
	if code != exitFailed {
		t.Fatalf("exit %d, want %d", code, exitFailed)
	}
	if !strings.Contains(out, "q152877_pair_wall") || !strings.Contains(out, "NO") {
		t.Errorf("table:\n%s", out)
	}
}

func TestBenchMissOwnedByAnOpenIssueDoesNotFail(t *testing.T) {
	stubBench(t, []bench.Result{
		{Figure: "minip1_direct_vs_raw/1KiB", Value: 0.8, Unit: "ratio", Target: ">= 0.5", Met: true},
		{Figure: "readme_test_wall", Value: 241.5, Unit: "s", Target: "<= 180", Owner: "issue 12"},
		{Figure: "org200_overhead", Unit: "ratio", Target: "<= 1.2", Owner: "issue 17", Skipped: true, Reason: "not built yet"},
	})
	code, out, stderr := runBench("--json")
	if code != exitPassed {
		t.Fatalf("exit %d, want %d: %s", code, exitPassed, stderr)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got[1]["met"] != false || got[1]["owner"] != "issue 12" {
		t.Errorf("owned miss reported as %v", got[1])
	}
	if !strings.Contains(stderr, "readme_test_wall (issue 12)") || !strings.Contains(stderr, "1 skipped") {
		t.Errorf("stderr lacks the owned miss and the skip: %s", stderr)
	}
}

func TestBenchFailedMeasurementExitsThree(t *testing.T) {
	stubBench(t, []bench.Result{
		{Figure: "event_wake_p99", Value: 0.04, Unit: "ms", Target: "<= 1", Met: true},
		{Figure: "fault_call_speedup/disable", Unit: "ratio", Target: ">= 5", Err: "toxi: boom"},
	})
	code, out, _ := runBench()
	if code != exitInfra {
		t.Fatalf("exit %d, want %d", code, exitInfra)
	}
	if !strings.Contains(out, "ERROR") || !strings.Contains(out, "toxi: boom") || !strings.Contains(out, "1 errors") {
		t.Errorf("table:\n%s", out)
	}
	// A miss outranks an error.
	stubBench(t, []bench.Result{
		{Figure: "q152877_pair_wall", Value: 7, Unit: "s", Target: "<= 6"},
		{Figure: "fault_call_speedup/disable", Unit: "ratio", Target: ">= 5", Err: "toxi: boom"},
	})
	if code, _, _ := runBench(); code != exitFailed {
		t.Fatalf("miss and error: exit %d, want %d", code, exitFailed)
	}
}

func TestBenchFlags(t *testing.T) {
	opts := stubBench(t, nil)
	if code, _, stderr := runBench("--only", "wake,transfer", "--suite", "--readme", "--toxiproxy-server", "/x/toxiproxy-server"); code != exitPassed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Join(opts.Only, ",") != "wake,transfer,suite,readme" || !opts.Suite || !opts.Readme {
		t.Errorf("only %v suite %v readme %v", opts.Only, opts.Suite, opts.Readme)
	}
	if len(opts.ToxiproxyServer) != 1 || opts.ToxiproxyServer[0] != "/x/toxiproxy-server" {
		t.Errorf("toxiproxy server %v", opts.ToxiproxyServer)
	}
	for _, bad := range [][]string{{"--only", "nope"}, {"extra"}, {"--no-such-flag"}} {
		if code, _, _ := runBench(bad...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}

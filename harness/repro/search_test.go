package repro

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

func backend(t *testing.T) toxi.Backend {
	t.Helper()
	b, err := toxi.NewEmbedded(context.Background(), toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b
}

// searchBounded runs Search and checks it kept its budget.
func searchBounded(t *testing.T, file string, opts Options) *Outcome {
	t.Helper()
	var progress bytes.Buffer
	opts.Progress = &progress
	t0 := time.Now()
	out, err := Search(context.Background(), sigOf(t, file), opts)
	took := time.Since(t0)
	t.Logf("%s: %v\n%s%s", file, took.Round(time.Millisecond), progress.String(), out)
	if err != nil {
		t.Fatal(err)
	}
	if took > opts.Budget+time.Second {
		t.Errorf("search took %s, budget %s", took, opts.Budget)
	}
	return out
}

func TestSearchQ152877(t *testing.T) {
	if testing.Short() {
		t.Skip("searches for up to 40s")
	}
	b := backend(t)
	out := searchBounded(t, "q152877-paris.csv", Options{Budget: 40 * time.Second, Seeds: 2, Backend: b, Name: "q152877-paris"})
	if !out.Reproduced || out.Mode != "sp0" || out.Score < Threshold || out.HitRate < 0.5 || !out.Verified {
		t.Fatalf("reproduced %v mode %q score %.3f hit rate %.2f verified %v", out.Reproduced, out.Mode, out.Score, out.HitRate, out.Verified)
	}
	if out.ModeScores["sp2"] >= Threshold {
		t.Errorf("an sp2 run matched a Q152877 log: %.3f", out.ModeScores["sp2"])
	}
	if out.Tried < 3 || len(out.Trials) == 0 {
		t.Errorf("tried %d", out.Tried)
	}

	dir := t.TempDir()
	if err := out.Write(dir, "testdata/q152877-paris.csv"); err != nil {
		t.Fatal(err)
	}
	// repro.yaml loads and passes a fresh run.
	sc, err := scenario.Load(filepath.Join(dir, FileScenario))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Defaults.Mode != "sp0" || len(sc.Expect.Events) == 0 || len(sc.Expect.Leaked) == 0 {
		t.Errorf("repro.yaml: mode %s, %d event rows, %d leak rows", sc.Defaults.Mode, len(sc.Expect.Events), len(sc.Expect.Leaked))
	}
	res, err := harness.Run(context.Background(), sc, harness.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Verdict != harness.Passed {
		t.Errorf("repro.yaml: %s %+v", res.Summary.Verdict, res.Summary.Checks)
	}
	// summary.json has the contract's keys.
	data, err := os.ReadFile(filepath.Join(dir, FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"reproduced", "score", "mode", "hit_rate", "candidates_tried", "seconds", "best", "final", "customer"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary.json lacks %q", k)
		}
	}
	if sum["reproduced"] != true || sum["mode"] != "sp0" {
		t.Errorf("summary.json: reproduced %v mode %v", sum["reproduced"], sum["mode"])
	}
	spec, err := os.ReadFile(filepath.Join(dir, FileSpec))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"package regression_test", "suitekit.Run(", "suitekit.HaveEmitted(eventlog.IDConnRefused).From(\"B\")", "NotTo(suitekit.HaveNoLeakedKCBs().At(\"B\")"} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("repro_test.go lacks %q", want)
		}
	}
}

func TestSearchOutageDoesNotBlameSP0(t *testing.T) {
	if testing.Short() {
		t.Skip("searches for up to 25s")
	}
	out := searchBounded(t, "outage.csv", Options{Budget: 25 * time.Second, Seeds: 2, Backend: backend(t)})
	if out.Mode == "sp0" {
		t.Fatalf("a plain outage was blamed on the sp0 defect (scores %v)", out.ModeScores)
	}
	if !out.Reproduced || out.Mode != "either" {
		t.Errorf("reproduced %v mode %q, want an outage any build logs", out.Reproduced, out.Mode)
	}
	if out.Final.Leaked != 0 || out.Final.Plan.Family != FamilyRefuse {
		t.Errorf("final %s leaked %d", out.Final.Plan, out.Final.Leaked)
	}
}

// A budget too small for one run and the verification launches nothing.
func TestSearchBudgetTooSmall(t *testing.T) {
	t0 := time.Now()
	out, err := Search(context.Background(), sigOf(t, "outage.csv"), Options{Budget: 2 * time.Second, Backend: backend(t)})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(t0) > 2*time.Second || out.Tried != 0 || out.Reproduced {
		t.Errorf("took %s, tried %d, reproduced %v", time.Since(t0), out.Tried, out.Reproduced)
	}
	if _, err := Search(context.Background(), NewSignature(nil), Options{Budget: time.Second}); err == nil {
		t.Error("searching for an empty log did not fail")
	}
}

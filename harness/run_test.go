package harness

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds a blocking step so that a bug fails the test instead of
// hanging it; it is never a guess at how long something takes.
const failAfter = 60 * time.Second

// healthyYAML is two sp2 MTAs on a healthy link; %s is the expect block.
const healthyYAML = `version: 1
name: healthy
seed: 7
defaults:
  mode: sp2
  kcbs: 4
mtas:
  - name: A
  - name: B
links:
  - {from: A, to: B}
traffic:
  - {from: A, to: B, messages: 20, size: 512B, rate: 200/s, start: 0s}
%s
expect:
%s
duration: 40s
`

func loadScenario(t *testing.T, faultsBlock, expect string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(healthyYAML, faultsBlock, expect)
	sc, err := scenario.LoadBytes("healthy.yaml", []byte(src))
	if err != nil {
		t.Fatalf("scenario: %v\n%s", err, src)
	}
	return sc
}

const healthyExpect = `  events:
    - {mta: "*", id: 1277, max: 0}
  leaked:
    - {mta: "*", max: 0}
  recovery: {within: 30s, delivered: all, kcbs: baseline}`

// noTOXIPROXY makes Run use an embedded server whatever the environment says.
func noTOXIPROXY(t *testing.T) { t.Setenv(toxi.EnvURL, "") }

func TestRunHealthyWritesBundle(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	dir := filepath.Join(t.TempDir(), "bundle")
	var tl testkit.Buffer
	res, err := Run(testkit.Context(t), sc, Options{Out: dir, Timeline: &tl})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary.Verdict != Passed {
		t.Fatalf("verdict %s: %+v", res.Summary.Verdict, res.Summary.Checks)
	}
	if res.Dir != dir {
		t.Errorf("Dir = %q, want %q", res.Dir, dir)
	}
	if a, b := res.Summary.MTAs["A"], res.Summary.MTAs["B"]; a.Submitted != 20 || b.Delivered != 20 || b.Duplicates != 0 {
		t.Errorf("A %+v, B %+v", a, b)
	}
	if !strings.Contains(tl.String(), "verdict PASSED") {
		t.Errorf("timeline has no verdict line:\n%s", tl.String())
	}

	// scenario.yaml is the file as run and loads again.
	raw, err := os.ReadFile(filepath.Join(dir, FileScenario))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, sc.Raw) {
		t.Errorf("scenario.yaml differs from the scenario as run")
	}
	if _, err := scenario.LoadBytes(FileScenario, raw); err != nil {
		t.Errorf("scenario.yaml does not load: %v", err)
	}

	var sched faults.Schedule
	readJSON(t, filepath.Join(dir, FileSchedule), &sched)
	if sched.Scenario != "healthy" || sched.Seed != 7 || len(sched.Toggles) != 0 {
		t.Errorf("schedule.json = %+v", sched)
	}

	var sum Summary
	readJSON(t, filepath.Join(dir, FileSummary), &sum)
	if sum.Verdict != Passed || sum.Scenario != "healthy" || sum.Seed != 7 || len(sum.Checks) == 0 {
		t.Errorf("summary.json = %+v", sum)
	}
	if sum.MTAs["B"] == nil || sum.MTAs["B"].Delivered != 20 || sum.RecoveryS == nil {
		t.Errorf("summary.json mtas/recovery = %+v %v", sum.MTAs, sum.RecoveryS)
	}

	ledger := readJSONL[LedgerEntry](t, filepath.Join(dir, FileLedger))
	if len(ledger) != 0 {
		t.Errorf("ledger of a run without faults: %+v", ledger)
	}
	readJSONL[map[string]any](t, filepath.Join(dir, FileEvents))

	dels := readJSONL[DeliveryRecord](t, filepath.Join(dir, FileDeliveries))
	if len(dels) != 20 {
		t.Errorf("deliveries.jsonl has %d lines, want 20", len(dels))
	}
	ids := map[string]bool{}
	for _, d := range dels {
		if d.To != "B" || d.From != "A" || d.Size != 512 || d.T < 0 {
			t.Errorf("delivery %+v", d)
		}
		ids[d.ID] = true
	}
	if len(ids) != 20 {
		t.Errorf("%d distinct ids delivered", len(ids))
	}

	samples := readJSONL[Sample](t, filepath.Join(dir, FileSamples))
	if len(samples) < 2 {
		t.Fatalf("samples.jsonl has %d lines", len(samples))
	}
	last := map[string]Sample{}
	for _, s := range samples {
		if s.MTA != "A" && s.MTA != "B" {
			t.Errorf("sample of unknown MTA %+v", s)
		}
		last[s.MTA] = s
	}
	for name, s := range last {
		if !s.Running || s.Leaked != 0 || s.Busy != 0 || len(s.States) != 4 {
			t.Errorf("last sample of %s = %+v", name, s)
		}
	}
}

func TestRunFailsImpossibleExpectation(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", `  events:
    - {mta: B, id: 1277, min: 1}
  recovery: {within: 30s, delivered: all}`)
	res, err := Run(testkit.Context(t), sc, Options{})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary.Verdict != Failed {
		t.Fatalf("verdict %s, want failed: %+v", res.Summary.Verdict, res.Summary.Checks)
	}
	if c := check(t, res.Summary, "events B 1277"); c.Verdict != Failed {
		t.Errorf("events B 1277 = %+v", c)
	}
	if c := check(t, res.Summary, "recovery"); c.Verdict != Passed {
		t.Errorf("recovery = %+v", c)
	}
	if res.Dir != "" {
		t.Errorf("Dir = %q without Out", res.Dir)
	}
}

// TestRunRefuseOwnBackend runs a short outage on a caller's backend: the
// ledger records the toggles, every message arrives, the seed override is
// used, and the run leaves no proxy behind on a backend it does not own.
func TestRunRefuseOwnBackend(t *testing.T) {
	ctx := testkit.Context(t)
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Close(cctx); err != nil {
			t.Error(err)
		}
	})
	sc := loadScenario(t, "faults:\n  - {at: 50ms, until: 300ms, link: A->B, type: refuse}",
		"  recovery: {within: 30s, delivered: all, kcbs: baseline}")
	seed := int64(99)
	res, err := Run(ctx, sc, Options{Backend: b, Seed: &seed})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary.Seed != 99 || res.Schedule.Seed != 99 {
		t.Errorf("seed override: summary %d, schedule %d", res.Summary.Seed, res.Schedule.Seed)
	}
	if sc.Seed != 7 {
		t.Errorf("Run changed the caller's scenario seed to %d", sc.Seed)
	}
	phase := func(ph, action string) LedgerEntry {
		t.Helper()
		var found []LedgerEntry
		for _, l := range res.Ledger {
			if l.Phase == ph && l.Action == action {
				found = append(found, l)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d %s %s entries in the ledger: %+v", len(found), ph, action, res.Ledger)
		}
		return found[0]
	}
	if l := phase("applied", faults.ActDisable); l.Link != "A->B" || l.Type != "refuse" || l.Planned != 0.05 || l.At < l.Planned || l.Error != "" {
		t.Errorf("applied disable = %+v", l)
	}
	if l := phase("healed", faults.ActEnable); l.Link != "A->B" || l.Planned != 0.3 || l.At < l.Planned || l.Error != "" {
		t.Errorf("healed enable = %+v", l)
	}
	for _, l := range res.Ledger {
		if l.Phase == "failed" {
			t.Errorf("a toggle failed: %+v", l)
		}
	}
	if c := check(t, res.Summary, "recovery"); c.Verdict != Passed {
		t.Errorf("recovery = %+v", c)
	}
	if res.Summary.AnchorS != 0.3 {
		t.Errorf("anchor_s = %v", res.Summary.AnchorS)
	}
	ps, err := b.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 0 {
		t.Errorf("proxies left behind: %+v", ps)
	}
}

func TestRunUnreachableToxiproxy(t *testing.T) {
	sc := loadScenario(t, "", healthyExpect)
	res, err := Run(testkit.Context(t), sc, Options{ToxiproxyURL: "http://127.0.0.1:1"})
	var infra *InfraError
	if !errors.As(err, &infra) {
		t.Fatalf("Run = %v, %v; want an *InfraError", res, err)
	}
	if res != nil {
		t.Errorf("result %+v with an infrastructure error", res)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q does not name the server", err)
	}
}

// cancelWriter cancels a run when the timeline reports its first fault.
type cancelWriter struct {
	once   sync.Once
	cancel context.CancelFunc
}

func (w *cancelWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("fault ")) {
		w.once.Do(w.cancel)
	}
	return len(p), nil
}

func TestRunCancel(t *testing.T) {
	noTOXIPROXY(t)
	// A long outage and a duration far beyond the test's bound: only the
	// cancel can end this run in time.
	src := strings.Replace(fmt.Sprintf(healthyYAML, "faults:\n  - {at: 100ms, until: 200s, link: A->B, type: refuse}",
		healthyExpect), "duration: 40s", "duration: 300s", 1)
	sc, err := scenario.LoadBytes("cancel.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Run(ctx, sc, Options{Out: filepath.Join(t.TempDir(), "b"), Timeline: &cancelWriter{cancel: cancel}})
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		if o.err == nil {
			t.Fatalf("cancelled run returned no error: %+v", o.res.Summary)
		}
		if !errors.Is(o.err, context.Canceled) {
			t.Errorf("error %v is not context.Canceled", o.err)
		}
		var infra *InfraError
		if !errors.As(o.err, &infra) {
			t.Errorf("error %T is not an *InfraError", o.err)
		}
	case <-time.After(failAfter):
		t.Fatal("Run did not return after its context was cancelled")
	}
	// goleak in TestMain checks that nothing was left running.
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
}

func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", filepath.Base(path), n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunVerdictsNeedEvidence runs, for real, the scenarios that once
// passed without evidence: a link refused for the whole run (nothing
// delivered, no recovery expected), an MTA stopped before its traffic
// (nothing submitted), and cut_at on CR under sp0 with no restart (the
// second batch stalls). Each must fail or be unknown, with its counts.
func TestRunVerdictsNeedEvidence(t *testing.T) {
	noTOXIPROXY(t)
	head := `version: 1
name: evidence
seed: 11
defaults: {mode: %s, kcbs: 4, timers: {open: 300ms, open_interval: 100ms, transfer: 500ms, reassembly: 300ms, lifetime: 300ms, disconnect: 200ms}}
mtas: [{name: A}, {name: B}]
links: [{from: A, to: B}]
`
	cases := []struct {
		name, mode, body string
		verdict          string
		check            func(t *testing.T, s Summary)
	}{
		{"refused whole run", "sp2", `traffic: [{from: A, to: B, messages: 20, size: 512B, rate: 100/s, start: 0s}]
faults: [{at: 0s, link: A->B, type: refuse}]
expect: {events: [{mta: A, id: 1004, min: 1}]}
duration: 1500ms
`, Failed, func(t *testing.T, s Summary) {
			if c := check(t, s, "delivery"); c.Verdict != Failed || !strings.Contains(c.Detail, "20 of 20 messages undelivered") {
				t.Errorf("delivery = %+v", c)
			}
			if c := check(t, s, "faults"); c.Verdict != Passed {
				t.Errorf("faults = %+v (the refusal should be verified on the probe twin)", c)
			}
		}},
		{"stopped before its traffic", "sp2", `traffic: [{from: A, to: B, messages: 20, size: 512B, rate: 100/s, start: 0s}]
actions: [{at: 0s, stop: A}]
expect: {recovery: {within: 1s, delivered: all, kcbs: baseline}}
duration: 3s
`, Unknown, func(t *testing.T, s Summary) {
			if c := check(t, s, "delivery"); c.Verdict != Unknown || !strings.Contains(c.Detail, "20 refused by a stopped MTA") {
				t.Errorf("delivery = %+v", c)
			}
			if c := check(t, s, "recovery"); c.Verdict != Unknown {
				t.Errorf("recovery = %+v", c)
			}
			if s.MTAs["A"].Refused != 20 || s.MTAs["A"].Submitted != 0 {
				t.Errorf("A: %+v, want 20 refused, 0 submitted", s.MTAs["A"])
			}
		}},
		{"cut_at CR under sp0 without restart", "sp0", `traffic:
  - {from: A, to: B, messages: 10, size: 512B, rate: 100/s, start: 0s}
  - {from: A, to: B, messages: 20, size: 512B, rate: 100/s, start: 1s}
faults: [{at: 800ms, until: 1450ms, link: A->B, type: cut_at, unit: CR, index: 1, stream: up}]
expect: {events: [{mta: A, id: 1004, min: 1}]}
duration: 3s
`, Failed, func(t *testing.T, s Summary) {
			p := s.Pairs[0]
			if p.Submitted != 30 || p.Undelivered == 0 || p.Delivered+p.Undelivered != 30 {
				t.Errorf("pair %+v: want 30 submitted, some undelivered", p)
			}
			if c := check(t, s, "delivery"); c.Verdict != Failed || !strings.Contains(c.Detail, fmt.Sprintf("%d of 30 messages undelivered", p.Undelivered)) {
				t.Errorf("delivery = %+v", c)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenario.LoadBytes("evidence.yaml", []byte(fmt.Sprintf(head, tc.mode)+tc.body))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(testkit.Context(t), sc, Options{})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			s := res.Summary
			if s.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s: %+v", s.Verdict, tc.verdict, s.Checks)
			}
			if len(s.Pairs) != 1 {
				t.Fatalf("pairs = %+v, want A->B", s.Pairs)
			}
			tc.check(t, s)
		})
	}
}

package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
)

// smallYAML is a short real run: a refuse on A->B while traffic flows, then
// a restart of B. A logs 1004 while the link refuses.
const smallYAML = `version: 1
name: small-check
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
  - {from: A, to: B, messages: 40, size: 512B, rate: 100/s, start: 0s}
faults:
  - {at: 100ms, until: 400ms, link: A->B, type: refuse}
actions:
  - {at: 500ms, restart: B}
expect:
  events:
    - {mta: A, id: 1004, min: 1}
  leaked:
    - {mta: "*", max: 0}
  recovery: {within: 30s, delivered: all, kcbs: baseline}
duration: 20s
`

// runSmallBundle runs smallYAML into a temporary bundle.
func runSmallBundle(t *testing.T) (string, *scenario.Scenario, *Result) {
	t.Helper()
	noTOXIPROXY(t)
	sc, err := scenario.LoadBytes("small-check.yaml", []byte(smallYAML))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := Run(testkit.Context(t), sc, Options{Out: dir})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary.MTAs["A"].Events["1004"] == 0 {
		t.Fatalf("the run logged no 1004 at A: %+v", res.Summary)
	}
	return dir, sc, res
}

func TestBundleHasCheckFiles(t *testing.T) {
	dir, _, res := runSmallBundle(t)
	for _, name := range []string{FileSubmitted, FileJUnit, FileReport} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	subs, err := readBundleLines[SubmittedRecord](filepath.Join(dir, FileSubmitted))
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != len(res.submitted) || len(subs) != res.Summary.MTAs["A"].Submitted {
		t.Errorf("submitted.jsonl has %d lines, the run submitted %d", len(subs), len(res.submitted))
	}
	for i := 1; i < len(subs); i++ {
		if subs[i].v.At < subs[i-1].v.At {
			t.Errorf("submitted.jsonl not in time order at line %d", subs[i].line)
		}
	}
}

func TestJudgeBundleAgrees(t *testing.T) {
	dir, _, res := runSmallBundle(t)
	before, err := os.ReadFile(filepath.Join(dir, FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, FileReport))
	os.Remove(filepath.Join(dir, FileJUnit))
	again, err := Judge(dir)
	if err != nil {
		t.Fatalf("Judge: %v", err)
	}
	if again.Summary.Verdict != res.Summary.Verdict || !reflect.DeepEqual(again.Summary.Checks, res.Summary.Checks) {
		t.Errorf("re-judged %s %+v\nrun gave %s %+v", again.Summary.Verdict, again.Summary.Checks, res.Summary.Verdict, res.Summary.Checks)
	}
	// Everything summary.json says is recovered from the files.
	after, err := os.ReadFile(filepath.Join(dir, FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	var a, b Summary
	if err := json.Unmarshal(before, &b); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(after, &a); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("summary.json changed on re-judging:\nbefore %s\nafter  %s", before, after)
	}
	for _, name := range []string{FileJUnit, FileReport} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("Judge did not rewrite %s: %v", name, err)
		}
	}
}

// editLines rewrites a bundle file line by line; keep returns the new line
// or false to drop it.
func editLines(t *testing.T, path string, keep func(line string) (string, bool)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l == "" {
			continue
		}
		if nl, ok := keep(l); ok {
			out.WriteString(nl)
		}
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestJudgeBundleDroppedEventFails(t *testing.T) {
	dir, _, res := runSmallBundle(t)
	if res.Summary.Verdict != Passed {
		t.Fatalf("the run itself: %s %+v", res.Summary.Verdict, res.Summary.Checks)
	}
	editLines(t, filepath.Join(dir, FileEvents), func(l string) (string, bool) {
		return l, !(strings.Contains(l, `"mta":"A"`) && strings.Contains(l, `"id":1004,`))
	})
	again, err := Judge(dir)
	if err != nil {
		t.Fatalf("Judge: %v", err)
	}
	if again.Summary.Verdict != Failed {
		t.Errorf("verdict %s after dropping A's 1004 events: %+v", again.Summary.Verdict, again.Summary.Checks)
	}
	if c := check(t, again.Summary, "events A 1004"); c.Verdict != Failed || !strings.Contains(c.Detail, "A: 0×1004") {
		t.Errorf("events A 1004 = %+v", c)
	}
	var s Summary
	data, _ := os.ReadFile(filepath.Join(dir, FileSummary))
	if err := json.Unmarshal(data, &s); err != nil || s.Verdict != Failed {
		t.Errorf("summary.json not rewritten: %v %s", err, s.Verdict)
	}
	junit, _ := os.ReadFile(filepath.Join(dir, FileJUnit))
	if !strings.Contains(string(junit), `failures="1"`) || !strings.Contains(string(junit), "<failure") {
		t.Errorf("junit.xml not rewritten:\n%s", junit)
	}
	report, _ := os.ReadFile(filepath.Join(dir, FileReport))
	if !strings.Contains(string(report), `class="verdict v-failed"`) {
		t.Errorf("report.html not rewritten")
	}
}

func TestJudgeBundleBadInput(t *testing.T) {
	dir, _, _ := runSmallBundle(t)
	// Truncate the third line of events.jsonl.
	n := 0
	editLines(t, filepath.Join(dir, FileEvents), func(l string) (string, bool) {
		if n++; n == 3 {
			return l[:len(l)/2] + "\n", true
		}
		return l, true
	})
	_, err := Judge(dir)
	var in *InputError
	if !errors.As(err, &in) {
		t.Fatalf("Judge: %v, want an InputError", err)
	}
	if want := filepath.Join(dir, FileEvents) + ":3:"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name %s", err, want)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, FileSummary)); !bytes.Contains(data, []byte(`"verdict": "passed"`)) {
		t.Errorf("a failed Judge rewrote summary.json")
	}

	cases := []struct {
		name, file, want string
		edit             func(path string)
	}{
		{"missing submitted", FileSubmitted, FileSubmitted + ": missing", func(p string) { os.Remove(p) }},
		{"bad schedule", FileSchedule, FileSchedule + ": byte ", func(p string) { os.WriteFile(p, []byte(`{"toggles": [}`), 0o644) }},
		{"bad scenario", FileScenario, FileScenario + ":", func(p string) { os.WriteFile(p, []byte("version: 1\nname: [\n"), 0o644) }},
		{"unknown MTA", FileSamples, FileSamples + ":1: sample of \"Z\"", func(p string) {
			os.WriteFile(p, []byte(`{"t":0.1,"mta":"Z","running":true}`+"\n"), 0o644)
		}},
		{"bad delivery", FileDeliveries, FileDeliveries + ":2:", func(p string) {
			os.WriteFile(p, []byte("{\"id\":\"x\",\"to\":\"B\",\"t\":1}\n{\"id\":\n"), 0o644)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := t.TempDir()
			for _, name := range []string{FileScenario, FileSchedule, FileSubmitted, FileDeliveries, FileSamples, FileLedger, FileSummary} {
				data, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(filepath.Join(d, name), data, 0o644)
			}
			os.WriteFile(filepath.Join(d, FileEvents), nil, 0o644)
			c.edit(filepath.Join(d, c.file))
			_, err := Judge(d)
			if !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Judge: %v, want an InputError containing %q", err, c.want)
			}
		})
	}
	if _, err := Judge(filepath.Join(dir, "nope")); !errors.As(err, &in) {
		t.Errorf("Judge of a missing folder: %v", err)
	}
}

package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/report"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// realRunYAML is a short run with a fault, an action and a logged event.
const realRunYAML = `version: 1
name: report-real-run
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

// TestReportRealRun checks the report.html that harness.Run writes into a
// real run's bundle.
func TestReportRealRun(t *testing.T) {
	t.Setenv(toxi.EnvURL, "") // an embedded Toxiproxy
	sc, err := scenario.LoadBytes("report-real-run.yaml", []byte(realRunYAML))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := harness.Run(testkit.Context(t), sc, harness.Options{Out: dir})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Summary.MTAs["A"].Events["1004"] == 0 {
		t.Fatalf("the run logged no 1004 at A: %+v", res.Summary)
	}
	data, err := os.ReadFile(filepath.Join(dir, harness.FileReport))
	if err != nil {
		t.Fatal(err)
	}
	report.CheckReportHTML(t, string(data), sc, res.Summary)
	if !strings.Contains(string(data), "1004 association error (") {
		t.Errorf("report lacks the events legend")
	}
}

// readEvents reads a bundle's events.jsonl; an error names path:line.
func readEvents(path string) ([]eventlog.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []eventlog.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r eventlog.Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

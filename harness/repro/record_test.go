package repro

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// envRecord, set to 1, makes TestRecordLabRuns re-record testdata/runs/lab.
const envRecord = "MTASTORM_RECORD_RUNS"

// labRunFile names the recorded run of a family under a build.
func labRunFile(family, mode string) string {
	return filepath.Join("runs", "lab", strings.NewReplacer("+", "-").Replace(family)+"-"+mode+".jsonl")
}

// TestRecordLabRuns records one run of every family under each build, with
// the companion events on (testdata/runs/lab), for the out-of-sample and
// leave-one-out tests of the score. A log without companions is compared
// with a recorded run stripped of them, as the search runs it without.
// MTASTORM_RECORD_RUNS=1 records every family under each of its builds
// (FamilyBuilds); a comma-separated list of families records, for those,
// only the builds not recorded yet, keeping every recorded run.
//
//	MTASTORM_RECORD_RUNS=1 go test ./harness/repro -run TestRecordLabRuns
func TestRecordLabRuns(t *testing.T) {
	want := os.Getenv(envRecord)
	if want == "" {
		t.Skip("set " + envRecord + "=1 (or a list of families) to re-record testdata/runs/lab")
	}
	ctx := context.Background()
	b := backend(t)
	var index []labRunEntry
	if want != "1" {
		data, err := os.ReadFile(filepath.Join("testdata", labIndex))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &index); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range Families {
		if want != "1" && !slices.Contains(strings.Split(want, ","), f) {
			continue
		}
		for _, mode := range FamilyBuilds(f) {
			if slices.ContainsFunc(index, func(e labRunEntry) bool { return e.Family == f && e.Mode == mode }) {
				continue
			}
			p := grid(f)[0].WithMode(mode)
			p.KCBs, p.Seed, p.Extended = 4, 1, true
			sc, err := p.Scenario("record")
			if err != nil {
				t.Fatal(err)
			}
			res, err := harness.Run(ctx, sc, harness.Options{Backend: b})
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			path := filepath.Join("testdata", labRunFile(f, mode))
			fh, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := eventlog.WriteJSONL(fh, res.Events); err != nil {
				t.Fatal(err)
			}
			if err := fh.Close(); err != nil {
				t.Fatal(err)
			}
			s := NewSignature(res.Events)
			index = append(index, labRunEntry{File: labRunFile(f, mode), Family: f, Mode: mode, Plan: p.String(), Leaked: maxLeaked(res)})
			t.Logf("%-50s ids %v leak %v (lab: %d leaked)", p, s.Order, s.Leak, maxLeaked(res))
		}
	}
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", labIndex), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// labIndex lists the recorded lab runs with what their events cannot say:
// the family, the build and the most KCBs leaked at once.
const labIndex = "runs/lab/index.json"

type labRunEntry struct {
	File   string `json:"file"`
	Family string `json:"family"`
	Mode   string `json:"mode"`
	Plan   string `json:"plan"`
	Leaked int    `json:"kcbs_leaked"`
}

func maxLeaked(res *harness.Result) int {
	n := 0
	for _, m := range res.Summary.MTAs {
		n = max(n, m.KCBsLeaked)
	}
	return n
}

package harness_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// scenarioFiles returns the *.yaml files of dir (relative to the module root).
func scenarioFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no scenario files in %s", dir)
	}
	return files
}

// TestShippedScenariosLoad loads every shipped scenario file: the loader
// validates keys, values, links and fault parameters. They are not run here
// (the Ginkgo suites run them).
func TestShippedScenariosLoad(t *testing.T) {
	for _, dir := range []string{"scenarios", "scenarios/faults"} {
		for _, f := range scenarioFiles(t, dir) {
			t.Run(strings.TrimPrefix(f, "../"), func(t *testing.T) {
				sc, err := scenario.Load(f)
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(sc.MTAs) == 0 {
					t.Fatalf("%s: no MTAs", f)
				}
			})
		}
	}
}

// TestFaultScenariosCoverEveryType checks that scenarios/faults has a file
// per fault type, named after it, that uses that type, and that every file
// there runs both builds side by side.
func TestFaultScenariosCoverEveryType(t *testing.T) {
	byName := map[string]*scenario.Scenario{}
	for _, f := range scenarioFiles(t, "scenarios/faults") {
		sc, err := scenario.Load(f)
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		byName[strings.TrimSuffix(filepath.Base(f), ".yaml")] = sc
		modes := map[string]bool{}
		for _, m := range sc.MTAs {
			modes[m.Mode] = true
		}
		if !modes["sp0"] || !modes["sp2"] {
			t.Errorf("%s: runs modes %v, want both sp0 and sp2", f, modes)
		}
		if sc.Duration > 8e9 {
			t.Errorf("%s: duration %s, want at most 8s", f, sc.Duration)
		}
	}
	for _, typ := range faults.Types() {
		sc, ok := byName[typ]
		if !ok {
			t.Errorf("no scenarios/faults/%s.yaml", typ)
			continue
		}
		if !slices.ContainsFunc(sc.Faults, func(f scenario.Fault) bool { return f.Type == typ }) {
			t.Errorf("scenarios/faults/%s.yaml has no %s fault", typ, typ)
		}
	}
}

// TestTruncateInsideBind checks that scenarios/faults/truncate.yaml cuts
// each connection one byte before the end of its BIND: bytes = len(CR) +
// len(BIND) − 1 of the link's first connection, as the kernel encodes them
// (CR: calling TSAP "<from>.1", called TSAP "<to>", TPDU size 2^13; BIND: the
// initiator's DN, an association id, the window).
func TestTruncateInsideBind(t *testing.T) {
	path := filepath.Join("..", "scenarios", "faults", "truncate.yaml")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the shipped truncate scenario: %v", err)
	}
	sc, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range sc.Faults {
		if f.Type != "truncate" {
			continue
		}
		n++
		from, _ := sc.MTA(f.From)
		want, err := harness.CutInsideBind(from, f.To)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Size("bytes"); got != want {
			t.Errorf("truncate on %s: bytes %d, want len(CR) + len(BIND) - 1 = %d", f.Link, got, want)
		}
		if f.Stream() != "up" {
			t.Errorf("truncate on %s: stream %s, want up (CR and BIND travel up)", f.Link, f.Stream())
		}
	}
	if n == 0 {
		t.Fatal("truncate.yaml has no truncate fault")
	}
}

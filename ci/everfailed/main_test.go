package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"
)

// writeReport writes a Ginkgo JSON report of one suite whose specs have
// the given states (by spec text) under root/rel.
func writeReport(t *testing.T, root, rel string, states map[string]types.SpecState) {
	t.Helper()
	r := types.Report{SuitePath: "/src/suites/storm", SuiteDescription: "storm", SuiteSucceeded: true}
	for text, st := range states {
		sr := types.SpecReport{LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: st}
		if st.Is(types.SpecStateFailureStates) {
			sr.Failure = types.Failure{Message: text + " broke"}
			r.SuiteSucceeded = false
		}
		r.SpecReports = append(r.SpecReports, sr)
	}
	data, err := json.Marshal([]types.Report{r})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shards lays out four shard folders as the merge job downloads them (one
// artifact folder per shard); seed 3's storm fails in shard 2.
func shards(t *testing.T) string {
	root := t.TempDir()
	seeds := []string{"seed 1", "seed 2", "seed 3", "seed 152877"}
	for i := range 4 {
		states := map[string]types.SpecState{}
		for k, s := range seeds {
			switch {
			case k%4 != i:
				states[s] = types.SpecStateSkipped
			case s == "seed 3":
				states[s] = types.SpecStateFailed
			default:
				states[s] = types.SpecStatePassed
			}
		}
		dir := filepath.Join(root, "nightly-shard-"+string(rune('0'+i)), "nightly", "shard-"+string(rune('0'+i))+"-of-4")
		writeReport(t, dir, "soak.json", states)
		writeReport(t, dir, "default-"+string(rune('1'+i))+"/ginkgo.json", map[string]types.SpecState{"default spec": types.SpecStatePassed})
		if err := os.WriteFile(filepath.Join(dir, "expected"), []byte("soak.json\ndefault-"+string(rune('1'+i))+"/ginkgo.json\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func runIt(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(args, &out, &errb)
	return code, out.String() + errb.String()
}

func TestShardsMergedFailureNamesShard(t *testing.T) {
	root := shards(t)
	code, out := runIt(t, root)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (seed 3 failed):\n%s", code, out)
	}
	for _, want := range []string{
		"FAILED 1 of 1 runs: seed 3",
		"in shard 2/4 (",
		"seed 3 broke",
		"5 specs, 8 reports, 4 of 4 shards, 1 ever failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "MISSING") {
		t.Errorf("nothing is missing:\n%s", out)
	}
}

func TestShardsAllPassed(t *testing.T) {
	root := shards(t)
	writeReport(t, filepath.Join(root, "nightly-shard-2", "nightly", "shard-2-of-4"), "soak.json",
		map[string]types.SpecState{"seed 3": types.SpecStatePassed, "seed 1": types.SpecStateSkipped})
	if code, out := runIt(t, root); code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
}

func TestShardsMissingShard(t *testing.T) {
	root := shards(t)
	if err := os.RemoveAll(filepath.Join(root, "nightly-shard-1")); err != nil {
		t.Fatal(err)
	}
	code, out := runIt(t, root)
	if code != 1 || !strings.Contains(out, "MISSING shard 1/4: no shard-1-of-4 folder") {
		t.Fatalf("exit %d, want 1 naming shard 1/4:\n%s", code, out)
	}
}

func TestShardsMissingReport(t *testing.T) {
	root := shards(t)
	dir := filepath.Join(root, "nightly-shard-3", "nightly", "shard-3-of-4")
	if err := os.Remove(filepath.Join(dir, "default-4", "ginkgo.json")); err != nil {
		t.Fatal(err)
	}
	code, out := runIt(t, root)
	if code != 1 || !strings.Contains(out, "MISSING shard 3/4: report "+filepath.Join(dir, "default-4", "ginkgo.json")) {
		t.Fatalf("exit %d, want 1 naming shard 3/4's report:\n%s", code, out)
	}
}

func TestShardsDuplicateOrMixed(t *testing.T) {
	root := shards(t)
	writeReport(t, filepath.Join(root, "again", "shard-0-of-4"), "soak.json", map[string]types.SpecState{"seed 1": types.SpecStatePassed})
	if code, out := runIt(t, root); code != 2 || !strings.Contains(out, "shard 0/4: 2 folders") {
		t.Fatalf("exit %d, want 2 naming the duplicate shard:\n%s", code, out)
	}
	other := t.TempDir()
	writeReport(t, filepath.Join(other, "shard-0-of-3"), "soak.json", map[string]types.SpecState{"seed 1": types.SpecStatePassed})
	if code, out := runIt(t, filepath.Join(root, "nightly-shard-1"), other); code != 2 || !strings.Contains(out, "different counts") {
		t.Fatalf("exit %d, want 2 on shards of 4 and of 3:\n%s", code, out)
	}
	if code, out := runIt(t, t.TempDir()); code != 2 || !strings.Contains(out, "no shard-I-of-N folder") {
		t.Fatalf("exit %d, want 2 on a folder without shards:\n%s", code, out)
	}
}

// Report files (ci/nightly.sh's own check of one shard) are read as given;
// a failure still names the shard from the path, and no completeness is
// asked of them.
func TestFilesOfOneShard(t *testing.T) {
	root := shards(t)
	file := filepath.Join(root, "nightly-shard-2", "nightly", "shard-2-of-4", "soak.json")
	code, out := runIt(t, file)
	if code != 1 || !strings.Contains(out, "in shard 2/4 (") || strings.Contains(out, "MISSING") {
		t.Fatalf("exit %d, want 1 naming shard 2/4 and nothing missing:\n%s", code, out)
	}
	if code, out := runIt(t, file, filepath.Join(root, "nightly-shard-1")); code != 2 || !strings.Contains(out, "not both") {
		t.Fatalf("exit %d, want 2 on files mixed with folders:\n%s", code, out)
	}
}

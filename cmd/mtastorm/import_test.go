package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/repro"
	"github.com/mtastorm/mtastorm/harness/repro/loggen"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

func sampleLog(name string) string {
	return filepath.Join("..", "..", "harness", "repro", "testdata", name)
}

func TestImportText(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"q152877-paris.csv", "1004 → 1008 → 1277 → 1198"},
		{"q152877-boston.txt", "(wevtutil)"},
		{"q152877-lab.jsonl", "1277@1 ×37"},
		{"outage.csv", "leak indicator:  no"},
		{"mixed.csv", "leak indicator:  yes"},
		{"oos/rpc-madrid.txt", "not modelled:    9318 ×25"},
		{"oos/shortage-milan.csv", "1004 → 9156"},
	} {
		code, out, errb := cli(t, "import", sampleLog(c.file))
		if code != exitPassed || !strings.Contains(out, c.want) || errb != "" {
			t.Errorf("import %s: exit %d, stdout lacks %q?\n%s%s", c.file, code, c.want, out, errb)
		}
	}
}

func TestImportJSON(t *testing.T) {
	code, out, errb := cli(t, "import", "--json", sampleLog("q152877-boston.txt"))
	if code != exitPassed {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var sig repro.Signature
	if err := json.Unmarshal([]byte(out), &sig); err != nil {
		t.Fatalf("stdout is not a signature: %v\n%s", err, out)
	}
	if sig.Events != 37 || !sig.Leak || len(sig.Order) != 3 || sig.Order[0] != 1008 || sig.NotModelled == nil || len(sig.NotModelled) != 0 {
		t.Errorf("%+v", sig)
	}
	code, out, errb = cli(t, "import", "--json", sampleLog("oos/rpc-madrid.txt"))
	if code != exitPassed {
		t.Fatalf("exit %d: %s", code, errb)
	}
	sig = repro.Signature{}
	if err := json.Unmarshal([]byte(out), &sig); err != nil || len(sig.NotModelled) != 1 || sig.NotModelled[0] != 9318 || sig.Count(9215) != 25 {
		t.Errorf("rpc-madrid: not_modelled %v, 9215 ×%d (%v)", sig.NotModelled, sig.Count(9215), err)
	}
}

func TestImportBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "Level,Date and Time,Source,Event ID,Task Category,Description\n"+
		"Warning,11/28/2026 9:00:00 PM,MSExchangeMTA,1004,X.400 Service,x\n"+
		"Warning,11/28/2026 9:00:00 PM,MSExchangeMTA,ten,X.400 Service,x\n")
	others := write("others.csv", "Level,Date and Time,Source,Event ID,Task Category,Description\nWarning,11/28/2026 9:00:00 PM,Tcpip,4199,None,x\n")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", bad}, bad + ":3:45: Event ID: \"ten\" is not an event ID"},
		{[]string{"import", write("x.log", "what is this\n")}, ":1: unknown format"},
		{[]string{"import", others}, "no MSExchangeMTA events"},
		{[]string{"import", filepath.Join(dir, "missing.csv")}, "no such file"},
		{[]string{"import"}, "want one event log"},
		{[]string{"import", "--nope", bad}, "flag provided but not defined"},
	} {
		code, out, errb := cli(t, c.args...)
		if code != exitUsage || !strings.Contains(errb, c.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", c.args, code, errb, c.want)
		}
	}
}

// genCustomerLog writes a loggen log of rows rows into t.TempDir().
func genCustomerLog(t *testing.T, rows int) (string, loggen.Stats) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "customer.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := loggen.Write(f, loggen.Options{Seed: 5, Events: rows, RestartEvery: rows / 6})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

// TestImportShowsEverything: the text names every MSExchangeMTA id with
// its count (not-modelled ones marked), the build from the banners,
// restarts, 9156's configured count, tuples and control blocks.
func TestImportShowsEverything(t *testing.T) {
	p, st := genCustomerLog(t, 5000)
	code, out, errb := cli(t, "import", p)
	if code != exitPassed || errb != "" {
		t.Fatalf("exit %d: %s", code, errb)
	}
	want := []string{
		fmt.Sprintf("signature: %d MSExchangeMTA events", st.MTAEvents()),
		`build:           5.5-sp2 (banner "Build 2448.4")`,
		fmt.Sprintf("restarts:        %d (9299 stopped → 9298 started)", st.Restarts),
		fmt.Sprintf("9156 configured count: 200 (×%d)", st.Counts[eventlog.IDNoControlBlocks]),
		"[2 20 1 8]×", "[0 20 2]×", "1277: 16 indexes (1..16), most named 1277@",
		"not modelled:    ",
	}
	for id, n := range st.Counts {
		line := fmt.Sprintf("  %-5d %6d ", id, n)
		if slices.Contains(loggen.NotModelled, id) {
			want = append(want, fmt.Sprintf("%d ×%d", id, n))
		}
		want = append(want, line)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	for _, c := range []struct{ file, want string }{
		{"oos/shortage-milan.csv", "9156 configured count: 20 (×30)"},
		{"runs/lab/refuse-5.5-sp4.jsonl", `build:           5.5-sp4 (banner "Build 2653.23")`},
		{"q152877-paris.csv", "build:           not named"},
	} {
		if code, out, _ := cli(t, "import", sampleLog(c.file)); code != exitPassed || !strings.Contains(out, c.want) {
			t.Errorf("import %s: exit %d, lacks %q:\n%s", c.file, code, c.want, out)
		}
	}
}

// TestImportProgress: a large file shows a progress bar on stderr only
// when stderr is a terminal; stdout is the same either way.
func TestImportProgress(t *testing.T) {
	p, _ := genCustomerLog(t, 34000) // over importProgressMin
	if fi, err := os.Stat(p); err != nil || fi.Size() < importProgressMin {
		t.Fatalf("generated log too small: %v %v", fi, err)
	}
	orig := importProgressOK
	t.Cleanup(func() { importProgressOK = orig })
	asked := 0
	importProgressOK = func(io.Writer) bool { asked++; return false }
	code, quiet, errb := cli(t, "import", p)
	if code != exitPassed || errb != "" || asked != 1 {
		t.Errorf("not a terminal: exit %d, asked %d, stderr %q, want 0, 1 and nothing", code, asked, errb)
	}
	importProgressOK = func(io.Writer) bool { return true }
	code, out, errb := cli(t, "import", p)
	// Bytes read of the total, e.g. "(4.2/8.7 MB, 35 MB/s)".
	if code != exitPassed || !strings.Contains(errb, "import "+p) || !regexp.MustCompile(`\(\d+(\.\d+)?/8\.\d MB`).MatchString(errb) || out != quiet {
		t.Errorf("terminal: exit %d, stderr %q, same stdout %v", code, errb, out == quiet)
	}
	// A small file shows no bar, terminal or not.
	code, _, errb = cli(t, "import", sampleLog("q152877-paris.csv"))
	if code != exitPassed || errb != "" {
		t.Errorf("small file: exit %d, stderr %q", code, errb)
	}
	// The real check: a file or a pipe is no terminal.
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if orig(f) {
		t.Error("a regular file counts as a terminal")
	}
}

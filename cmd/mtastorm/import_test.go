package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/repro"
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

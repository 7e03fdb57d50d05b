package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLoadBytes checks the scenario loader on arbitrary input: it never
// panics; it returns either a scenario or an *Error with at least one
// problem; every problem names a line (1-based, within the file) except the
// two that have none to name (an empty file, and a YAML syntax error the
// parser reports without a position); and a scenario it accepts survives
// Marshal and loads again.
func FuzzLoadBytes(f *testing.F) {
	for _, glob := range []string{"testdata/*.yaml", "../../scenarios/*.yaml", "../../scenarios/faults/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("version: 1\nname: [a\n"))
	f.Add([]byte("version: 1\nname: t\nmtas: [{name: A}, {name: B}]\nlinks: [{from: A, to: B}]\n" +
		"faults: [{at: 1s, link: A->B, type: reset, count: 3, every: 100ms}]\nduration: 5s\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// No hang: a stuck input crashes the worker, and the fuzzer keeps it.
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("LoadBytes/Marshal still running after 10s on %q", data))
		})
		defer watchdog.Stop()
		s, err := LoadBytes("q.yaml", data)
		if err != nil {
			checkLocated(t, data, err)
			return
		}
		if s == nil {
			t.Fatal("LoadBytes returned neither a scenario nor an error")
		}
		// The name becomes part of a bundle folder's name (mtastorm-out/<name>-<time>)
		// and MTA names appear in file contents: neither may carry a path.
		if strings.ContainsAny(s.Name, `/\`) || strings.Trim(s.Name, ".") == "" {
			t.Fatalf("accepted scenario name %q could leave the bundle folder", s.Name)
		}
		for _, m := range s.MTAs {
			if m.Name == "" || strings.ContainsAny(m.Name, `/\.`) {
				t.Fatalf("accepted MTA name %q", m.Name)
			}
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal of an accepted scenario: %v", err)
		}
		if _, err := LoadBytes("q.yaml", out); err != nil {
			t.Fatalf("the marshalled scenario does not load again: %v\n--- input\n%s\n--- marshalled\n%s", err, data, out)
		}
	})
}

func checkLocated(t *testing.T, data []byte, err error) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error is %T, want *scenario.Error: %v", err, err)
	}
	if len(se.Problems) == 0 {
		t.Fatalf("an *Error without problems: %v", err)
	}
	// YAML breaks lines at \n, \r and \r\n (and, in some places, at
	// NEL, LS and PS): counting each of these gives an upper bound.
	lines := 1
	for _, brk := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		lines += strings.Count(string(data), brk)
	}
	for _, p := range se.Problems {
		if p.Msg == "" {
			t.Fatalf("a problem without a message: %+v", p)
		}
		if p.Line == 0 && (p.Msg == "empty scenario" || strings.HasPrefix(p.Msg, "syntax error: ")) {
			continue
		}
		if p.Line < 1 || p.Line > lines {
			t.Fatalf("problem %q at line %d, outside 1..%d of the input", p, p.Line, lines)
		}
	}
}

// A scenario's name names its bundle folder (suitekit joins it to a temp
// folder): "." and ".." matched the name pattern and would have been a path
// out of that folder.
func TestScenarioNameNotAPath(t *testing.T) {
	for _, name := range []string{".", "..", "..."} {
		_, err := LoadBytes("q.yaml", []byte("version: 1\nname: "+name+"\nmtas: [{name: A}]\n"))
		if err == nil || !strings.Contains(err.Error(), "q.yaml:2:7: name: invalid name") {
			t.Errorf("name %q: %v, want an invalid name at 2:7", name, err)
		}
	}
	if _, err := LoadBytes("q.yaml", []byte("version: 1\nname: a..b\nmtas: [{name: A}]\n")); err != nil {
		t.Errorf("name a..b: %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
)

// module is a throwaway module whose packages end in every way a plain
// test run can end; goTestJSON runs `go test -json` on it for real.
var module = map[string]string{
	"go.mod": "module example.com/m\n\ngo 1.26\n",
	"ok/ok_test.go": `package ok
import "testing"
func TestPass(t *testing.T) {}
func TestSkip(t *testing.T) { t.Skip("not here") }
func TestSub(t *testing.T) { t.Run("a", func(t *testing.T) {}); t.Run("b", func(t *testing.T) {}) }
`,
	"bad/bad_test.go": `package bad
import "testing"
func TestPass(t *testing.T) {}
func TestFail(t *testing.T) { t.Error("the wanted failure") }
func TestSubFail(t *testing.T) { t.Run("a", func(t *testing.T) {}); t.Run("b", func(t *testing.T) { t.Fatal("sub b broke") }) }
`,
	"panics/panics_test.go": `package panics
import "testing"
func TestA(t *testing.T) {}
func TestPanic(t *testing.T) { panic("boom") }
func TestAfter(t *testing.T) {}
`,
	"exits/exits_test.go": `package exits
import ("os"; "testing")
func TestExit(t *testing.T) { os.Exit(3) }
`,
	"nobuild/nobuild_test.go": `package nobuild
import "testing"
func TestX(t *testing.T) { undefined() }
`,
	"mainfail/main_test.go": `package mainfail
import ("os"; "testing")
func TestMain(m *testing.M) { m.Run(); os.Exit(1) }
func TestOK(t *testing.T) {}
`,
	"notests/doc.go": "package notests\n",
}

var (
	streamOnce sync.Once
	stream     []byte
	streamErr  error
)

// goTestJSON returns the `go test -json ./...` output of module.
func goTestJSON(t *testing.T) []byte {
	t.Helper()
	streamOnce.Do(func() {
		dir, err := os.MkdirTemp("", "count-module-")
		if err != nil {
			streamErr = err
			return
		}
		defer os.RemoveAll(dir)
		for name, text := range module {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				streamErr = err
				return
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				streamErr = err
				return
			}
		}
		cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stream, err = cmd.Output()
		if _, ok := err.(*exec.ExitError); !ok && err != nil {
			streamErr = err
		}
		if len(stream) == 0 {
			streamErr = &exec.Error{Name: "go test", Err: os.ErrNotExist}
		}
	})
	if streamErr != nil {
		t.Fatalf("go test -json on the sample module: %v", streamErr)
	}
	return stream
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func countOf(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// Every way a plain package can end is counted: 5 tests passed (a test
// with passing subtests is one), 1 skipped, and 6 failures: a failed test,
// a failed subtest's parent, a panic, a test whose binary exited under it,
// a package that did not build, and a TestMain that failed after its
// tests passed. A test that never started (after the panic) is not counted.
func TestGoTestReport(t *testing.T) {
	file := writeFile(t, "go-test.json", goTestJSON(t))
	junit := filepath.Join(t.TempDir(), "junit-go.xml")
	code, stdout, stderr := countOf(t, "-packages", "-junit", junit, file)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if last := lines[len(lines)-1]; last != "5 passed, 6 failed, 1 skipped" {
		t.Errorf("closing line %q, want %q\nstdout:\n%s\nstderr:\n%s", last, "5 passed, 6 failed, 1 skipped", stdout, stderr)
	}
	for _, want := range []string{
		"--- FAIL: example.com/m/bad TestFail", "the wanted failure",
		"--- FAIL: example.com/m/bad TestSubFail", "sub b broke",
		"--- FAIL: example.com/m/panics TestPanic", "boom",
		"--- FAIL: example.com/m/exits TestExit did not finish",
		"--- FAIL: example.com/m/nobuild failed outside any test", "undefined",
		"--- FAIL: example.com/m/mainfail failed outside any test",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, want := range []string{"ok   example.com/m/ok ", "FAIL example.com/m/bad ", "FAIL example.com/m/mainfail "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("-packages lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "notests") {
		t.Errorf("a package without tests is listed:\n%s", stdout)
	}

	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var j reporters.JUnitTestSuites
	if err := xml.Unmarshal(data, &j); err != nil {
		t.Fatalf("junit: %v\n%s", err, data)
	}
	if j.Tests != 12 || j.Failures+j.Errors != 6 || j.Disabled != 1 || len(j.TestSuites) != 6 {
		t.Errorf("junit: %d tests, %d failures, %d errors, %d skipped, %d suites; want 12, 6 failed or errored, 1 skipped, 6 suites",
			j.Tests, j.Failures, j.Errors, j.Disabled, len(j.TestSuites))
	}
	if !strings.Contains(string(data), "the wanted failure") {
		t.Error("junit: the failure's output is missing")
	}
}

const ginkgoPassed = `[{"SuitePath":"/x/suites/events","SuiteDescription":"events","SuiteSucceeded":true,
 "SpecReports":[{"LeafNodeType":"It","State":"passed"},{"LeafNodeType":"It","State":"skipped"},
                {"LeafNodeType":"BeforeSuite","State":"passed"}]}]`

const ginkgoFailed = `[{"SuitePath":"/x/suites/recovery","SuiteDescription":"recovery","SuiteSucceeded":false,
 "SpecReports":[{"LeafNodeType":"It","State":"passed"},{"LeafNodeType":"It","State":"failed"}]}]`

// Both kinds of report add up in one line.
func TestGinkgoAndGoTestTogether(t *testing.T) {
	g := writeFile(t, "ginkgo.json", []byte(ginkgoPassed))
	code, stdout, _ := countOf(t, g)
	if code != 0 || stdout != "1 passed, 0 failed, 1 skipped\n" {
		t.Errorf("Ginkgo alone: exit %d, %q", code, stdout)
	}
	code, stdout, stderr := countOf(t, writeFile(t, "failed.json", []byte(ginkgoFailed)))
	if code != 1 || stdout != "1 passed, 1 failed, 0 skipped\n" || !strings.Contains(stderr, "suite /x/suites/recovery failed") {
		t.Errorf("a failed suite: exit %d, %q, %q", code, stdout, stderr)
	}
	code, stdout, _ = countOf(t, g, writeFile(t, "go-test.json", goTestJSON(t)))
	if code != 1 || stdout != "6 passed, 6 failed, 2 skipped\n" {
		t.Errorf("both: exit %d, %q", code, stdout)
	}
}

// Only passing plain tests: exit 0.
func TestGoTestAllPassed(t *testing.T) {
	var ok bytes.Buffer
	for _, l := range bytes.SplitAfter(goTestJSON(t), []byte("\n")) {
		if bytes.Contains(l, []byte(`"Package":"example.com/m/ok"`)) {
			ok.Write(l)
		}
	}
	code, stdout, stderr := countOf(t, writeFile(t, "ok.json", ok.Bytes()))
	if code != 0 || stdout != "2 passed, 0 failed, 1 skipped\n" {
		t.Errorf("exit %d, %q, %q", code, stdout, stderr)
	}
}

// An empty run cannot pass: no report content is an error, nothing passed
// is a failure, and a truncated stream (a package that never ended) fails.
func TestNothingToCount(t *testing.T) {
	if code, stdout, stderr := countOf(t, writeFile(t, "empty.json", nil)); code != 1 || stdout != "0 passed, 1 failed, 0 skipped\n" ||
		!strings.Contains(stderr, "did the run start?") {
		t.Errorf("empty file: exit %d, %q, %q", code, stdout, stderr)
	}
	g := writeFile(t, "ginkgo.json", []byte(ginkgoPassed))
	if code, stdout, stderr := countOf(t, g, filepath.Join(t.TempDir(), "missing.json")); code != 1 || stdout != "1 passed, 1 failed, 1 skipped\n" ||
		!strings.Contains(stderr, "missing.json") {
		t.Errorf("a missing report: exit %d, %q, %q", code, stdout, stderr)
	}
	if code, stdout, _ := countOf(t, writeFile(t, "none.json", []byte("[]"))); code != 1 || stdout != "0 passed, 0 failed, 0 skipped\n" {
		t.Errorf("no spec: exit %d, %q", code, stdout)
	}
	cut := `{"Action":"start","Package":"example.com/m/x"}
{"Action":"run","Package":"example.com/m/x","Test":"TestA"}
{"Action":"pass","Package":"example.com/m/x","Test":"TestA","Elapsed":0.1}
`
	if code, stdout, stderr := countOf(t, writeFile(t, "cut.json", []byte(cut))); code != 1 || stdout != "1 passed, 1 failed, 0 skipped\n" ||
		!strings.Contains(stderr, "example.com/m/x failed outside any test") {
		t.Errorf("a package that never ended: exit %d, %q, %q", code, stdout, stderr)
	}
	if code, _, stderr := countOf(t, writeFile(t, "junk.json", []byte("{\"Action\":\"start\"}\nnot json\n"))); code != 1 || !strings.Contains(stderr, "junk.json:2:") {
		t.Errorf("a bad line: exit %d, %q", code, stderr)
	}
	if code, _, _ := countOf(t); code != 2 {
		t.Errorf("no argument: exit %d, want 2", code)
	}
}

// A result go test replayed from its cache is counted and listed as cached.
func TestCachedPackage(t *testing.T) {
	stream := `{"Action":"start","Package":"example.com/m/c"}
{"Action":"run","Package":"example.com/m/c","Test":"TestA"}
{"Action":"output","Package":"example.com/m/c","Test":"TestA","Output":"--- PASS: TestA (0.00s)\n"}
{"Action":"pass","Package":"example.com/m/c","Test":"TestA","Elapsed":0}
{"Action":"output","Package":"example.com/m/c","Output":"ok  \texample.com/m/c\t(cached)\n"}
{"Action":"pass","Package":"example.com/m/c","Elapsed":0}
`
	code, stdout, stderr := countOf(t, "-packages", writeFile(t, "cached.json", []byte(stream)))
	if code != 0 || !strings.Contains(stdout, "ok   example.com/m/c") || !strings.Contains(stdout, "cached") ||
		!strings.HasSuffix(stdout, "1 passed, 0 failed, 0 skipped\n") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

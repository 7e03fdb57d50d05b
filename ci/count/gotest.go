package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json's TestEvent, plus
// the build events the go command interleaves since Go 1.24).
type event struct {
	Time        time.Time
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	FailedBuild string
	ImportPath  string // build-output and build-fail
}

// Test outcomes.
const (
	statePassed  = "passed"
	stateFailed  = "failed"
	stateSkipped = "skipped"
)

// goTest is one top-level test of a package. Subtests are not counted on
// their own: a failed subtest fails its parent, and their output is the
// parent's.
type goTest struct {
	Name    string
	State   string // statePassed, stateFailed or stateSkipped
	Elapsed float64
	Output  []string
	// Unfinished is set for a test that started and never reported an
	// outcome (its binary panicked in another test, timed out or was
	// killed); it counts as failed.
	Unfinished bool
}

// goPackage is one package's run.
type goPackage struct {
	Path    string
	Started time.Time
	Elapsed float64
	// State is the package's own outcome: statePassed, stateFailed, or
	// stateSkipped (no test files); "" if it never reported one.
	State string
	// Output is the package-level output (not inside a test): what a
	// failure outside any test (TestMain, a panic, a timeout) printed.
	Output []string
	// Build is the compiler's or vet's output for a package that did not build.
	Build []string
	// Cached is set when go test replayed the result from its cache.
	Cached bool
	Tests  []*goTest
}

// failedOutside reports whether the package failed with no failed test to
// show for it: a build failure, TestMain, a panic outside a test, a binary
// that never finished. Such a package counts as one failure of its own.
func (p *goPackage) failedOutside() bool {
	if p.State == stateFailed || p.State == "" {
		for _, t := range p.Tests {
			if t.State == stateFailed {
				return false
			}
		}
		return true
	}
	return false
}

// parseGoTest reads a `go test -json` stream. A line that is not a JSON
// object is an error naming its line number: the file is not what the
// caller said it was.
func parseGoTest(r io.Reader, name string) ([]*goPackage, error) {
	pkgs := map[string]*goPackage{}
	var order []string
	pkg := func(path string) *goPackage {
		p := pkgs[path]
		if p == nil {
			p = &goPackage{Path: path}
			pkgs[path] = p
			order = append(order, path)
		}
		return p
	}
	tests := map[string]*goTest{} // package + "\x00" + top-level name
	builds := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var e event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s:%d: not a go test -json event: %w", name, line, err)
		}
		switch e.Action {
		case "build-output":
			builds[e.ImportPath] = append(builds[e.ImportPath], e.Output)
			continue
		case "build-fail":
			continue
		}
		if e.Package == "" {
			continue
		}
		p := pkg(e.Package)
		if e.Test == "" {
			switch e.Action {
			case "start":
				p.Started = e.Time
			case "output":
				p.Output = append(p.Output, e.Output)
				if strings.HasPrefix(e.Output, "ok  ") && strings.Contains(e.Output, "(cached)") {
					p.Cached = true
				}
			case "pass", "fail", "skip":
				p.State = map[string]string{"pass": statePassed, "fail": stateFailed, "skip": stateSkipped}[e.Action]
				p.Elapsed = e.Elapsed
				if e.FailedBuild != "" {
					p.Build = append(p.Build, builds[e.FailedBuild]...)
				}
			}
			continue
		}
		top, _, sub := strings.Cut(e.Test, "/")
		key := e.Package + "\x00" + top
		t := tests[key]
		if t == nil {
			t = &goTest{Name: top}
			tests[key] = t
			p.Tests = append(p.Tests, t)
		}
		switch {
		case e.Action == "output":
			t.Output = append(t.Output, e.Output)
		case sub:
			// A subtest's outcome is summed up in its parent's.
		case e.Action == "pass":
			t.State, t.Elapsed = statePassed, e.Elapsed
		case e.Action == "fail":
			t.State, t.Elapsed = stateFailed, e.Elapsed
		case e.Action == "skip":
			t.State, t.Elapsed = stateSkipped, e.Elapsed
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make([]*goPackage, 0, len(order))
	for _, path := range order {
		p := pkgs[path]
		for _, t := range p.Tests {
			if t.State == "" {
				t.State, t.Unfinished = stateFailed, true
			}
		}
		out = append(out, p)
	}
	return out, nil
}

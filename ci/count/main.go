// Command count reads the test reports of a run and prints the closing
// line CI reads: "N passed, N failed, N skipped". A report is either a
// Ginkgo JSON report (--json-report; a spec is one count) or the output of
// `go test -json` (a top-level test is one count; a package that failed
// outside any test, e.g. it did not build or its TestMain failed, counts as
// one failure). It tells them apart by their first byte.
//
//	count [-packages] [-junit FILE] REPORT...
//
// Every failure is described on stderr: a failed spec's suite, a failed
// plain test's output (the end of it), a package's build errors. -packages
// also lists each plain package's outcome, and -junit writes a JUnit report
// of the plain tests (Ginkgo writes its own). A report that is missing,
// empty or not a report counts as one failure (a run that did not finish),
// and the closing line is printed all the same. count exits 1 when a
// suite, package or test failed or when nothing passed, so an empty run
// cannot pass; 2 on a usage error or when the JUnit report cannot be written.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// tally is what the closing line counts.
type tally struct {
	passed, failed, skipped int
	// broken is set when a suite or package failed, even if no single
	// spec or test did.
	broken bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("count", flag.ContinueOnError)
	fs.SetOutput(stderr)
	junit := fs.String("junit", "", "write a JUnit report of the `go test -json` reports to `FILE`")
	packages := fs.Bool("packages", false, "list every plain package's outcome")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: count [-packages] [-junit FILE] REPORT...\n\nREPORT is a Ginkgo JSON report or the output of go test -json.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	var all tally
	var plain []*goPackage
	for _, file := range fs.Args() {
		pkgs, err := read(file, &all, stderr)
		if err != nil {
			// A report that is missing or unreadable is a run that did not
			// finish: one failure, and the closing line is still printed.
			fmt.Fprintln(stderr, "count:", err)
			all.failed++
			all.broken = true
		}
		if len(pkgs) > 0 {
			countGoTest(pkgs, &all, *packages, stdout, stderr)
			plain = append(plain, pkgs...)
		}
	}
	code := 0
	if *junit != "" {
		if err := writeJUnit(*junit, plain); err != nil {
			fmt.Fprintln(stderr, "count:", err)
			code = 2
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed, %d skipped\n", all.passed, all.failed, all.skipped)
	if code == 0 && (all.broken || all.failed > 0 || all.passed == 0) {
		code = 1
	}
	return code
}

// read counts a Ginkgo JSON report into all, or parses go test -json
// output and returns its packages (counted by the caller).
func read(file string, all *tally, stderr io.Writer) ([]*goPackage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	switch kind(data) {
	case '[':
		var reports []types.Report
		if err := json.Unmarshal(data, &reports); err != nil {
			return nil, fmt.Errorf("%s: not a Ginkgo JSON report: %w", file, err)
		}
		countGinkgo(reports, all, stderr)
		return nil, nil
	case '{':
		return parseGoTest(bytes.NewReader(data), file)
	}
	return nil, fmt.Errorf("%s: neither a Ginkgo JSON report nor go test -json output (empty: did the run start?)", file)
}

// kind returns the first byte that is not white space: '[' for a Ginkgo
// JSON report, '{' for go test -json output, 0 for an empty file.
func kind(data []byte) byte {
	b := bytes.TrimLeft(data, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func countGinkgo(reports []types.Report, all *tally, stderr io.Writer) {
	for _, r := range reports {
		if !r.SuiteSucceeded {
			all.broken = true
			fmt.Fprintf(stderr, "count: suite %s failed\n", r.SuitePath)
		}
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				if s.State.Is(types.SpecStateFailureStates) {
					all.failed++ // a failed BeforeSuite or AfterSuite counts too
				}
				continue
			}
			switch {
			case s.State == types.SpecStatePassed:
				all.passed++
			case s.State.Is(types.SpecStateFailureStates):
				all.failed++
			default:
				all.skipped++
			}
		}
	}
}

// maxOutputLines is how much of a failed test's output count repeats: the
// end, where the failure is.
const maxOutputLines = 120

func countGoTest(pkgs []*goPackage, all *tally, list bool, stdout, stderr io.Writer) {
	for _, p := range pkgs {
		var passed, failed, skipped int
		for _, t := range p.Tests {
			switch t.State {
			case statePassed:
				passed++
			case stateFailed:
				failed++
				if t.Unfinished {
					fmt.Fprintf(stderr, "--- FAIL: %s %s did not finish (its test binary panicked, timed out or was killed)\n", p.Path, t.Name)
				} else {
					fmt.Fprintf(stderr, "--- FAIL: %s %s (%.2fs)\n", p.Path, t.Name, t.Elapsed)
				}
				writeTail(stderr, t.Output)
			default:
				skipped++
			}
		}
		if p.failedOutside() {
			failed++
			fmt.Fprintf(stderr, "--- FAIL: %s failed outside any test (build, vet, TestMain, a panic or a timeout)\n", p.Path)
			writeTail(stderr, append(append([]string(nil), p.Build...), p.Output...))
		}
		if p.State == stateFailed || p.State == "" {
			all.broken = true
		}
		all.passed += passed
		all.failed += failed
		all.skipped += skipped
		if list && p.State != stateSkipped {
			status := "ok  "
			if failed > 0 || p.State != statePassed {
				status = "FAIL"
			}
			took := fmt.Sprintf("%6.1fs", p.Elapsed)
			if p.Cached {
				took = "cached "
			}
			fmt.Fprintf(stdout, "%s %-55s %s  %d passed, %d failed, %d skipped\n", status, p.Path, took, passed, failed, skipped)
		}
	}
}

// writeTail writes the last maxOutputLines lines of out, indented.
func writeTail(w io.Writer, out []string) {
	var lines [][]byte
	for _, l := range bytes.SplitAfter([]byte(strings.Join(out, "")), []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) > maxOutputLines {
		fmt.Fprintf(w, "    ... %d lines before\n", len(lines)-maxOutputLines)
		lines = lines[len(lines)-maxOutputLines:]
	}
	for _, l := range lines {
		fmt.Fprintf(w, "    %s", bytes.TrimRight(l, "\n"))
		fmt.Fprintln(w)
	}
}

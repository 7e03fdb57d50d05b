package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
)

// writeJUnit writes the plain tests as a JUnit report, in the shape
// Ginkgo's own junit.xml has: a testsuite per package, a testcase per
// top-level test, the test's output in the failure.
func writeJUnit(path string, pkgs []*goPackage) error {
	var out reporters.JUnitTestSuites
	for _, p := range pkgs {
		if p.State == stateSkipped && len(p.Tests) == 0 {
			continue // no test files
		}
		s := reporters.JUnitTestSuite{Name: p.Path, Package: p.Path, Time: p.Elapsed}
		if !p.Started.IsZero() {
			s.Timestamp = p.Started.Format("2006-01-02T15:04:05")
		}
		for _, t := range p.Tests {
			c := reporters.JUnitTestCase{Name: t.Name, Classname: p.Path, Status: t.State, Time: t.Elapsed}
			output := strings.Join(t.Output, "")
			switch {
			case t.Unfinished:
				c.Error = &reporters.JUnitError{Type: "interrupted", Message: "did not finish (its test binary panicked, timed out or was killed)", Description: output}
				s.Errors++
			case t.State == stateFailed:
				c.Failure = &reporters.JUnitFailure{Type: "failed", Message: "failed", Description: output}
				s.Failures++
			case t.State == stateSkipped:
				c.Skipped = &reporters.JUnitSkipped{Message: "skipped"}
				s.Skipped++
			default:
				c.SystemOut = output
			}
			s.TestCases = append(s.TestCases, c)
		}
		if p.failedOutside() {
			s.TestCases = append(s.TestCases, reporters.JUnitTestCase{Name: "[package] " + p.Path, Classname: p.Path, Status: stateFailed,
				Error: &reporters.JUnitError{Type: "failed", Message: "failed outside any test (build, vet, TestMain, a panic or a timeout)",
					Description: strings.Join(append(append([]string(nil), p.Build...), p.Output...), "")}})
			s.Errors++
		}
		s.Tests = len(s.TestCases)
		out.TestSuites = append(out.TestSuites, s)
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Disabled += s.Skipped
		out.Time += s.Time
	}
	data, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(data, '\n')...), 0o644); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	return nil
}

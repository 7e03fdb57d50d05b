package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"github.com/mtastorm/mtastorm/harness/result"
)

// JUnitSuites is the root element of junit.xml: one suite, the scenario.
type JUnitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fail    int          `xml:"failures,attr"`
	Errors  int          `xml:"errors,attr"`
	Skipped int          `xml:"skipped,attr"`
	Time    string       `xml:"time,attr"`
	Suites  []JUnitSuite `xml:"testsuite"`
}

// JUnitSuite is the scenario's test suite: one test case per check.
type JUnitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Fail       int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []JUnitProperty `xml:"properties>property"`
	Cases      []JUnitCase     `xml:"testcase"`
}

// JUnitProperty is a name/value pair of the suite (seed, verdict, ...).
type JUnitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// JUnitCase is one check. A failed check carries Failure, an unknown one
// Skipped (it could not be judged).
type JUnitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitMessage `xml:"failure,omitempty"`
	Skipped   *JUnitMessage `xml:"skipped,omitempty"`
}

// JUnitMessage is a failure or skipped element: the check's detail as the
// message attribute and as the body.
type JUnitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",chardata"`
}

// JUnit returns the junit.xml document of a judged summary. Checks are not
// timed one by one: each case has time 0 and the suite the run's duration.
func JUnit(s result.Summary) JUnitSuites {
	dur := strconv.FormatFloat(s.DurationS, 'f', 3, 64)
	suite := JUnitSuite{
		Name: s.Scenario, Time: dur,
		Properties: []JUnitProperty{
			{Name: "seed", Value: strconv.FormatInt(s.Seed, 10)},
			{Name: "verdict", Value: s.Verdict},
			{Name: "anchor_s", Value: strconv.FormatFloat(s.AnchorS, 'f', 3, 64)},
		},
	}
	if s.RecoveryS != nil {
		suite.Properties = append(suite.Properties, JUnitProperty{Name: "recovery_s", Value: strconv.FormatFloat(*s.RecoveryS, 'f', 3, 64)})
	}
	for _, c := range s.Checks {
		tc := JUnitCase{Classname: "mtastorm." + s.Scenario, Name: c.Name, Time: "0.000"}
		switch c.Verdict {
		case result.Passed:
		case result.Failed:
			tc.Failure = &JUnitMessage{Message: c.Detail, Type: "failed", Body: c.Detail}
			suite.Fail++
		default:
			tc.Skipped = &JUnitMessage{Message: fmt.Sprintf("verdict %s: %s", c.Verdict, c.Detail), Body: c.Detail}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	return JUnitSuites{Name: "mtastorm", Tests: suite.Tests, Fail: suite.Fail, Skipped: suite.Skipped, Time: dur, Suites: []JUnitSuite{suite}}
}

// WriteJUnit writes the junit.xml of a judged summary to w.
func WriteJUnit(w io.Writer, s result.Summary) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(JUnit(s)); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

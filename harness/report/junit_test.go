package report

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/result"
)

func TestJUnitRoundTrip(t *testing.T) {
	rec := 1.25
	s := result.Summary{Scenario: "q152877-sp0", Seed: 152877, Verdict: result.Failed, DurationS: 4.2, RecoveryS: &rec, Checks: []result.Check{
		{Name: "exactly-once", Verdict: result.Passed, Detail: "200 messages"},
		{Name: "recovery", Verdict: result.Failed, Detail: `B: 3 KCBs leaked; 41 of 200 delivered <&"'>`},
		{Name: "validity", Verdict: result.Unknown, Detail: "nothing delivered before the first fault"},
	}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "<?xml") {
		t.Errorf("no XML header:\n%s", buf.String())
	}
	var got JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, buf.String())
	}
	if len(got.Suites) != 1 {
		t.Fatalf("%d suites", len(got.Suites))
	}
	su := got.Suites[0]
	if su.Name != "q152877-sp0" || su.Tests != 3 || su.Fail != 1 || su.Skipped != 1 || su.Errors != 0 || su.Time != "4.200" {
		t.Errorf("suite = %+v", su)
	}
	if got.Tests != 3 || got.Fail != 1 || got.Skipped != 1 {
		t.Errorf("testsuites = %+v", got)
	}
	props := map[string]string{}
	for _, p := range su.Properties {
		props[p.Name] = p.Value
	}
	if props["seed"] != "152877" || props["verdict"] != result.Failed || props["recovery_s"] != "1.250" {
		t.Errorf("properties = %v", props)
	}
	for i, c := range su.Cases {
		if c.Classname != "mtastorm.q152877-sp0" || c.Name != s.Checks[i].Name || c.Time == "" {
			t.Errorf("case %d = %+v", i, c)
		}
	}
	if c := su.Cases[0]; c.Failure != nil || c.Skipped != nil {
		t.Errorf("passed case = %+v", c)
	}
	if c := su.Cases[1]; c.Failure == nil || c.Failure.Message != s.Checks[1].Detail || c.Failure.Body != s.Checks[1].Detail || c.Skipped != nil {
		t.Errorf("failed case = %+v", c)
	}
	if c := su.Cases[2]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, s.Checks[2].Detail) || c.Failure != nil {
		t.Errorf("unknown case = %+v", c)
	}
	// Re-encoding the parsed document gives the same document.
	var again bytes.Buffer
	enc := xml.NewEncoder(&again)
	enc.Indent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	if want := strings.TrimSpace(strings.TrimPrefix(buf.String(), xml.Header)); strings.TrimSpace(again.String()) != want {
		t.Errorf("round trip differs:\n%s\nvs\n%s", again.String(), want)
	}
}

package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/report"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Bundle file names (DESIGN.md section 7).
const (
	FileScenario   = "scenario.yaml"
	FileSchedule   = "schedule.json"
	FileLedger     = "ledger.jsonl"
	FileEvents     = "events.jsonl"
	FileDeliveries = "deliveries.jsonl"
	FileSamples    = "samples.jsonl"
	FileSummary    = "summary.json"
	FileSubmitted  = "submitted.jsonl"
	FileJUnit      = "junit.xml"
	FileReport     = "report.html"
)

// writeBundle writes a run's files into dir.
func writeBundle(dir string, sc *scenario.Scenario, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("harness: bundle: %w", err)
	}
	wire, err := wireOf(dir, sc)
	if err != nil {
		return err
	}
	res.Wire = wire
	raw := sc.Raw
	if len(raw) == 0 {
		var err error
		if raw, err = scenario.Marshal(sc); err != nil {
			return fmt.Errorf("harness: bundle: %w", err)
		}
	}
	write := func(name string, fill func(f *os.File) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("harness: bundle: %w", err)
		}
		if err := fill(f); err != nil {
			f.Close()
			return fmt.Errorf("harness: bundle: %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("harness: bundle: %s: %w", name, err)
		}
		return nil
	}
	jsonFile := func(v any) func(*os.File) error {
		return func(f *os.File) error {
			enc := json.NewEncoder(f)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	lines := func(n int, item func(i int) any) func(*os.File) error {
		return func(f *os.File) error {
			enc := json.NewEncoder(f)
			enc.SetEscapeHTML(false)
			for i := range n {
				if err := enc.Encode(item(i)); err != nil {
					return err
				}
			}
			return nil
		}
	}
	steps := []struct {
		name string
		fill func(*os.File) error
	}{
		{FileScenario, func(f *os.File) error { _, err := f.Write(raw); return err }},
		{FileSchedule, jsonFile(bundleSchedule{Schedule: res.Schedule, Topology: sc.Expansion()})},
		{FileLedger, lines(len(res.Ledger), func(i int) any { return res.Ledger[i] })},
		{FileEvents, func(f *os.File) error { return eventlog.WriteJSONL(f, res.Events) }},
		{FileDeliveries, lines(len(res.Deliveries), func(i int) any { return res.Deliveries[i] })},
		{FileSamples, lines(len(res.Samples), func(i int) any { return res.Samples[i] })},
		{FileSummary, jsonFile(res.Summary)},
		{FileSubmitted, func(f *os.File) error { return writeSubmitted(f, res) }},
		{FileJUnit, func(f *os.File) error { return report.WriteJUnit(f, res.Summary) }},
		{FileReport, func(f *os.File) error { return report.WriteHTML(f, reportInput(sc, res)) }},
	}
	for _, s := range steps {
		if err := write(s.name, s.fill); err != nil {
			return err
		}
	}
	return nil
}

// reportInput is what report.html is drawn from: sc as run and its result.
func reportInput(sc *scenario.Scenario, res *Result) *report.Input {
	return &report.Input{Scenario: sc, Summary: res.Summary, Schedule: res.Schedule,
		Events: res.Events, Deliveries: res.Deliveries, Samples: res.Samples, Ledger: res.Ledger, Wire: res.Wire}
}

// bundleSchedule is schedule.json: the expanded fault schedule and, for a
// scenario with a topology, what the topology expanded into.
type bundleSchedule struct {
	*faults.Schedule
	Topology *scenario.Expansion `json:"topology,omitempty"`
}

// LoadSchedule reads a bundle's schedule.json.
func LoadSchedule(path string) (*faults.Schedule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("harness: load schedule: %w", err)
	}
	bs := bundleSchedule{Schedule: &faults.Schedule{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&bs); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("harness: %s: byte %d: %w", path, se.Offset, err)
		}
		return nil, fmt.Errorf("harness: %s: %w", path, err)
	}
	s := *bs.Schedule
	for i, t := range s.Toggles {
		switch t.Action {
		case faults.ActDisable, faults.ActEnable:
		case faults.ActAddToxic, faults.ActUpdateToxic, faults.ActRemoveToxic:
			if t.Toxic == nil || t.Toxic.Name == "" {
				return nil, fmt.Errorf("harness: %s: toggles[%d]: %s needs a toxic with a name", path, i, t.Action)
			}
		default:
			return nil, fmt.Errorf("harness: %s: toggles[%d]: unknown action %q", path, i, t.Action)
		}
		if i > 0 && t.Offset < s.Toggles[i-1].Offset {
			return nil, fmt.Errorf("harness: %s: toggles[%d]: offset %s before the previous toggle's", path, i, t.Offset)
		}
	}
	return &s, nil
}

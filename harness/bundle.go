package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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
)

// writeBundle writes a run's files into dir.
func writeBundle(dir string, sc *scenario.Scenario, res *Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("harness: bundle: %w", err)
	}
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
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}
	lines := func(n int, item func(i int) any) func(*os.File) error {
		return func(f *os.File) error {
			enc := json.NewEncoder(f)
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
		{FileSchedule, jsonFile(res.Schedule)},
		{FileLedger, lines(len(res.Ledger), func(i int) any { return res.Ledger[i] })},
		{FileEvents, func(f *os.File) error { return eventlog.WriteJSONL(f, res.Events) }},
		{FileDeliveries, lines(len(res.Deliveries), func(i int) any { return res.Deliveries[i] })},
		{FileSamples, lines(len(res.Samples), func(i int) any { return res.Samples[i] })},
		{FileSummary, jsonFile(res.Summary)},
	}
	for _, s := range steps {
		if err := write(s.name, s.fill); err != nil {
			return err
		}
	}
	return nil
}

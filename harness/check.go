package harness

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/harness/report"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// SubmittedRecord is one line of submitted.jsonl: a message an MTA accepted
// for delivery, or one the traffic offered while its sender was stopped
// (Refused). Together with deliveries.jsonl it lets a bundle be judged
// again (loss and duplicates are counted against it).
type SubmittedRecord struct {
	ID   string `json:"id"`
	From string `json:"from"`
	To   string `json:"to"`
	// At is the submission's offset from the run start in seconds.
	At float64 `json:"at_s"`
	// Refused is set when the sender was stopped and accepted nothing.
	Refused bool `json:"refused,omitempty"`
}

// submittedRecords lists res's submissions and refusals ordered by time,
// then id.
func submittedRecords(res *Result) []SubmittedRecord {
	out := make([]SubmittedRecord, 0, len(res.submitted)+len(res.refused))
	for id, s := range res.submitted {
		out = append(out, SubmittedRecord{ID: id, From: s.from, To: s.to, At: s.at.Seconds()})
	}
	for id, s := range res.refused {
		out = append(out, SubmittedRecord{ID: id, From: s.from, To: s.to, At: s.at.Seconds(), Refused: true})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].At != out[j].At {
			return out[i].At < out[j].At
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// writeSubmitted writes submitted.jsonl.
func writeSubmitted(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range submittedRecords(res) {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// Judge re-judges the bundle in dir from its files alone: scenario.yaml,
// schedule.json, submitted.jsonl, deliveries.jsonl, events.jsonl,
// samples.jsonl and ledger.jsonl (summary.json, when readable, only lends
// the run's duration). It applies the current checkers and rewrites
// summary.json, junit.xml and report.html. A missing or malformed file is
// an *InputError naming the file and the line (or byte offset); a failure
// to write is an *InfraError.
func Judge(dir string) (*Result, error) {
	sc, res, err := loadBundle(dir)
	if err != nil {
		return nil, &InputError{Err: err}
	}
	anchor := res.Schedule.LastHeal()
	for _, a := range sc.Actions {
		anchor = max(anchor, a.At)
	}
	elapsed := time.Duration(res.Summary.DurationS * float64(time.Second))
	res.Summary = judge(sc, res, anchor, elapsed)
	res.Dir = dir
	if err := writeJudged(dir, sc, res); err != nil {
		return res, &InfraError{Err: err}
	}
	return res, nil
}

// loadBundle reads and cross-checks a bundle's files and rebuilds the
// result as collect would have, before judging.
func loadBundle(dir string) (*scenario.Scenario, *Result, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("harness: bundle: %w", err)
	} else if !fi.IsDir() {
		return nil, nil, fmt.Errorf("harness: bundle: %s is not a folder", dir)
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	sc, err := scenario.Load(path(FileScenario))
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return nil, nil, err // names file:line:col
		}
		return nil, nil, fmt.Errorf("harness: %w", err)
	}
	sched, err := LoadSchedule(path(FileSchedule))
	if err != nil {
		return nil, nil, err
	}
	for i, t := range sched.Toggles {
		if from, to, ok := scenario.ParseLink(t.Link); !ok || !sc.HasLink(from, to) {
			return nil, nil, fmt.Errorf("harness: %s: toggles[%d]: link %q is not declared in %s", path(FileSchedule), i, t.Link, FileScenario)
		}
	}
	known := func(name string) bool { _, ok := sc.MTA(name); return ok }
	res := &Result{Schedule: sched, submitted: map[string]submission{}, refused: map[string]submission{}}

	subs, err := readBundleLines[SubmittedRecord](path(FileSubmitted))
	if err != nil {
		return nil, nil, err
	}
	for i, s := range subs {
		switch {
		case s.v.ID == "":
			return nil, nil, fmt.Errorf("harness: %s:%d: no message id", path(FileSubmitted), s.line)
		case !known(s.v.From) || !known(s.v.To):
			return nil, nil, fmt.Errorf("harness: %s:%d: message %s from %q to %q: MTA not declared in %s", path(FileSubmitted), s.line, s.v.ID, s.v.From, s.v.To, FileScenario)
		}
		_, dup := res.submitted[s.v.ID]
		_, dupRefused := res.refused[s.v.ID]
		if dup || dupRefused {
			return nil, nil, fmt.Errorf("harness: %s:%d: message %s listed twice", path(FileSubmitted), subs[i].line, s.v.ID)
		}
		sub := submission{from: s.v.From, to: s.v.To, at: time.Duration(s.v.At * float64(time.Second))}
		if s.v.Refused {
			res.refused[s.v.ID] = sub
		} else {
			res.submitted[s.v.ID] = sub
		}
	}
	dels, err := readBundleLines[DeliveryRecord](path(FileDeliveries))
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dels {
		if !known(d.v.To) {
			return nil, nil, fmt.Errorf("harness: %s:%d: delivery %s to %q: MTA not declared in %s", path(FileDeliveries), d.line, d.v.ID, d.v.To, FileScenario)
		}
		res.Deliveries = append(res.Deliveries, d.v)
	}
	evs, err := readBundleLines[eventlog.Record](path(FileEvents))
	if err != nil {
		return nil, nil, err
	}
	for _, e := range evs {
		res.Events = append(res.Events, e.v)
	}
	smps, err := readBundleLines[Sample](path(FileSamples))
	if err != nil {
		return nil, nil, err
	}
	for _, s := range smps {
		if !known(s.v.MTA) {
			return nil, nil, fmt.Errorf("harness: %s:%d: sample of %q: MTA not declared in %s", path(FileSamples), s.line, s.v.MTA, FileScenario)
		}
		res.Samples = append(res.Samples, s.v)
	}
	ledger, err := readBundleLines[LedgerEntry](path(FileLedger))
	if err != nil {
		return nil, nil, err
	}
	for _, l := range ledger {
		res.Ledger = append(res.Ledger, l.v)
	}
	sort.SliceStable(res.Deliveries, func(i, j int) bool { return res.Deliveries[i].T < res.Deliveries[j].T })
	sort.SliceStable(res.Events, func(i, j int) bool { return res.Events[i].Time.Before(res.Events[j].Time) })

	if res.Wire, err = wireOf(dir, sc); err != nil {
		return nil, nil, err
	}
	s := Summary{Scenario: sc.Name, Seed: sched.Seed, MTAs: totals(sc, res)}
	s.DurationS, s.Started = bundleTimes(path(FileSummary), res)
	res.Summary = s
	return sc, res, nil
}

// bundleTimes returns the run's duration and start: from summary.json when
// it can be read (it is rewritten anyway), else the last sample's offset
// and no start.
func bundleTimes(summaryPath string, res *Result) (float64, time.Time) {
	if data, err := os.ReadFile(summaryPath); err == nil {
		var old struct {
			DurationS *float64  `json:"duration_s"`
			Started   time.Time `json:"started"`
		}
		if json.Unmarshal(data, &old) == nil && old.DurationS != nil && *old.DurationS >= 0 {
			return *old.DurationS, old.Started
		}
	}
	var d float64
	for _, s := range res.Samples {
		d = max(d, s.T)
	}
	return d, time.Time{}
}

// lineOf is a decoded JSON line and its 1-based line number.
type lineOf[T any] struct {
	v    T
	line int
}

// readBundleLines decodes a JSON-lines bundle file. Blank lines are skipped; an
// error names path:line.
func readBundleLines[T any](path string) ([]lineOf[T], error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("harness: %s: missing from the bundle", path)
		}
		return nil, fmt.Errorf("harness: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var out []lineOf[T]
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("harness: %s:%d: %w", path, n, err)
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var v T
			if uerr := json.Unmarshal(t, &v); uerr != nil {
				return nil, fmt.Errorf("harness: %s:%d: %w", path, n, uerr)
			}
			out = append(out, lineOf[T]{v: v, line: n})
		}
		if err != nil { // io.EOF
			return out, nil
		}
	}
}

// writeJudged rewrites the files that judging produces: summary.json,
// junit.xml and report.html. Each is written to a temporary file first and
// renamed, so a failure leaves the old file in place.
func writeJudged(dir string, sc *scenario.Scenario, res *Result) error {
	files := []struct {
		name string
		fill func(io.Writer) error
	}{
		{FileSummary, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(res.Summary)
		}},
		{FileJUnit, func(w io.Writer) error { return report.WriteJUnit(w, res.Summary) }},
		{FileReport, func(w io.Writer) error { return report.WriteHTML(w, reportInput(sc, res)) }},
	}
	for _, f := range files {
		if err := replaceFile(filepath.Join(dir, f.name), f.fill); err != nil {
			return fmt.Errorf("harness: bundle: %s: %w", f.name, err)
		}
	}
	return nil
}

func replaceFile(path string, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	bw := bufio.NewWriter(tmp)
	if err := fill(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

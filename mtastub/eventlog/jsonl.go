package eventlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// WriteJSONL writes recs to w as JSON lines, one record per line.
func WriteJSONL(w io.Writer, recs []Record) error {
	j := NewJSONLWriter(w)
	for _, r := range recs {
		if err := j.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// JSONLWriter writes records to an io.Writer as JSON lines. Each Write
// issues a single write of one whole line, so a JSONLWriter may be shared by
// concurrent writers and used as a Log sink.
type JSONLWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// NewJSONLWriter returns a JSONLWriter that writes to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: w}
}

// Write writes r as one line of JSON followed by a newline.
func (j *JSONLWriter) Write(r Record) error {
	line, err := r.MarshalJSON()
	if err != nil {
		return err
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.w.Write(line); err != nil {
		return fmt.Errorf("eventlog: write event %d: %w", r.ID, err)
	}
	return nil
}

// ReadJSONL reads JSON lines written by WriteJSONL. Blank lines are skipped
// and lines may end in CRLF. An error names the 1-based line it occurred on.
func ReadJSONL(r io.Reader) ([]Record, error) {
	br := bufio.NewReader(r)
	var recs []Record
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return recs, fmt.Errorf("eventlog: line %d: %w", n, err)
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			var rec Record
			if uerr := json.Unmarshal(t, &rec); uerr != nil {
				return recs, fmt.Errorf("eventlog: line %d: %w", n, uerr)
			}
			recs = append(recs, rec)
		}
		if err != nil { // io.EOF
			return recs, nil
		}
	}
}

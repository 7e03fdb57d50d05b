package repro

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Formats Import recognises.
const (
	FormatCSV      = "csv"      // Event Viewer "Save All Events As... CSV"
	FormatWevtutil = "wevtutil" // wevtutil qe LOG /f:text
	FormatJSONL    = "jsonl"    // mtastorm's events.jsonl
)

// ImportError is a problem with an imported event log. Line (1-based) and,
// where known, Col and Field locate it.
type ImportError struct {
	// Name is the log's name (a file path, or "-").
	Name string
	// Line is the 1-based line; 0 when the problem concerns the whole input.
	Line int
	// Col is the 1-based column (in characters) for CSV, or 0.
	Col int
	// Field names the column or key, e.g. "Event ID".
	Field string
	// Msg says what is wrong.
	Msg string
}

func (e *ImportError) Error() string {
	var b strings.Builder
	b.WriteString(e.Name)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Import reads a customer's event log and returns its MSExchangeMTA records,
// oldest first. It detects the format from the content: an Event Viewer CSV
// export (columns found by header name, case-insensitive), `wevtutil qe
// /f:text` output (Event[N]: blocks) or mtastorm's events.jsonl. Records of
// other sources are dropped. From each description it parses what the
// DESIGN.md section 4 texts carry — association, entity, the
// [state svc flavor reason] tuple, control block index — where present.
// Malformed or unknown input gives an *ImportError naming the line; name is
// used in it. Import holds every record: for a large log, ImportSignature
// (or ImportEach) keeps memory bounded.
func Import(r io.Reader, name string) ([]eventlog.Record, error) {
	recs, _, err := ImportFormat(r, name)
	return recs, err
}

// ImportFormat is Import that also reports the detected format.
func ImportFormat(r io.Reader, name string) ([]eventlog.Record, string, error) {
	var recs []eventlog.Record
	format, err := ImportEach(r, name, func(rec eventlog.Record) error {
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return nil, format, err
	}
	sortRecords(recs)
	return recs, format, nil
}

// ImportSignature reads a customer's event log as ImportEach does and
// returns its signature and format, holding only the signature: memory is
// bounded by the signature, not by the log. The signature is
// NewSignature(Import(r)).
func ImportSignature(r io.Reader, name string) (Signature, string, error) {
	b := NewSignatureBuilder()
	format, err := ImportEach(r, name, func(rec eventlog.Record) error {
		b.Add(rec)
		return nil
	})
	if err != nil {
		return Signature{}, format, err
	}
	return b.Signature(), format, nil
}

// maxLine is the longest line (JSON lines, wevtutil text) or, before the
// first event, the most blank input ImportEach reads.
const maxLine = 16 << 20

// ImportEach reads a customer's event log as Import does, streaming: it
// calls fn with each MSExchangeMTA record in file order (Event Viewer
// exports are newest first) as soon as it is read, and keeps nothing of
// it. An error from fn stops the import and is returned. It returns the
// detected format (FormatCSV, FormatWevtutil or FormatJSONL).
func ImportEach(r io.Reader, name string, fn func(eventlog.Record) error) (string, error) {
	src, first, line, err := openLog(r, name)
	if err != nil {
		return "", err
	}
	switch {
	case first == "":
		return "", &ImportError{Name: name, Msg: "empty event log"}
	case strings.HasPrefix(first, "{"):
		return FormatJSONL, importJSONL(src, name, fn)
	case wevtEventRE.MatchString(first):
		return FormatWevtutil, importWevtutil(src, name, fn)
	case strings.Contains(strings.ToLower(first), "source") && strings.Contains(first, ","):
		return FormatCSV, importCSV(src, name, fn)
	}
	return "", &ImportError{Name: name, Line: line, Msg: fmt.Sprintf("unknown format (starts %q): want an Event Viewer CSV export "+
		"with a header row naming Source and Event ID, wevtutil qe /f:text output (Event[0]:) or events.jsonl", clip(first, 40))}
}

// openLog prepares r for reading as UTF-8 text: a UTF-8 byte-order mark is
// skipped and UTF-16 (NUL bytes in the first kilobyte) decoded as it is
// read. It returns the text, whole again, with its first non-blank line,
// trimmed, and that line's number ("" and 0 for an empty log).
func openLog(r io.Reader, name string) (io.Reader, string, int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	head, err := br.Peek(1024)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", 0, fmt.Errorf("repro: read %s: %w", name, err)
	}
	text := br
	if bytes.IndexByte(head, 0) >= 0 {
		text = bufio.NewReaderSize(newUTF16Reader(br), 64<<10)
	}
	// Read up to the first non-blank line, keeping what was read to hand
	// back in front of the rest.
	var seen []byte
	for n := 1; ; n++ {
		l, err := text.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) && len(seen)+len(l) < maxLine {
			seen = append(seen, l...)
			l, err = text.ReadSlice('\n')
		}
		start := len(seen)
		seen = append(seen, l...)
		if t := strings.TrimSpace(string(seen[start:])); t != "" {
			return io.MultiReader(bytes.NewReader(seen), text), t, n, nil
		}
		switch {
		case errors.Is(err, io.EOF):
			return bytes.NewReader(seen), "", 0, nil
		case errors.Is(err, bufio.ErrBufferFull):
			return nil, "", 0, &ImportError{Name: name, Line: n, Msg: fmt.Sprintf("nothing but blanks in the first %d MB", maxLine>>20)}
		case err != nil:
			return nil, "", 0, fmt.Errorf("repro: read %s: %w", name, err)
		}
		if len(seen) >= maxLine {
			return nil, "", 0, &ImportError{Name: name, Line: n, Msg: fmt.Sprintf("nothing but blanks in the first %d MB", maxLine>>20)}
		}
	}
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// utf16Reader decodes UTF-16 (LE unless a big-endian BOM says otherwise)
// to UTF-8 as it reads, as `wevtutil > file` in PowerShell writes it. Each
// code unit becomes one rune: surrogates become U+FFFD (event texts are
// ASCII); an odd last byte is dropped.
type utf16Reader struct {
	r       *bufio.Reader
	be      bool
	started bool
	in      []byte // raw bytes; in[0] holds a byte carried over when carry is 1
	carry   int
	out     []byte // decoded text, returned from pos on
	pos     int
	err     error
}

func newUTF16Reader(r *bufio.Reader) *utf16Reader {
	return &utf16Reader{r: r, in: make([]byte, 32<<10)}
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	if !u.started {
		u.started = true
		if b, _ := u.r.Peek(2); len(b) == 2 {
			u.be = b[0] == 0xFE && b[1] == 0xFF
			if u.be || b[0] == 0xFF && b[1] == 0xFE {
				_, _ = u.r.Discard(2)
			}
		}
	}
	for u.pos == len(u.out) && u.err == nil {
		n, err := u.r.Read(u.in[u.carry:])
		n += u.carry
		u.out, u.pos, u.carry = u.out[:0], 0, 0
		i := 0
		for ; i+1 < n; i += 2 {
			c := uint16(u.in[i]) | uint16(u.in[i+1])<<8
			if u.be {
				c = uint16(u.in[i])<<8 | uint16(u.in[i+1])
			}
			u.out = utf8.AppendRune(u.out, rune(c))
		}
		if i < n {
			u.in[0], u.carry = u.in[i], 1
		}
		u.err = err
	}
	if u.pos == len(u.out) {
		return 0, u.err
	}
	n := copy(p, u.out[u.pos:])
	u.pos += n
	return n, nil
}

// ---- JSON lines -------------------------------------------------------------

func importJSONL(r io.Reader, name string, fn func(eventlog.Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(line, &keys); err != nil {
			return &ImportError{Name: name, Line: n, Msg: "not a JSON object: " + jsonMsg(err)}
		}
		for _, k := range []string{"time", "source", "id"} {
			if _, ok := keys[k]; !ok {
				return &ImportError{Name: name, Line: n, Field: k, Msg: "missing"}
			}
		}
		var rec eventlog.Record
		if err := json.Unmarshal(line, &rec); err != nil {
			ie := &ImportError{Name: name, Line: n, Msg: jsonMsg(err)}
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				ie.Field = te.Field[strings.LastIndex(te.Field, ".")+1:]
				ie.Msg = fmt.Sprintf("want a JSON value for Go %s, got a JSON %s", te.Type, te.Value)
			} else if strings.Contains(err.Error(), "time") {
				ie.Field = "time"
			}
			return ie
		}
		if !validID(rec.ID) {
			return &ImportError{Name: name, Line: n, Field: "id", Msg: fmt.Sprintf("bad event ID %d (want 1 to %d)", rec.ID, maxEventID)}
		}
		if !isMTA(rec.Source) {
			continue
		}
		if rec.Text != "" && rec.Assoc == 0 && rec.KCB == 0 && rec.State == 0 && rec.Entity == "" {
			parseDescription(&rec, rec.Text) // a hand-written line carrying only the text
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &ImportError{Name: name, Msg: err.Error()}
	}
	return nil
}

// maxEventID is the largest Windows event ID (they are 16-bit).
const maxEventID = 65535

func validID(id int) bool { return id > 0 && id <= maxEventID }

func jsonMsg(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "json: ")
	return strings.TrimPrefix(s, "eventlog: ")
}

func isMTA(source string) bool { return strings.EqualFold(strings.TrimSpace(source), eventlog.Source) }

// ---- CSV ----------------------------------------------------------------------

// csvColumns are the header names of each field, lower case.
var csvColumns = map[string][]string{
	"level":       {"level", "type", "event type"},
	"datetime":    {"date and time", "datetime", "timecreated", "time created"},
	"date":        {"date"},
	"time":        {"time"},
	"source":      {"source", "event source"},
	"id":          {"event id", "event", "eventid", "id"},
	"category":    {"task category", "category", "task", "event category"},
	"description": {"description", "message"},
	"computer":    {"computer", "machinename", "machine name"},
}

func importCSV(r io.Reader, name string, fn func(eventlog.Record) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return csvError(name, err)
	}
	header = slices.Clone(header)
	cr.ReuseRecord = true
	hline, _ := cr.FieldPos(0)
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for key, names := range csvColumns {
			for _, n := range names {
				if h == n {
					if _, dup := col[key]; !dup {
						col[key] = i
					}
				}
			}
		}
	}
	for _, need := range []struct{ key, label string }{{"source", "Source"}, {"id", "Event ID"}} {
		if _, ok := col[need.key]; !ok {
			return &ImportError{Name: name, Line: hline, Msg: fmt.Sprintf("CSV header has no %s column (found %q)", need.label, strings.Join(header, ","))}
		}
	}
	_, hasDT := col["datetime"]
	_, hasD := col["date"]
	if !hasDT && !hasD {
		return &ImportError{Name: name, Line: hline, Msg: fmt.Sprintf("CSV header has no \"Date and Time\" or \"Date\" column (found %q)", strings.Join(header, ","))}
	}
	desc, hasDesc := col["description"]
	if !hasDesc {
		// Event Viewer writes the description as an extra, unnamed column
		// after the last named one.
		desc = len(header)
		if len(header) > 0 && strings.TrimSpace(header[len(header)-1]) == "" {
			desc = len(header) - 1
		}
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) == 1 && strings.TrimSpace(row[0]) == "" {
			continue
		}
		get := func(key, label string) (string, int, error) {
			i, ok := col[key]
			if key == "description" {
				i, ok = desc, true
			}
			if !ok {
				return "", 0, nil
			}
			if i >= len(row) {
				if key == "description" || key == "category" || key == "computer" || key == "level" {
					return "", 0, nil
				}
				return "", 0, &ImportError{Name: name, Line: line, Field: label, Msg: fmt.Sprintf("row has %d fields, the column is number %d", len(row), i+1)}
			}
			_, c := cr.FieldPos(i)
			return strings.TrimSpace(row[i]), c, nil
		}
		src, _, err := get("source", "Source")
		if err != nil {
			return err
		}
		idText, idCol, err := get("id", "Event ID")
		if err != nil {
			return err
		}
		id, perr := strconv.Atoi(idText)
		if perr != nil || !validID(id) {
			return &ImportError{Name: name, Line: line, Col: idCol, Field: "Event ID", Msg: fmt.Sprintf("%q is not an event ID", idText)}
		}
		var when time.Time
		if hasDT {
			v, c, err := get("datetime", "Date and Time")
			if err != nil {
				return err
			}
			if when, perr = parseTime(v); perr != nil {
				return &ImportError{Name: name, Line: line, Col: c, Field: "Date and Time", Msg: perr.Error()}
			}
		} else {
			d, c, err := get("date", "Date")
			if err != nil {
				return err
			}
			t, _, err := get("time", "Time")
			if err != nil {
				return err
			}
			if when, perr = parseTime(strings.TrimSpace(d + " " + t)); perr != nil {
				return &ImportError{Name: name, Line: line, Col: c, Field: "Date", Msg: perr.Error()}
			}
		}
		if !isMTA(src) {
			continue
		}
		level, _, _ := get("level", "Level")
		cat, _, _ := get("category", "Task Category")
		comp, _, _ := get("computer", "Computer")
		text, _, _ := get("description", "Description")
		rec := eventlog.Record{Time: when, MTA: comp, Source: eventlog.Source, ID: id, Type: level, Category: cat}
		parseDescription(&rec, text)
		if err := fn(rec); err != nil {
			return err
		}
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line := pe.Line
		if pe.StartLine > 0 && pe.StartLine != pe.Line && errors.Is(pe.Err, csv.ErrQuote) {
			return &ImportError{Name: name, Line: pe.StartLine, Msg: fmt.Sprintf("a quoted field opens on this line and is not closed properly before line %d (%v)", pe.Line, pe.Err)}
		}
		return &ImportError{Name: name, Line: line, Col: pe.Column, Msg: pe.Err.Error()}
	}
	return &ImportError{Name: name, Msg: err.Error()}
}

// timeLayouts are the date-and-time forms accepted, tried in order. Times
// without a zone are taken as UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"1/2/2006 3:04:05 PM",
	"1/2/2006 3:04:05.999999999 PM",
	"1/2/2006 15:04:05",
	"1/2/2006 3:04 PM",
	"1/2/2006 15:04",
	"2006-01-02 3:04:05 PM",
	"02.01.2006 15:04:05",
}

func parseTime(s string) (time.Time, error) {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (want e.g. \"11/28/2026 9:00:00 PM\" or \"2026-11-28T21:00:00Z\")", s)
}

// ---- wevtutil -----------------------------------------------------------------

var (
	wevtEventRE = regexp.MustCompile(`^Event\[\d+\]:?\s*$`)
	wevtKeyRE   = regexp.MustCompile(`^\s+([A-Za-z][A-Za-z ]*?):\s?(.*)$`)
)

func importWevtutil(r io.Reader, name string, fn func(eventlog.Record) error) error {
	type block struct {
		line   int
		fields map[string]string
		lines  map[string]int
		desc   []string
		inDesc bool
	}
	var cur *block
	finish := func() error {
		if cur == nil {
			return nil
		}
		b := cur
		cur = nil
		for _, k := range []string{"source", "event id", "date"} {
			if _, ok := b.fields[k]; !ok {
				return &ImportError{Name: name, Line: b.line, Field: wevtLabel(k), Msg: "missing from this event"}
			}
		}
		id, err := strconv.Atoi(b.fields["event id"])
		if err != nil || !validID(id) {
			return &ImportError{Name: name, Line: b.lines["event id"], Field: "Event ID", Msg: fmt.Sprintf("%q is not an event ID", b.fields["event id"])}
		}
		when, err := parseTime(b.fields["date"])
		if err != nil {
			return &ImportError{Name: name, Line: b.lines["date"], Field: "Date", Msg: err.Error()}
		}
		if !isMTA(b.fields["source"]) {
			return nil
		}
		cat := b.fields["task"]
		if cat == "" {
			cat = b.fields["category"]
		}
		rec := eventlog.Record{Time: when, MTA: b.fields["computer"], Source: eventlog.Source, ID: id, Type: b.fields["level"], Category: cat}
		parseDescription(&rec, strings.Join(b.desc, "\n"))
		return fn(rec)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if wevtEventRE.MatchString(strings.TrimSpace(text)) && !strings.HasPrefix(text, " ") {
			if err := finish(); err != nil {
				return err
			}
			cur = &block{line: n, fields: map[string]string{}, lines: map[string]int{}}
			continue
		}
		if cur == nil {
			if strings.TrimSpace(text) == "" {
				continue
			}
			return &ImportError{Name: name, Line: n, Msg: fmt.Sprintf("text outside an Event[N]: block: %q", clip(strings.TrimSpace(text), 40))}
		}
		if cur.inDesc {
			cur.desc = append(cur.desc, text)
			continue
		}
		m := wevtKeyRE.FindStringSubmatch(text)
		if m == nil {
			if strings.TrimSpace(text) == "" {
				continue
			}
			return &ImportError{Name: name, Line: n, Msg: fmt.Sprintf("want \"  Key: value\" inside Event[N]: block, got %q", clip(strings.TrimSpace(text), 40))}
		}
		key := strings.ToLower(strings.TrimSpace(m[1]))
		if key == "description" {
			cur.inDesc = true
			if v := strings.TrimSpace(m[2]); v != "" {
				cur.desc = append(cur.desc, v)
			}
			continue
		}
		cur.fields[key] = strings.TrimSpace(m[2])
		cur.lines[key] = n
	}
	if err := sc.Err(); err != nil {
		return &ImportError{Name: name, Msg: err.Error()}
	}
	return finish()
}

func wevtLabel(k string) string {
	switch k {
	case "event id":
		return "Event ID"
	case "source":
		return "Source"
	case "date":
		return "Date"
	}
	return k
}

// ---- descriptions -------------------------------------------------------------

var (
	desc1004RE    = regexp.MustCompile(`association (\d+) with\s*entity\s*\.?\s*(.*?)\s*\.\s*The association`)
	desc1004TupRE = regexp.MustCompile(`\[(\d+) (\d+) (\d+) (\d+) PLATFORM KERNEL`)
	desc1008TupRE = regexp.MustCompile(`\[(\d+) (\d+) PLATFORM KERNEL`)
	descCBRE      = regexp.MustCompile(`Control block index:? (\d+)`)
	desc1198RE    = regexp.MustCompile(`to entity\s*(.*?)\s*\.\s*Presentation error`)
	desc1198TupRE = regexp.MustCompile(`Current state (\d+), service type (\d+), service flavor (\d+)`)
	descTypeRE    = regexp.MustCompile(`Type1\[(.*?)\s*PLATFORM KERNEL\]`)
	desc1294RE    = regexp.MustCompile(`association with\s*entity\s*(.*?)\s*ended abnormally`)
	desc9156RE    = regexp.MustCompile(`configured count is (\d+)`)
	descSocketRE  = regexp.MustCompile(`sockets error (\d+)`)
	descBuildRE   = regexp.MustCompile(`\(Build ([0-9.]*[0-9])\)`)
)

// parseDescription fills rec's Text and the fields its description carries.
// Whitespace (including the line breaks of a wrapped description) is
// collapsed first.
func parseDescription(rec *eventlog.Record, text string) {
	t := strings.Join(strings.Fields(text), " ")
	rec.Text = t
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch rec.ID {
	case eventlog.IDAssocError:
		if m := desc1004RE.FindStringSubmatch(t); m != nil {
			rec.Assoc, rec.Entity = atoi(m[1]), normalizeDN(m[2])
		}
		if m := desc1004TupRE.FindStringSubmatch(t); m != nil {
			rec.State, rec.Svc, rec.Flavor, rec.Reason = atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4])
		}
	case eventlog.IDAssocErrorAnon:
		if m := desc1008TupRE.FindStringSubmatch(t); m != nil {
			rec.State, rec.Svc = atoi(m[1]), atoi(m[2])
		}
	case eventlog.IDConnRefused:
		if m := descCBRE.FindStringSubmatch(t); m != nil {
			rec.KCB = atoi(m[1])
		}
		if m := descTypeRE.FindStringSubmatch(t); m != nil {
			rec.OwnDN = normalizeDN(m[1])
		}
	case eventlog.IDStateCheck:
		if m := desc1198RE.FindStringSubmatch(t); m != nil {
			rec.Entity = normalizeDN(m[1])
		}
		if m := desc1198TupRE.FindStringSubmatch(t); m != nil {
			rec.State, rec.Svc, rec.Flavor = atoi(m[1]), atoi(m[2]), atoi(m[3])
		}
		if m := descCBRE.FindStringSubmatch(t); m != nil {
			rec.KCB = atoi(m[1])
		}
	case eventlog.IDAbnormalEnd:
		if m := desc1294RE.FindStringSubmatch(t); m != nil {
			rec.Entity = normalizeDN(m[1])
		}
		if m := desc1004TupRE.FindStringSubmatch(t); m != nil {
			rec.State, rec.Svc, rec.Flavor, rec.Reason = atoi(m[1]), atoi(m[2]), atoi(m[3]), atoi(m[4])
		}
	case eventlog.IDNoControlBlocks:
		if m := desc9156RE.FindStringSubmatch(t); m != nil {
			rec.Limit = atoi(m[1])
		}
	case eventlog.IDStart, eventlog.IDStop:
		if m := descBuildRE.FindStringSubmatch(t); m != nil {
			rec.Build = m[1]
		}
	default:
		if m := descCBRE.FindStringSubmatch(t); m != nil {
			rec.KCB = atoi(m[1])
		}
		if m := descSocketRE.FindStringSubmatch(t); m != nil {
			rec.Socket = atoi(m[1])
		}
	}
}

// normalizeDN removes the spaces a wrapped description leaves around the
// slashes and equals signs of a DN ("CN=SERVERS /CN=" → "CN=SERVERS/CN=").
func normalizeDN(s string) string {
	s = strings.TrimSpace(s)
	for _, r := range []struct{ from, to string }{{" /", "/"}, {"/ ", "/"}, {"= ", "="}} {
		for strings.Contains(s, r.from) {
			s = strings.ReplaceAll(s, r.from, r.to)
		}
	}
	return s
}

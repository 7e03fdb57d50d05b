package repro

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

func importFile(t *testing.T, name string) ([]eventlog.Record, string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, format, err := ImportFormat(f, name)
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return recs, format
}

func countIDs(recs []eventlog.Record) map[int]int {
	m := map[int]int{}
	for _, r := range recs {
		m[r.ID]++
	}
	return m
}

func TestImportSamples(t *testing.T) {
	for _, c := range []struct {
		file, format string
		counts       map[int]int
	}{
		{"q152877-paris.csv", FormatCSV, map[int]int{1004: 36, 1008: 22, 1277: 55, 1198: 3}},
		{"q152877-boston.txt", FormatWevtutil, map[int]int{1004: 7, 1008: 18, 1277: 12}},
		{"q152877-lab.jsonl", FormatJSONL, map[int]int{1004: 37, 1008: 6, 1277: 48, 1198: 1}},
		{"outage.csv", FormatCSV, map[int]int{1004: 36}},
		{"mixed.csv", FormatCSV, map[int]int{1004: 23, 1008: 8, 1277: 22}},
		{"runs/cycle-sp0.jsonl", FormatJSONL, map[int]int{1004: 23, 1008: 3, 1277: 12}},
	} {
		t.Run(c.file, func(t *testing.T) {
			recs, format := importFile(t, c.file)
			if format != c.format {
				t.Errorf("format %q, want %q", format, c.format)
			}
			got := countIDs(recs)
			if len(got) != len(c.counts) {
				t.Errorf("ids %v, want %v", got, c.counts)
			}
			for id, n := range c.counts {
				if got[id] != n {
					t.Errorf("%d×%d, want %d", got[id], id, n)
				}
			}
			for i, r := range recs {
				if r.Source != eventlog.Source {
					t.Fatalf("record %d: source %q", i, r.Source)
				}
				if i > 0 && r.Time.Before(recs[i-1].Time) {
					t.Fatalf("record %d is older than the one before: not sorted", i)
				}
				if strings.Contains(r.Text, "\n") || r.Text == "" {
					t.Fatalf("record %d: text %q is not one non-empty line", i, r.Text)
				}
			}
		})
	}
}

// The fields the DESIGN.md section 4 texts carry are parsed from wrapped
// descriptions, including the KB's own typos.
func TestImportParsesDescriptions(t *testing.T) {
	recs, _ := importFile(t, "q152877-paris.csv")
	byID := map[int]eventlog.Record{}
	for _, r := range recs {
		if _, ok := byID[r.ID]; !ok {
			byID[r.ID] = r
		}
	}
	r := byID[1004]
	if r.Assoc != 41 || r.Entity != "/O=CONTOSO/OU=EUROPE/CN=CONFIGURATION/CN=SERVERS/CN=LONEX1/CN=MICROSOFT MTA" ||
		r.State != 2 || r.Svc != 20 || r.Flavor != 1 || r.Reason != 8 {
		t.Errorf("1004: %+v", r)
	}
	if !r.Time.Equal(time.Date(2026, 11, 28, 21, 0, 28, 0, time.UTC)) || r.Type != "Warning" || r.Category != "X.400 Service" {
		t.Errorf("1004 header fields: %v %q %q", r.Time, r.Type, r.Category)
	}
	if r := byID[1008]; r.State != 2 || r.Svc != 26 || r.Entity != "" {
		t.Errorf("1008: %+v", r)
	}
	if r := byID[1277]; r.KCB != 6 || r.OwnDN != "/O=CONTOSO/OU=EUROPE/CN=CONFIGURATION/CN=SERVERS/CN=PAREX2/CN=MICROSOFT MTA" {
		t.Errorf("1277: kcb %d own %q", r.KCB, r.OwnDN)
	}
	if r := byID[1198]; r.State != 0 || r.Svc != 20 || r.Flavor != 2 || r.KCB != 3 || r.Entity != "" {
		t.Errorf("1198: %+v", r)
	}

	// The KB's text, wrapped as in the article, with "entity./O=" and "SERVERS /CN".
	kb := "Event[0]:\n  Source: MSExchangeMTA\n  Date: 1999-03-28T10:00:00\n  Event ID: 1004\n  Description:\n" +
		"An error occurred while processing an association 1 with\n" +
		"entity./O=organization/OU=site/CN=CONFIGURATION/CN=SERVERS /CN=MICROSOFT MTA.\n" +
		"The association will be terminated and restarted if necessary. [2 20 1 8\nPLATFORM KERNEL 10] (14)\n"
	got, err := Import(strings.NewReader(kb), "kb.txt")
	if err != nil {
		t.Fatal(err)
	}
	if r := got[0]; r.Assoc != 1 || r.Entity != "/O=organization/OU=site/CN=CONFIGURATION/CN=SERVERS/CN=MICROSOFT MTA" || r.State != 2 || r.Reason != 8 {
		t.Errorf("KB 1004: %+v", r)
	}
}

func TestImportCSVVariants(t *testing.T) {
	desc := "An interoperability error occurred. Session error: the remotely initiated transport connection was refused. Control block index 4. Type1[/O=O/OU=S/CN=CONFIGURATION/CN=SERVERS/CN=X/CN=MICROSOFT MTA PLATFORM KERNEL] (14)"
	for _, c := range []struct{ name, text string }{
		{"named description, ISO time", "Level,Date and Time,Source,Event ID,Task Category,Description\r\nWarning,2026-11-28T21:00:00Z,MSExchangeMTA,1277,Interoperability,\"" + desc + "\"\r\n"},
		{"unnamed description column, BOM", "\ufeffLevel,Date and Time,Source,Event ID,Task Category\r\nWarning,11/28/2026 9:00:00 PM,MSExchangeMTA,1277,Interoperability,\"" + desc + "\"\r\n"},
		{"trailing empty header", "Level,Date and Time,Source,Event ID,Task Category,\nWarning,11/28/2026 9:00:00 PM,MSExchangeMTA,1277,Interoperability,\"" + desc + "\"\n"},
		{"Date + Time, Type, Event, Category, other order", "Type,Event,Date,Time,Source,Category,Description\nWarning,1277,11/28/2026,21:00:00,MSExchangeMTA,Interoperability,\"" + desc + "\"\n"},
		{"upper-case headers", "LEVEL,DATE AND TIME,SOURCE,EVENT ID,TASK CATEGORY,DESCRIPTION\nWarning,11/28/2026 9:00:00 PM,msexchangemta,1277,Interoperability,\"" + desc + "\"\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs, err := Import(strings.NewReader(c.text), "x.csv")
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("%d records", len(recs))
			}
			r := recs[0]
			if r.ID != 1277 || r.KCB != 4 || !r.Time.Equal(time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)) || r.Category != "Interoperability" {
				t.Errorf("%+v", r)
			}
		})
	}
}

func TestImportDropsOtherSources(t *testing.T) {
	recs, _ := importFile(t, "mixed.csv")
	for _, r := range recs {
		if r.Source != eventlog.Source {
			t.Fatalf("kept %q", r.Source)
		}
	}
	// "MSExchangeMTA Monitor" logs a 1004 too: not the MTA's.
	data, _ := os.ReadFile(filepath.Join("testdata", "mixed.csv"))
	if !bytes.Contains(data, []byte("MSExchangeMTA Monitor")) || !bytes.Contains(data, []byte("NETLOGON")) {
		t.Fatal("mixed.csv lost its other sources")
	}
}

func TestImportErrors(t *testing.T) {
	header := "Level,Date and Time,Source,Event ID,Task Category,Description\n"
	row := "Warning,11/28/2026 9:00:00 PM,MSExchangeMTA,1004,X.400 Service,text\n"
	for _, c := range []struct {
		name, text string
		line, col  int
		field      string
		msg        string
	}{
		{"empty", "  \n\n", 0, 0, "", "empty event log"},
		{"unknown format", "hello world\n", 1, 0, "", "unknown format"},
		{"CSV without Event ID", "Level,Date and Time,Source,Description\n" + row, 1, 0, "", "no Event ID column"},
		{"CSV without date", "Level,Source,Event ID,Description\nWarning,MSExchangeMTA,1004,x\n", 1, 0, "", "no \"Date and Time\""},
		{"CSV bad event id", header + row + "Warning,11/28/2026 9:00:00 PM,MSExchangeMTA,10x4,X.400 Service,text\n", 3, 45, "Event ID", "\"10x4\" is not an event ID"},
		{"CSV bad date", header + row + row + "Warning,28.13.2026 25:00,MSExchangeMTA,1004,X.400 Service,text\n", 4, 9, "Date and Time", "not a date and time"},
		{"CSV short row", header + "Warning,11/28/2026 9:00:00 PM,MSExchangeMTA\n", 2, 0, "Event ID", "row has 3 fields"},
		{"CSV unterminated quote", header + row + "Warning,11/28/2026 9:00:00 PM,MSExchangeMTA,1004,X.400 Service,\"text\nmore text\n", 3, 0, "", "quote"},
		{"CSV bad date of another source", header + "Information,yesterday,Tcpip,4199,None,x\n", 2, 13, "Date and Time", "not a date and time"},
		{"wevtutil missing Event ID", "Event[0]:\n  Source: MSExchangeMTA\n  Date: 2026-01-01T00:00:00\n  Description:\nx\nEvent[1]:\n  Source: MSExchangeMTA\n", 1, 0, "Event ID", "missing"},
		{"wevtutil bad date", "Event[0]:\n  Source: MSExchangeMTA\n  Date: soon\n  Event ID: 1004\n", 3, 0, "Date", "not a date and time"},
		{"wevtutil bad id", "Event[0]:\n  Source: MSExchangeMTA\n  Date: 2026-01-01T00:00:00\n  Event ID: abc\n", 4, 0, "Event ID", "not an event ID"},
		{"wevtutil stray line", "Event[0]:\n  Source: MSExchangeMTA\nnot a key\n", 3, 0, "", "Key: value"},
		{"jsonl broken line", `{"time":"2026-11-28T21:00:00Z","source":"MSExchangeMTA","id":1004}` + "\n\n" + `{"time":"2026-11-28T21:00:01Z",` + "\n", 3, 0, "", "not a JSON object"},
		{"jsonl missing id", `{"time":"2026-11-28T21:00:00Z","source":"MSExchangeMTA"}` + "\n", 1, 0, "id", "missing"},
		{"jsonl bad time", `{"time":"noon","source":"MSExchangeMTA","id":1004}` + "\n", 1, 0, "time", "bad time"},
		{"jsonl id not a number", `{"time":"2026-11-28T21:00:00Z","source":"MSExchangeMTA","id":"x"}` + "\n", 1, 0, "id", "got a JSON string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(strings.NewReader(c.text), "log")
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an *ImportError", err)
			}
			if ie.Line != c.line || ie.Col != c.col && c.col != 0 || ie.Field != c.field || !strings.Contains(ie.Msg, c.msg) {
				t.Errorf("got line %d col %d field %q msg %q (%v); want line %d col %d field %q msg ~%q",
					ie.Line, ie.Col, ie.Field, ie.Msg, err, c.line, c.col, c.field, c.msg)
			}
			if c.line > 0 && !strings.HasPrefix(err.Error(), "log:"+strconv.Itoa(c.line)) {
				t.Errorf("message %q does not start with log:%d", err.Error(), c.line)
			}
		})
	}
}

// A UTF-16 file (as PowerShell redirects wevtutil output) is decoded.
func TestImportUTF16(t *testing.T) {
	text := "Event[0]:\r\n  Source: MSExchangeMTA\r\n  Date: 2026-01-01T00:00:00.000\r\n  Event ID: 1008\r\n  Description: \r\n" +
		"An error occurred while processing an association with entity . The association will be terminated and restarted if necessary. [2 26 PLATFORM KERNEL ]\r\n"
	b := []byte{0xFF, 0xFE}
	for _, r := range text {
		b = append(b, byte(r), 0)
	}
	recs, err := Import(bytes.NewReader(b), "u16.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != 1008 || recs[0].State != 2 || recs[0].Svc != 26 {
		t.Fatalf("%+v", recs)
	}
}

// The companions' texts, as the stub renders them, parse back into their
// fields.
func TestImportParsesCompanions(t *testing.T) {
	entity := eventlog.DN("ORG", "SITE", "B")
	for _, want := range []eventlog.Record{
		{ID: eventlog.IDNoControlBlocks, Limit: 20},
		{ID: eventlog.IDConnectRefused, KCB: 2, Socket: 10061},
		{ID: eventlog.IDConnReset, KCB: 3, Socket: 10054},
		{ID: eventlog.IDAbnormalEnd, Entity: entity, State: 3, Svc: 20, Flavor: 1, Reason: 2},
		{ID: eventlog.IDStart, Build: "838.10"},
		{ID: eventlog.IDStop, Build: "993.6"},
	} {
		got := eventlog.Record{ID: want.ID}
		parseDescription(&got, eventlog.Render(want))
		got.Text = ""
		if got != want {
			t.Errorf("%d: parsed %+v, want %+v", want.ID, got, want)
		}
	}
}

// A large UTF-16 log read a byte at a time (units and lines split between
// reads) gives the signature of its UTF-8 original, either byte order.
func TestImportUTF16Streamed(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "q152877-boston.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := ImportSignature(bytes.NewReader(text), "boston")
	if err != nil {
		t.Fatal(err)
	}
	for _, be := range []bool{false, true} {
		b := []byte{0xFF, 0xFE}
		if be {
			b = []byte{0xFE, 0xFF}
		}
		for _, r := range string(text) {
			if be {
				b = append(b, byte(r>>8), byte(r))
			} else {
				b = append(b, byte(r), byte(r>>8))
			}
		}
		for _, r := range []io.Reader{bytes.NewReader(b), iotest.OneByteReader(bytes.NewReader(b)), iotest.HalfReader(bytes.NewReader(b))} {
			got, format, err := ImportSignature(r, "u16")
			if err != nil || format != FormatWevtutil {
				t.Fatalf("big-endian %v: %v (%s)", be, err, format)
			}
			gj, _ := got.JSON()
			wj, _ := want.JSON()
			if !bytes.Equal(gj, wj) {
				t.Fatalf("big-endian %v: %s\nwant %s", be, gj, wj)
			}
		}
	}
}

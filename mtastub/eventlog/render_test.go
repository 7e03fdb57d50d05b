package eventlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFormatText(t *testing.T) {
	r := designRecord()
	r.Time = time.Date(2026, 11, 28, 21, 0, 0, 123456000, time.UTC)
	want := "Event Type:\tWarning\nEvent Source:\tMSExchangeMTA\nEvent Category:\tX.400 Service\nEvent ID:\t1004\n" +
		"Date:\t11/28/2026\nTime:\t9:00:00 PM\nUser:\tN/A\nComputer:\tB\nDescription:\n" + r.Text + "\n"
	if got := FormatText(r); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	r.Time = time.Date(2026, 3, 5, 9, 7, 1, 0, time.UTC)
	if got := FormatText(r); !strings.Contains(got, "Date:\t3/5/2026\nTime:\t9:07:01 AM\n") {
		t.Errorf("morning date/time: %s", got)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, []Record{r, r}); err != nil {
		t.Fatal(err)
	}
	if buf.String() != FormatText(r)+"\n"+FormatText(r) {
		t.Errorf("WriteText: %q", buf.String())
	}
}

func TestWriteCSV(t *testing.T) {
	r := designRecord()
	anon := Complete(Record{Time: designTime, MTA: "B", ID: IDAssocErrorAnon, State: 2, Svc: 26})
	quoted := Complete(Record{Time: designTime, ID: IDStateCheck, Text: `say "hi", then stop`})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Record{r, anon, quoted}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "Level,Date and Time,Source,Event ID,Task Category,Description\r\n") {
		t.Errorf("header: %q", out)
	}
	if !strings.Contains(out, "\r\nWarning,11/28/2026 9:00:00 PM,MSExchangeMTA,1008,X.400 Service,An error occurred while processing an association with entity . The association will be terminated and restarted if necessary. [2 26 PLATFORM KERNEL ]\r\n") {
		t.Errorf("1008 row: %q", out)
	}
	// encoding/csv quotes only fields that need it: here the quotes and comma.
	if !strings.Contains(out, `,"say ""hi"", then stop"`+"\r\n") {
		t.Errorf("quoting: %q", out)
	}
	var b2 bytes.Buffer
	sc := Complete(Record{Time: designTime, ID: IDStateCheck, State: 0, Svc: 20, Flavor: 2, KCB: 3})
	if err := WriteCSV(&b2, []Record{sc}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b2.String(), `,"An error occurred while processing an association to entity . Presentation error: state check failure. Current state 0, service type 20, service flavor 2 Control block index 3. The association will be terminated and restarted if necessary. [PLATFORM KERNEL 27 108] (14)"`+"\r\n") {
		t.Errorf("1198 row not quoted: %q", b2.String())
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !reflect.DeepEqual(rows[0], CSVHeader()) {
		t.Fatalf("rows = %q", rows)
	}
	if want := []string{"Warning", "11/28/2026 9:00:00 PM", "MSExchangeMTA", "1004", "X.400 Service", r.Text}; !reflect.DeepEqual(rows[1], want) {
		t.Errorf("row 1 = %q\nwant %q", rows[1], want)
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	l := NewLog("B", fixedClock())
	defer l.Close()
	l.Emit(designRecord())
	l.Emit(Record{ID: IDConnRefused, KCB: 6, OwnDN: DN("", "", "B")})
	l.Emit(Record{ID: IDStart, Build: BuildSP0})
	l.Emit(Record{ID: IDConnReset, KCB: 2})
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, l.Records()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
	got, err := ReadJSONL(strings.NewReader("\n" + strings.ReplaceAll(buf.String(), "\n", "\r\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := l.Records()
	for i := range want {
		want[i].OwnDN = "" // not serialised
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip\n got %+v\nwant %+v", got, want)
	}
}

func TestReadJSONLErrorNamesLine(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []Record{designRecord(), designRecord()}); err != nil {
		t.Fatal(err)
	}
	in := buf.String() + "\n" + `{"id": "x"}` + "\n"
	recs, err := ReadJSONL(strings.NewReader(in))
	if err == nil || !strings.HasPrefix(err.Error(), "eventlog: line 4: ") {
		t.Fatalf("err = %v, want it to name line 4", err)
	}
	if len(recs) != 2 {
		t.Errorf("got %d records before the error, want 2", len(recs))
	}
	_, err = ReadJSONL(strings.NewReader(`{"time":"noon"}`))
	if err == nil || !strings.HasPrefix(err.Error(), "eventlog: line 1: ") {
		t.Errorf("bad time err = %v", err)
	}
	_, err = ReadJSONL(strings.NewReader("{\"id\":1004}\n{\"id\":"))
	if err == nil || !strings.HasPrefix(err.Error(), "eventlog: line 2: ") {
		t.Errorf("truncated last line err = %v", err)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriterErrors(t *testing.T) {
	for name, err := range map[string]error{
		"jsonl": WriteJSONL(failWriter{}, []Record{designRecord()}),
		"csv":   WriteCSV(failWriter{}, nil),
		"text":  WriteText(failWriter{}, []Record{designRecord()}),
	} {
		if err == nil || !strings.HasPrefix(err.Error(), "eventlog: ") || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

package eventlog

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var designTime = time.Date(2026, 11, 28, 21, 0, 0, 123456000, time.UTC)

func designRecord() Record {
	return Complete(Record{
		Time: designTime, MTA: "B", ID: IDAssocError,
		KCB: 3, State: 2, Svc: 20, Flavor: 1, Reason: 8, Assoc: 1,
		Entity: DN("", "", "A"),
	})
}

// jsonKeys returns the top-level keys of a JSON object in order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s (%v)", b, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func TestRecordJSONKeys(t *testing.T) {
	b, err := json.Marshal(designRecord())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"time", "mta", "source", "id", "category", "type", "severity",
		"kcb", "state", "svc", "flavor", "reason", "assoc", "entity", "text"}
	if got := jsonKeys(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %v\nwant %v", got, want)
	}

	// Zero values are still present.
	b, _ = json.Marshal(Record{ID: IDAssocErrorAnon})
	if got := jsonKeys(t, b); !reflect.DeepEqual(got, want) {
		t.Errorf("zero-record keys = %v\nwant %v", got, want)
	}

	// The extensions follow, only when set; OwnDN never appears.
	b, _ = json.Marshal(Record{ID: IDStart, Build: "838.10", Socket: 10061, Limit: 8, OwnDN: "x"})
	if got := jsonKeys(t, b); !reflect.DeepEqual(got, append(want, "build", "socket_error", "limit")) {
		t.Errorf("extended keys = %v", got)
	}
}

func TestRecordJSONLine(t *testing.T) {
	b, err := json.Marshal(designRecord())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-11-28T21:00:00.123456Z","mta":"B","source":"MSExchangeMTA","id":1004,` +
		`"category":"X.400 Service","type":"Warning","severity":14,"kcb":3,"state":2,"svc":20,` +
		`"flavor":1,"reason":8,"assoc":1,"entity":"/O=ORG/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=A/CN=MICROSOFT MTA",` +
		`"text":"An error occurred while processing an association 1 with entity /O=ORG/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=A/CN=MICROSOFT MTA. The association will be terminated and restarted if necessary. [2 20 1 8 PLATFORM KERNEL 10] (14)"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestRecordTimeFormat(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC):                       "2026-11-28T21:00:00.000000Z",
		time.Date(2026, 11, 28, 21, 0, 0, 999, time.UTC):                     "2026-11-28T21:00:00.000000Z",
		time.Date(2026, 11, 28, 22, 0, 0, 5000, time.FixedZone("CET", 3600)): "2026-11-28T21:00:00.000005Z",
	}
	for in, want := range cases {
		b, _ := json.Marshal(Record{Time: in})
		if !strings.HasPrefix(string(b), `{"time":"`+want+`"`) {
			t.Errorf("%v: got %s, want time %s", in, b, want)
		}
	}
}

func TestRecordJSONRoundTrip(t *testing.T) {
	in := designRecord()
	in.Build, in.Socket, in.Limit = "993.6", 10054, 4
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Record
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(in.Time) {
		t.Errorf("time %v, want %v", out.Time, in.Time)
	}
	out.Time = in.Time
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip\n got %+v\nwant %+v", out, in)
	}
	var bad Record
	if err := json.Unmarshal([]byte(`{"time":"yesterday"}`), &bad); err == nil || !strings.HasPrefix(err.Error(), "eventlog: ") {
		t.Errorf("bad time error = %v", err)
	}
}

func TestRecordJSONNoHTMLEscape(t *testing.T) {
	// json.Marshal re-escapes any Marshaler's output; the JSONL writer does not.
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []Record{{Entity: "<a&b>"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"entity":"<a&b>"`) {
		t.Errorf("escaped: %s", buf.String())
	}
}

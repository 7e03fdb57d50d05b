package repro

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

func sigOf(t *testing.T, file string) Signature {
	t.Helper()
	recs, _ := importFile(t, file)
	return NewSignature(recs)
}

func TestSignatureOfSamples(t *testing.T) {
	s := sigOf(t, "q152877-paris.csv")
	if s.Events != 116 || !slices.Equal(s.Order, []int{1004, 1008, 1277, 1198}) {
		t.Errorf("events %d order %v", s.Events, s.Order)
	}
	if s.Start != time.Date(2026, 11, 28, 21, 0, 28, 0, time.UTC) || s.SpanS != 5561 {
		t.Errorf("start %v span %v", s.Start, s.SpanS)
	}
	want := []IDStat{
		{ID: 1004, Count: 36, PerMinute: 0.39, FirstS: 0, Entities: "set", Tuples: map[string]int{"[2 20 1 8]": 36}},
		{ID: 1008, Count: 22, PerMinute: 0.24, FirstS: 70, Entities: "blank", Tuples: map[string]int{"[2 26]": 22}},
		{ID: 1277, Count: 55, PerMinute: 0.59, FirstS: 1369},
		{ID: 1198, Count: 3, PerMinute: 0.03, FirstS: 2270, Entities: "blank", Tuples: map[string]int{"[0 20 2]": 3}},
	}
	for i, w := range want {
		g := s.IDs[i]
		if g.ID != w.ID || g.Count != w.Count || g.PerMinute != w.PerMinute || g.FirstS != w.FirstS || g.Entities != w.Entities || len(g.Tuples) != len(w.Tuples) {
			t.Errorf("ids[%d] = %+v, want %+v", i, g, w)
		}
		for k, n := range w.Tuples {
			if g.Tuples[k] != n {
				t.Errorf("ids[%d] tuple %s ×%d, want %d", i, k, g.Tuples[k], n)
			}
		}
	}
	wantCB := []ControlBlock{{1198, 3, 3}, {1277, 6, 47}, {1277, 7, 8}}
	if !slices.Equal(s.ControlBlocks, wantCB) {
		t.Errorf("control blocks %v, want %v", s.ControlBlocks, wantCB)
	}
	if !s.Leak || !s.StateCheckKB || s.OpenErrors != 58 {
		t.Errorf("leak %v kb %v open errors %d", s.Leak, s.StateCheckKB, s.OpenErrors)
	}

	o := sigOf(t, "outage.csv")
	if o.Leak || o.StateCheckKB || o.OpenErrors != 0 || !slices.Equal(o.Core(), []int{1004}) || len(o.ControlBlocks) != 0 ||
		!slices.Equal(o.Computers, []string{"BRANCH7"}) {
		t.Errorf("outage: %+v", o)
	}
	b := sigOf(t, "q152877-boston.txt")
	if !b.Leak || !slices.Equal(b.Order, []int{1008, 1004, 1277}) || b.Has(1198) || !slices.Equal(b.ControlBlocks, []ControlBlock{{1277, 3, 12}}) {
		t.Errorf("boston: %+v", b)
	}
}

// Pool pressure refuses with 1277 naming one control block over and over,
// but no open fails in state 2: not a leak.
func TestSignatureLeakNeedsOpenErrors(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []eventlog.Record
	for i := range 5 {
		recs = append(recs, eventlog.Record{Time: t0.Add(time.Duration(i) * time.Second), Source: eventlog.Source, ID: 1277, KCB: 3})
	}
	if s := NewSignature(recs); s.Leak {
		t.Error("pressure counted as a leak")
	}
	recs = append(recs, eventlog.Record{Time: t0, Source: eventlog.Source, ID: 1008, State: 2, Svc: 26})
	if s := NewSignature(recs); !s.Leak {
		t.Error("1277 repeating control block 3 with an open error in state 2 is the leak")
	}
	// Other sources do not count.
	recs = append(recs, eventlog.Record{Time: t0, Source: "Tcpip", ID: 4199})
	if s := NewSignature(recs); s.Events != 6 {
		t.Errorf("events %d", s.Events)
	}
}

func TestSignatureRendering(t *testing.T) {
	s := sigOf(t, "q152877-paris.csv")
	text := s.String()
	for _, want := range []string{"116 MSExchangeMTA events over 1h32m41s", "1004 → 1008 → 1277 → 1198", "1277@6 ×47", "leak indicator:  yes", "[2 20 1 8]×36", "blank"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	data, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Signature
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Events != s.Events || !slices.Equal(back.Order, s.Order) || back.Leak != s.Leak || len(back.IDs) != 4 || back.IDs[2].Count != 55 {
		t.Errorf("JSON round trip: %+v", back)
	}
	for _, key := range []string{`"ids"`, `"order"`, `"control_blocks"`, `"leak"`, `"per_minute"`, `"entities"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	if got := NewSignature(nil).String(); !strings.Contains(got, "no MSExchangeMTA events") {
		t.Errorf("empty: %q", got)
	}
}

package report

import (
	"bytes"
	"fmt"
	"image/color"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// reportYAML has markup in its description and a comment, which the report
// must show escaped.
const reportYAML = `version: 1
name: report-hand
description: "a <script>alert('x')</script> & <b>bold</b> scenario"
seed: 42
defaults:
  mode: sp0
  kcbs: 4
mtas:
  - name: A
  - name: B
links:
  - {from: A, to: B}
  - {from: B, to: A}
traffic:
  - {from: A, to: B, messages: 3, size: 1KiB, rate: 10/s, start: 0s}
faults:  # <img src=x onerror=alert(1)>
  - {at: 1s, until: 2s, link: A->B, type: refuse}
actions:
  - {at: 3s, restart: B}
expect:
  events:
    - {mta: B, id: 1277, max: 0}
  recovery: {within: 3s, delivered: all}
duration: 10s
`

// handInput is a made-up judged run: a refuse on A->B and a latency
// toxic on B->A, events of every kind, samples with a leak and a stop. Its
// summary is what harness's judge says of it.
func handInput(t testing.TB) *Input {
	t.Helper()
	sc, err := scenario.LoadBytes("report.yaml", []byte(reportYAML))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	lat := &toxi.Toxic{Name: "f1-latency", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 100}}
	in := &Input{
		Scenario: sc,
		Schedule: &faults.Schedule{Scenario: "report-hand", Seed: 42, Toggles: []faults.Toggle{
			{Offset: time.Second, Link: "A->B", Fault: 0, Type: "refuse", Action: faults.ActDisable},
			{Offset: 1500 * time.Millisecond, Link: "B->A", Fault: 1, Type: "latency", Action: faults.ActAddToxic, Toxic: lat},
			{Offset: 1700 * time.Millisecond, Link: "B->A", Fault: 1, Type: "latency", Action: faults.ActUpdateToxic, Toxic: lat},
			{Offset: 2 * time.Second, Link: "A->B", Fault: 0, Type: "refuse", Action: faults.ActEnable, Heal: true},
			{Offset: 2500 * time.Millisecond, Link: "B->A", Fault: 1, Type: "latency", Action: faults.ActRemoveToxic, Heal: true, Toxic: lat},
		}},
		Ledger: []result.LedgerEntry{{Phase: "action", Planned: 3, At: 3.01, Fault: -1, Action: "restart", MTA: "B"}},
	}
	for i, id := range []string{"m0", "m1", "m2"} {
		ts := 0.1 + float64(i)*1.5
		in.Deliveries = append(in.Deliveries, result.DeliveryRecord{Delivery: kernel.Delivery{ID: id, From: "A", To: "B", Size: 1024, At: at(ts)}, T: ts})
	}
	for i, id := range []int{1004, 1008, 1198, 1277, 1277, 9215} {
		in.Events = append(in.Events, eventlog.Record{Time: at(1.1 + 0.2*float64(i)), MTA: "B", Source: eventlog.Source, ID: id})
	}
	in.Events = append(in.Events, eventlog.Record{Time: at(1.05), MTA: "A", Source: eventlog.Source, ID: 1004})
	for i := range 80 {
		ts := float64(i) * 0.05
		leaked := 0
		if ts > 1.3 && ts < 3 {
			leaked = 2
		}
		in.Samples = append(in.Samples,
			result.Sample{T: ts, MTA: "A", Idle: 3, Queued: i % 7, Running: true},
			result.Sample{T: ts, MTA: "B", Idle: 3 - leaked, Leaked: leaked, Running: ts < 3 || ts > 3.1})
	}
	recovery := 0.1
	in.Summary = result.Summary{Scenario: "report-hand", Seed: 42, Verdict: result.Failed, DurationS: 4,
		RecoveryS: &recovery, AnchorS: 3, LeakedBeforeAnchor: 2,
		Checks: []result.Check{
			{Name: "delivery", Verdict: result.Passed, Detail: "3 of 3 delivered exactly once: 3 submitted, 3 delivered, 0 undelivered, 0 duplicated"},
			{Name: "recovery", Verdict: result.Passed, Detail: "3 of 3 delivered, 0.100s after the anchor 3.000s (bound 3s)"},
			{Name: "events B 1277", Verdict: result.Failed, Detail: "B: 2×1277 (want ≤0)"},
			{Name: "faults", Verdict: result.Unknown, Detail: "fault 0 (refuse A->B): none of its 2 toggles verified on the wire; fault 1 (latency B->A): none of its 2 toggles verified on the wire; 0 of 4 toggles of 2 faults verified on the wire"},
			{Name: "validity", Verdict: result.Passed, Detail: "1 delivered before the first fault at 1s"},
		},
		MTAs: map[string]*result.MTASummary{
			"A": {Mode: "sp0", Events: map[string]int{}},
			"B": {Mode: "sp0", Events: map[string]int{}},
		},
		Pairs: []result.PairSummary{{From: "A", To: "B", Declared: 3, Submitted: 3, Delivered: 3}},
	}
	for _, e := range in.Events {
		in.Summary.MTAs[e.MTA].Events[strconv.Itoa(e.ID)]++
	}
	return in
}

// remoteRefRE finds anything that would make a browser fetch over the
// network: src/href attributes, CSS url() and @import with an http(s) URL.
var remoteRefRE = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?\s*(https?:)?//|@import|<script\b[^>]*\bsrc|<link\b`)

// checkReportHTML asserts the properties every report has: self-contained,
// one <svg per chart (above ChartsUpTo MTAs, the one of the summary view),
// the scenario escaped.
func checkReportHTML(t *testing.T, html string, sc *scenario.Scenario, s result.Summary) {
	t.Helper()
	if m := remoteRefRE.FindString(html); m != "" {
		t.Errorf("report references a resource: %q", m)
	}
	if strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Errorf("report names a URL")
	}
	if strings.Contains(html, "<script") {
		t.Errorf("report has a <script> element")
	}
	summary := len(sc.MTAs) > ChartsUpTo
	want, counts := len(sc.Links)+3*len(sc.MTAs), "Event counts per MTA"
	if summary { // one figure of heat maps instead of charts
		want, counts = 1, "Totals per MTA, worst first"
		if n := strings.Count(html, `<figure class="heatmap"`); n != 1 {
			t.Errorf("%d heat map figures for %d MTAs, want 1", n, len(sc.MTAs))
		}
	}
	if n := strings.Count(html, "<svg"); n != want {
		t.Errorf("%d <svg elements, want %d (one per chart)", n, want)
	}
	if n := strings.Count(html, `<figure class="chart`); n != want && !summary {
		t.Errorf("%d charts, want %d", n, want)
	}
	for _, want := range []string{s.Scenario, s.Verdict, "Checks", counts, "Scenario as run"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, c := range s.Checks {
		if !strings.Contains(html, `<td class="c-`+c.Verdict+`">`+c.Verdict+`</td>`) {
			t.Errorf("check %s (%s) not shown with its verdict", c.Name, c.Verdict)
		}
	}
	for _, l := range sc.Links {
		if summary {
			break // no chart per link
		}
		if !strings.Contains(html, "Link "+strings.ReplaceAll(l.String(), ">", "&gt;")) {
			t.Errorf("no chart for link %s", l)
		}
	}
}

func TestReportHandMade(t *testing.T) {
	in := handInput(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	checkReportHTML(t, html, in.Scenario, in.Summary)
	for _, raw := range []string{"<script>alert", "<b>bold</b>", "<img src=x"} {
		if strings.Contains(html, raw) {
			t.Errorf("scenario text %q not escaped", raw)
		}
	}
	for _, esc := range []string{"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&amp; &lt;b&gt;bold&lt;/b&gt;"} {
		if !strings.Contains(html, esc) {
			t.Errorf("report lacks the escaped text %q", esc)
		}
	}
	// The charts carry what they show: both fault rows, the legend of the
	// event ids with counts, the restart marker, the pool series.
	for _, s := range []string{"f0 refuse", "f1 latency", "1277 connection refused (2)", "1198 state check (1)", "restart B", "KCBs leaked", "queued messages", "9215"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
	if !strings.Contains(html, `class="verdict v-failed"`) {
		t.Errorf("verdict %s not shown as failed", in.Summary.Verdict)
	}
	// Every pair's accounting is shown.
	pair := `<tr><th scope="row">A</th><td>B</td><td class="num">3</td><td class="num">3</td><td class="num">0</td><td class="num">3</td><td class="num">0</td><td class="num">0</td></tr>`
	if !strings.Contains(html, "Messages per pair") || !strings.Contains(html, pair) {
		t.Errorf("report lacks the pair row %s", pair)
	}
}

// TestLinkFaults checks that the schedule's activity (faults.Schedule.Activity,
// tested in faults) reaches the charts in seconds, labelled, and that the
// shading is the union over the links.
func TestLinkFaults(t *testing.T) {
	in := handInput(t)
	rows := linkFaults(in.Schedule, "B->A", 4)
	if len(rows) != 1 || rows[0].label != "f1 latency" || rows[0].typ != "latency" || rows[0].span != (interval{1.5, 2.5}) ||
		!slices.Equal(rows[0].active, []interval{{1.5, 2.5}}) || !slices.Equal(rows[0].updates, []float64{1.7}) {
		t.Errorf("B->A rows = %s", rowsText(rows))
	}
	// A fault the schedule never heals runs to the end of the chart.
	open := &faults.Schedule{Toggles: []faults.Toggle{{Offset: time.Second, Link: "A->B", Fault: 2, Type: "blackhole", Action: faults.ActDisable}}}
	rows = linkFaults(open, "A->B", 7.25)
	if len(rows) != 1 || rows[0].label != "f2 blackhole" || rows[0].span != (interval{1, 7.25}) || !slices.Equal(rows[0].active, []interval{{1, 7.25}}) {
		t.Errorf("open fault rows = %s", rowsText(rows))
	}
	if rows := linkFaults(nil, "A->B", 7); rows != nil {
		t.Errorf("no schedule: rows %s", rowsText(rows))
	}
	if got := faultWindows(in, 4); !slices.Equal(got, []interval{{1, 2.5}}) {
		t.Errorf("faultWindows = %v, want [{1 2.5}] (A->B 1-2 s and B->A 1.5-2.5 s)", got)
	}
}

func rowsText(rows []*faultRow) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%+v", *r))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestReportWithoutFaultsOrDeliveries(t *testing.T) {
	in := handInput(t)
	in.Schedule = &faults.Schedule{}
	in.Deliveries = nil
	in.Ledger = nil
	var buf bytes.Buffer
	if err := WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	checkReportHTML(t, html, in.Scenario, in.Summary)
	for _, s := range []string{"no faults", "placed from the first event", "restart B"} {
		if !strings.Contains(html, s) {
			t.Errorf("report lacks %q", s)
		}
	}
}

// TestSecondsTicksLabels checks that the time axis labels are short
// numbers (no 0.6000000000000001) for runs of any length.
func TestSecondsTicksLabels(t *testing.T) {
	for _, hi := range []float64{0.7, 2.3, 2.9, 7.7, 11, 95, 1800} {
		labels := 0
		for _, tk := range (secondsTicks{}).Ticks(0, hi) {
			if tk.Label == "" {
				continue
			}
			labels++
			if len(tk.Label) > 5 {
				t.Errorf("span %g: label %q", hi, tk.Label)
			}
		}
		if labels < 2 {
			t.Errorf("span %g: %d labels", hi, labels)
		}
	}
}

// TestEventGlyphsDifferInShape draws every event id's marker in one colour:
// the markers must still differ, so that the ids stay apart in greyscale
// (and for a reader who cannot tell the colours apart).
func TestEventGlyphsDifferInShape(t *testing.T) {
	styles := append(append(slices.Clone(eventStyles), catalogueEventStyles...), otherEventStyle)
	seen := map[string]int{}
	for i, st := range styles {
		c := vgsvg.New(20, 20)
		dc := draw.NewCanvas(c, 20, 20)
		st.shape.DrawGlyph(&dc, draw.GlyphStyle{Color: color.Black, Radius: 4}, vg.Point{X: 10, Y: 10})
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if j, dup := seen[buf.String()]; dup {
			t.Errorf("styles %d and %d (%T) draw the same marker", j, i, st.shape)
		}
		seen[buf.String()] = i
	}
	// An events chart gives the catalogue's other ids their own styles, in
	// order of id, and an id the catalogue does not know the grey one.
	in := handInput(t) // B logs 9215, outside eventStyles
	for _, id := range []int{9156, 2035, 4284, 4287, 7777} {
		in.Events = append(in.Events, eventlog.Record{Time: in.Events[0].Time, MTA: "B", Source: eventlog.Source, ID: id})
	}
	styles, _ = mtaEventStyles("B", in)
	shapes := map[string]int{}
	for _, st := range styles {
		shapes[fmt.Sprintf("%T", st.shape)]++
	}
	if want := len(eventStyles) + 6; len(styles) != want || len(shapes) != want {
		t.Errorf("events chart has %d rows and %d shapes, want %d of each: %v", len(styles), len(shapes), want, shapes)
	}
	for _, st := range styles[len(eventStyles):] {
		if c := slices.IndexFunc(catalogueEventStyles, func(c eventStyle) bool { return c.id == st.id }); c >= 0 && st != catalogueEventStyles[c] {
			t.Errorf("id %d drawn as %+v, want its catalogue style", st.id, st)
		} else if c < 0 && (st.id != 7777 || st.shape != otherEventStyle.shape) {
			t.Errorf("id %d drawn as %+v, want the grey style of unknown ids", st.id, st)
		}
	}
}

func TestBuildsFact(t *testing.T) {
	got := buildsFact(map[string]*result.MTASummary{
		"A0": {Build: "5.5-sp2", Defects: []string{"Q229643", "Q232602"}},
		"B0": {Build: "5.5-sp2", Defects: []string{"Q229643", "Q232602"}},
		"A2": {Build: "5.5-sp3", Defects: []string{"Q247419"}},
		"B2": {Build: "5.5-sp4", Defects: []string{}},
		"C":  {Mode: "sp0"},
	})
	want := "A0, B0: 5.5-sp2 (Q229643, Q232602) · A2: 5.5-sp3 (Q247419) · B2: 5.5-sp4 (no known defect) · C: sp0"
	if got != want {
		t.Errorf("buildsFact = %q\nwant          %q", got, want)
	}
}

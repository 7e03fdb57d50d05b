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

	"github.com/mtastorm/mtastorm/harness/result"
)

// heatCells is a summary view's figure as drawn: per panel kind, per MTA,
// the class of each painted bucket.
type heatCells struct {
	step    float64
	cols    int
	painted map[string]int // the panel's data-cells
	// rows lists each panel's MTAs in drawing order.
	rows  map[string][]string
	cells map[string]map[string]map[int]string
}

var (
	heatSVGRE   = regexp.MustCompile(`<svg role="img" aria-labelledby="heatmap-cap" class="heat" viewBox="[^"]*" data-rows="(\d+)" data-cols="(\d+)" data-step="([^"]+)">`)
	heatPanelRE = regexp.MustCompile(`<g class="panel" data-kind="(\w+)" data-cells="(\d+)"[^>]*>(.*?)<rect class="frame"`)
	heatRowRE   = regexp.MustCompile(`<g class="row" data-mta="([^"]+)"><title>[^<]*</title><rect [^>]*/>((?:<path [^>]*/>)*)</g>`)
	heatPathRE  = regexp.MustCompile(`<path class="([^"]+)" d="([^"]+)"/>`)
	heatRunRE   = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// parseHeat decodes the summary view's figure from a report, failing the
// test when it is missing or malformed.
func parseHeat(t *testing.T, html string) heatCells {
	t.Helper()
	m := heatSVGRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no heat map <svg> in the report")
	}
	h := heatCells{painted: map[string]int{}, rows: map[string][]string{}, cells: map[string]map[string]map[int]string{}}
	h.cols, _ = strconv.Atoi(m[2])
	h.step, _ = strconv.ParseFloat(m[3], 64)
	for _, p := range heatPanelRE.FindAllStringSubmatch(html, -1) {
		kind := p[1]
		h.painted[kind], _ = strconv.Atoi(p[2])
		h.cells[kind] = map[string]map[int]string{}
		for _, r := range heatRowRE.FindAllStringSubmatch(p[3], -1) {
			mta := r[1]
			h.rows[kind] = append(h.rows[kind], mta)
			cells := map[int]string{}
			h.cells[kind][mta] = cells
			for _, path := range heatPathRE.FindAllStringSubmatch(r[2], -1) {
				for _, run := range heatRunRE.FindAllStringSubmatch(path[2], -1) {
					x, _ := strconv.Atoi(run[1])
					n, _ := strconv.Atoi(run[3])
					if run[3] != run[4] || n <= 0 || x+n > h.cols {
						t.Fatalf("%s %s: bad run %q", kind, mta, run[0])
					}
					for c := x; c < x+n; c++ {
						if prev, dup := cells[c]; dup {
							t.Fatalf("%s %s: bucket %d painted twice (%s, %s)", kind, mta, c, prev, path[1])
						}
						cells[c] = path[1]
					}
				}
			}
		}
	}
	return h
}

// total counts the painted buckets of a panel.
func (h heatCells) total(kind string) int {
	n := 0
	for _, cells := range h.cells[kind] {
		n += len(cells)
	}
	return n
}

// TestSummaryViewOrg200 draws the report of a synthetic 200-MTA run and
// checks the summary view against the run's records, computed here
// independently of the view: every MTA a row, worst first, each bucket
// painted from what its samples and events say.
func TestSummaryViewOrg200(t *testing.T) {
	in, truth := syntheticOrg(t, 200, 30*time.Second, 1)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	checkReportHTML(t, html, in.Scenario, in.Summary)
	h := parseHeat(t, html)
	if h.cols != 60 || h.step != 0.5 {
		t.Errorf("%d buckets of %g s, want 60 of 0.5 s for a 30 s run", h.cols, h.step)
	}
	bucket := func(ts float64) int { return max(0, min(h.cols-1, int(ts/h.step))) }

	// Every MTA once per panel, the same order in the three panels and
	// in the totals table.
	var table []string
	for _, m := range regexp.MustCompile(`<tr data-mta="([^"]+)">`).FindAllStringSubmatch(html, -1) {
		table = append(table, m[1])
	}
	for _, kind := range []string{"faults", "pool", "events"} {
		if len(h.rows[kind]) != 200 {
			t.Fatalf("%s panel: %d rows, want 200", kind, len(h.rows[kind]))
		}
		if !slices.Equal(h.rows[kind], table) {
			t.Errorf("%s panel rows %v…, totals table %v…: not the same order", kind, h.rows[kind][:5], table[:min(5, len(table))])
		}
		if h.painted[kind] != h.total(kind) {
			t.Errorf("%s panel: data-cells %d, %d painted", kind, h.painted[kind], h.total(kind))
		}
	}
	// Worst first: MTAs still leaking at the end (most first), then those
	// that leaked, then undelivered; the hub (most events) before quiet
	// spokes.
	rank := func(m *result.MTASummary) [2]int {
		switch {
		case m.LeakedAtEnd > 0:
			return [2]int{0, -m.LeakedAtEnd}
		case m.KCBsLeaked > 0:
			return [2]int{1, -m.KCBsLeaked}
		}
		return [2]int{2, 0}
	}
	rows := h.rows["pool"]
	for i := 1; i < len(rows); i++ {
		a, b := rank(in.Summary.MTAs[rows[i-1]]), rank(in.Summary.MTAs[rows[i]])
		if a[0] > b[0] || a[0] == b[0] && a[1] > b[1] {
			t.Errorf("row %d %s %v before row %d %s %v: not worst first", i, rows[i-1], a, i+1, rows[i], b)
		}
	}
	// A header before each group, once, worst group first, with its count.
	var headers, wantHeaders []string
	for _, m := range regexp.MustCompile(`<text class="grp"[^>]*>([^<]+)</text>`).FindAllStringSubmatch(html, -1) {
		headers = append(headers, m[1])
	}
	groupOf := func(name string) heatGroup {
		m := in.Summary.MTAs[name]
		switch {
		case m.LeakedAtEnd > 0:
			return groupLeakedAtEnd
		case m.KCBsLeaked > 0:
			return groupLeaked
		}
		for _, p := range in.Summary.Pairs {
			if p.Undelivered > 0 && (p.From == name || p.To == name) {
				return groupUndelivered
			}
		}
		return groupEvents // every MTA of the run logs events
	}
	sizes := map[heatGroup]int{}
	for _, r := range rows {
		sizes[groupOf(r)]++
	}
	for g, name := range heatGroupNames {
		if n := sizes[heatGroup(g)]; n > 0 {
			wantHeaders = append(wantHeaders, fmt.Sprintf("%s (%d)", name, n))
		}
	}
	if !slices.Equal(headers, wantHeaders) {
		t.Errorf("group headers %q, want %q", headers, wantHeaders)
	}
	leakers := 0
	for name, m := range in.Summary.MTAs {
		if m.KCBsLeaked > 0 {
			leakers++
			if _, ok := truth.Leaky[name]; !ok {
				t.Fatalf("%s leaked but syntheticOrg did not make it leak", name)
			}
		}
	}
	if leakers == 0 || leakers == len(rows) {
		t.Fatalf("%d of %d MTAs leak: the synthetic run must have both", leakers, len(rows))
	}

	// The pool: a bucket is red exactly where a sample shows a leak,
	// grey where the MTA was stopped and leaked nothing.
	leaked, stopped := map[string]map[int]bool{}, map[string]map[int]bool{}
	for _, s := range in.Samples {
		if leaked[s.MTA] == nil {
			leaked[s.MTA], stopped[s.MTA] = map[int]bool{}, map[int]bool{}
		}
		if s.Leaked > 0 {
			leaked[s.MTA][bucket(s.T)] = true
		}
		if !s.Running {
			stopped[s.MTA][bucket(s.T)] = true
		}
	}
	for mta, cells := range h.cells["pool"] {
		for b := range h.cols {
			cl := cells[b]
			switch {
			case leaked[mta][b] != strings.HasPrefix(cl, "l"):
				t.Errorf("pool %s bucket %d: class %q, a leak in its samples: %v", mta, b, cl, leaked[mta][b])
			case !leaked[mta][b] && stopped[mta][b] && cl != "st":
				t.Errorf("pool %s bucket %d: class %q, want st (stopped)", mta, b, cl)
			}
		}
	}
	// A restart of a leaking MTA: the bucket holds samples leaking and
	// samples stopped, and the leak is what it shows.
	leakStop := 0
	for mta := range truth.Stopped {
		want := "st"
		if leaked[mta][bucket(13.8)] {
			want = "l"
			leakStop++
		}
		if cl := h.cells["pool"][mta][bucket(13.8)]; !strings.HasPrefix(cl, want) {
			t.Errorf("pool %s at 13.8 s, where it was stopped: class %q, want %s", mta, cl, want)
		}
	}
	if leakStop == 0 {
		t.Fatalf("no MTA of the synthetic run leaks and is restarted: the test needs one")
	}

	// The events: a bucket is painted where the MTA logged an event, in
	// the colour of its most frequent id (the lower on a tie).
	rt := newReportTimes(in)
	counts := map[string]map[int]map[int]int{}
	for _, e := range in.Events {
		if counts[e.MTA] == nil {
			counts[e.MTA] = map[int]map[int]int{}
		}
		b := bucket(rt.of(e.Time))
		if counts[e.MTA][b] == nil {
			counts[e.MTA][b] = map[int]int{}
		}
		counts[e.MTA][b][e.ID]++
	}
	for mta, cells := range h.cells["events"] {
		if len(cells) != len(counts[mta]) {
			t.Errorf("events %s: %d buckets painted, %d with events", mta, len(cells), len(counts[mta]))
		}
		for b, byID := range counts[mta] {
			top, best := 0, 0
			for id, n := range byID {
				if n > best || n == best && id < top {
					top, best = id, n
				}
			}
			if cl := cells[b]; !strings.HasPrefix(cl, fmt.Sprintf("e%d o", top)) {
				t.Errorf("events %s bucket %d: class %q, want e%d (counts %v)", mta, b, cl, top, byID)
			}
		}
	}
	// The faults: painted only while the storm blows (2 s to 12.5 s),
	// for every MTA (each has a storming link).
	for mta, cells := range h.cells["faults"] {
		if len(cells) == 0 {
			t.Errorf("faults %s: nothing painted under a storm on its links", mta)
		}
		for b := range cells {
			if float64(b+1)*h.step <= 2 || float64(b)*h.step >= 12.5 {
				t.Errorf("faults %s: bucket %d (%g s) painted outside the storm", mta, b, float64(b)*h.step)
			}
		}
	}
	// The legend names every id logged with its count.
	ids := map[int]int{}
	for _, e := range in.Events {
		ids[e.ID]++
	}
	for id, n := range ids {
		if want := fmt.Sprintf("</span>%d %s (%d)</li>", id, eventName(id), n); !strings.Contains(html, want) {
			t.Errorf("legend lacks %q", want)
		}
	}
	// The messages table: the worst pairs, then sums, not 398 rows.
	if n := strings.Count(html, "<tr><th scope=\"row\">hub</th>") + strings.Count(html, "<td>hub</td>"); n > pairRows {
		t.Errorf("the messages table lists %d pairs one by one, at most %d", n, pairRows)
	}
	undelivered := 0
	for _, p := range in.Summary.Pairs {
		undelivered += p.Undelivered
	}
	total := regexp.MustCompile(`<tr class="total"><th scope="row" colspan="2">all (\d+) pairs</th>(?:<td class="num">\d+</td>){4}<td class="num c-failed">(\d+)</td>`).FindStringSubmatch(html)
	if total == nil || total[1] != strconv.Itoa(len(in.Summary.Pairs)) || total[2] != strconv.Itoa(undelivered) {
		t.Errorf("messages table total %v, want all %d pairs with %d undelivered", total, len(in.Summary.Pairs), undelivered)
	}
}

// TestSummaryViewSize checks that the report's size is bounded by the
// MTAs and buckets, not by the records: a run four times as long (four
// times the samples and events) makes about the same report, and a
// 200-MTA report stays under 1 MiB.
func TestSummaryViewSize(t *testing.T) {
	size := func(d time.Duration) int {
		in, _ := syntheticOrg(t, 200, d, 2)
		var buf bytes.Buffer
		if err := WriteHTML(&buf, in); err != nil {
			t.Fatal(err)
		}
		return buf.Len()
	}
	short, long := size(30*time.Second), size(120*time.Second)
	t.Logf("200 MTAs: 30 s run %d bytes, 120 s run %d bytes", short, long)
	if short > 1<<20 || long > 1<<20 {
		t.Errorf("report of 200 MTAs: %d and %d bytes, want at most 1 MiB", short, long)
	}
	if float64(long) > 1.3*float64(short) {
		t.Errorf("a 4× longer run grows the report from %d to %d bytes: it must be bounded by MTAs × buckets", short, long)
	}
}

// TestSummaryViewThreshold checks that the charts stay up to ChartsUpTo
// MTAs and the summary view takes over above.
func TestSummaryViewThreshold(t *testing.T) {
	for _, n := range []int{ChartsUpTo, ChartsUpTo + 1} {
		in, _ := syntheticOrg(t, n, 20*time.Second, 3)
		var buf bytes.Buffer
		if err := WriteHTML(&buf, in); err != nil {
			t.Fatal(err)
		}
		html := buf.String()
		checkReportHTML(t, html, in.Scenario, in.Summary)
		charts, heat := strings.Count(html, `<figure class="chart`), strings.Count(html, `<figure class="heatmap"`)
		switch {
		case n <= ChartsUpTo && (charts != len(in.Scenario.Links)+3*n || heat != 0):
			t.Errorf("%d MTAs: %d charts and %d heat maps, want %d charts", n, charts, heat, len(in.Scenario.Links)+3*n)
		case n > ChartsUpTo && (charts != 0 || heat != 1):
			t.Errorf("%d MTAs: %d charts and %d heat maps, want the heat maps only", n, charts, heat)
		}
	}
}

// TestHeatStep checks the bucket widths: the smallest nice width that
// fits the run in at most heatColumns buckets.
func TestHeatStep(t *testing.T) {
	for _, c := range []struct {
		end  float64
		step float64
		cols int
	}{{0.3, 0.05, 6}, {1, 0.05, 20}, {3, 0.05, 60}, {3.01, 0.1, 31}, {8, 0.2, 40}, {30, 0.5, 60}, {31, 1, 31}, {1e6, 3600, 60}} {
		step, cols := heatStep(c.end)
		if step != c.step || cols != c.cols {
			t.Errorf("heatStep(%g) = %g, %d; want %g, %d", c.end, step, cols, c.step, c.cols)
		}
	}
}

// TestHeatLeakedDarkerThanInUse checks that every leaked colour is darker
// than every in-use one, so that a leak reads worse in greyscale too.
func TestHeatLeakedDarkerThanInUse(t *testing.T) {
	lum := func(c color.NRGBA) float64 { return 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B) }
	for _, l := range heatLeaked {
		for _, u := range append(slices.Clone(heatInUse), heatStopped) {
			if lum(l) >= lum(u) {
				t.Errorf("leaked %s (luminance %.0f) not darker than %s (%.0f)", cssColor(l), lum(l), cssColor(u), lum(u))
			}
		}
	}
}

// TestPairTable checks the messages table's collapse: every pair up to
// pairRows, else the worst (with a message undelivered, duplicated or
// refused; most undelivered first) and sums.
func TestPairTable(t *testing.T) {
	pairs := func(n, bad int) []result.PairSummary {
		var out []result.PairSummary
		for i := range n {
			p := result.PairSummary{From: "hub", To: fmt.Sprintf("s%03d", i), Declared: 10, Submitted: 10, Delivered: 10}
			if i < bad {
				p.Undelivered, p.Delivered = i%5+1, 10-(i%5+1)
			}
			out = append(out, p)
		}
		return out
	}
	if tb := newPairTable(pairs(pairRows, 3)); len(tb.Rows) != pairRows || tb.Others != nil || tb.Total != nil {
		t.Errorf("%d pairs: %d rows, others %v, total %v; want every pair, no sums", pairRows, len(tb.Rows), tb.Others, tb.Total)
	}
	tb := newPairTable(pairs(400, 3))
	if len(tb.Rows) != 3 || tb.Others.N != 397 || tb.Total.N != 400 || tb.Total.Undelivered != 1+2+3 || tb.Total.Declared != 4000 || tb.Others.Undelivered != 0 {
		t.Errorf("400 pairs, 3 bad: %d rows, others %+v, total %+v", len(tb.Rows), *tb.Others, *tb.Total)
	}
	tb = newPairTable(pairs(400, 50))
	if len(tb.Rows) != pairRows || tb.Others.N != 380 || !strings.Contains(tb.Others.Label, "380 more pairs, 30 of them") {
		t.Errorf("400 pairs, 50 bad: %d rows, others %+v", len(tb.Rows), *tb.Others)
	}
	for i := 1; i < len(tb.Rows); i++ {
		if tb.Rows[i].Undelivered > tb.Rows[i-1].Undelivered {
			t.Errorf("row %d (%d undelivered) after row %d (%d): not worst first", i, tb.Rows[i].Undelivered, i-1, tb.Rows[i-1].Undelivered)
		}
	}
	if tb.Rows[0].Undelivered != 5 {
		t.Errorf("first row %+v, want one of the pairs with 5 undelivered", tb.Rows[0])
	}
}

// TestSummaryViewWithoutRecords draws the summary view of a run that
// recorded nothing: every MTA a row, under "nothing to report", nothing
// painted, and no panic on an empty legend.
func TestSummaryViewWithoutRecords(t *testing.T) {
	in, _ := syntheticOrg(t, 20, 10*time.Second, 4)
	in.Events, in.Samples, in.Deliveries, in.Schedule, in.Summary.Pairs = nil, nil, nil, nil, nil
	for _, m := range in.Summary.MTAs {
		*m = result.MTASummary{Build: m.Build}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, in); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	checkReportHTML(t, html, in.Scenario, in.Summary)
	h := parseHeat(t, html)
	for _, kind := range []string{"faults", "pool", "events"} {
		if len(h.rows[kind]) != 20 || h.total(kind) != 0 || h.painted[kind] != 0 {
			t.Errorf("%s panel: %d rows, %d cells painted (data-cells %d), want 20 rows and nothing painted", kind, len(h.rows[kind]), h.total(kind), h.painted[kind])
		}
	}
	if !strings.Contains(html, ">nothing to report (20)</text>") {
		t.Errorf("no group header %q", "nothing to report (20)")
	}
}

package report

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Chart geometry. Every chart has the same width, the same right-hand
// legend column and (after alignment) the same data area left edge, so that
// the charts share one time axis down the page.
const (
	chartWidth  = 1000 * vg.Length(1)
	legendWidth = 190 * vg.Length(1)
)

// Colours of the report.
var (
	colIdle    = rgb(0x2c, 0xa0, 0x2c)
	colBusy    = rgb(0x1f, 0x77, 0xb4)
	colLeaked  = rgb(0xd6, 0x27, 0x28)
	colQueue   = rgb(0x44, 0x44, 0x44)
	colAction  = rgb(0x11, 0x11, 0x11)
	colFaultBg = color.NRGBA{R: 0xff, G: 0x9f, B: 0x1c, A: 0x26}
	colStopped = color.NRGBA{R: 0x70, G: 0x70, B: 0x70, A: 0x40}
	// faultPalette colours fault types in order of first appearance.
	faultPalette = []color.NRGBA{
		rgb(0xe6, 0x55, 0x0d), rgb(0x31, 0x82, 0xbd), rgb(0x31, 0xa3, 0x54), rgb(0x75, 0x6b, 0xb1),
		rgb(0xd6, 0x61, 0x6b), rgb(0x8c, 0x6d, 0x31), rgb(0x63, 0x63, 0x63), rgb(0x17, 0xbe, 0xcf),
	}
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// eventStyle is how one event id is marked.
type eventStyle struct {
	id    int
	name  string
	color color.NRGBA
	shape draw.GlyphDrawer
}

// eventStyles are the ids every events chart shows a row for, in row order
// (bottom to top); other ids get grey rows above them.
var eventStyles = []eventStyle{
	{eventlog.IDAssocError, "association error", rgb(0x1f, 0x77, 0xb4), draw.CircleGlyph{}},
	{eventlog.IDAssocErrorAnon, "assoc. error, no peer", rgb(0xff, 0x7f, 0x0e), draw.PyramidGlyph{}},
	{eventlog.IDStateCheck, "state check", rgb(0x94, 0x67, 0xbd), draw.BoxGlyph{}},
	{eventlog.IDConnRefused, "connection refused", rgb(0xd6, 0x27, 0x28), diamondGlyph{}},
}

// catalogueEventStyles mark the catalogue's other ids (CATALOGUE.md C4
// and the companions of DESIGN.md section 4) whenever they occur, each
// with a fixed colour and a shape of its own, apart from eventStyles' and
// from each other, so that a reader learns them once and tells them apart
// in greyscale too.
var catalogueEventStyles = []eventStyle{
	{eventlog.IDLostConnections, "lost connections", rgb(0x2c, 0xa0, 0x2c), draw.RingGlyph{}},
	{eventlog.IDConnError, "connection error", rgb(0x8c, 0x56, 0x4b), draw.CrossGlyph{}},
	{eventlog.IDInternalError, "internal MTA error", rgb(0xe3, 0x77, 0xc2), draw.PlusGlyph{}},
	{eventlog.IDNoControlBlocks, "no free control blocks", rgb(0x17, 0xbe, 0xcf), draw.SquareGlyph{}},
	{eventlog.IDConnectRefused, "connect() refused", rgb(0xbc, 0xbd, 0x22), draw.TriangleGlyph{}},
	{eventlog.IDConnReset, "connection reset", rgb(0x39, 0x3b, 0x79), downTriangleGlyph{}},
	{eventlog.IDAbnormalEnd, "ended abnormally", rgb(0x84, 0x3c, 0x39), hollowDiamondGlyph{}},
	{eventlog.IDStart, "MTA started", rgb(0x63, 0x79, 0x39), starGlyph{}},
	{eventlog.IDStop, "MTA stopped", rgb(0x7b, 0x41, 0x73), barGlyph{}},
}

// otherEventStyle marks an id the catalogue does not know (a customer's
// log replayed, say): grey, one shape for all of them.
var otherEventStyle = eventStyle{name: "other", color: rgb(0x7f, 0x7f, 0x7f), shape: boxedCrossGlyph{}}

// chart is one rendered chart of the report.
type chart struct {
	// ID is the figure's element id (chart-N); Title is the heading shown
	// above the chart; Summary is one line of what it shows (with the
	// title, the chart's text alternative); Kind is link, events, pool
	// or queue; Subject is the link or the MTA the chart is about.
	ID, Title, Summary, Kind, Subject string
	SVG                               template.HTML
}

// chartPlot is a chart before rendering.
type chartPlot struct {
	title, summary, kind, subject string
	p                             *plot.Plot
	legend                        plot.Legend
	height                        vg.Length
}

// reportTimes maps a run's times onto the report's time axis.
type reportTimes struct {
	// t0 is the run start in wall-clock time: the summary's, else
	// recovered from the deliveries (each carries its wall time and its
	// offset); known is false when neither exists and events are placed
	// from the first.
	t0    time.Time
	known bool
	// end is the right edge of every chart, in seconds.
	end float64
}

func newReportTimes(in *Input) reportTimes {
	var rt reportTimes
	if !in.Summary.Started.IsZero() {
		rt.t0, rt.known = in.Summary.Started, true
	} else if len(in.Deliveries) > 0 { // a bundle from before summary.json had "started"
		d := in.Deliveries[0]
		rt.t0 = d.At.Add(-time.Duration(d.T * float64(time.Second)))
		rt.known = true
	} else if len(in.Events) > 0 {
		rt.t0 = in.Events[0].Time
		for _, e := range in.Events {
			if e.Time.Before(rt.t0) {
				rt.t0 = e.Time
			}
		}
	}
	rt.end = in.Summary.DurationS
	for _, s := range in.Samples {
		rt.end = max(rt.end, s.T)
	}
	for _, d := range in.Deliveries {
		rt.end = max(rt.end, d.T)
	}
	for _, e := range in.Events {
		rt.end = max(rt.end, rt.of(e.Time))
	}
	if in.Schedule != nil {
		for _, t := range in.Schedule.Toggles {
			rt.end = max(rt.end, t.Offset.Seconds())
		}
	}
	if rt.end <= 0 {
		rt.end = 1
	}
	return rt
}

// of returns the offset of wall-clock time t in seconds.
func (rt reportTimes) of(t time.Time) float64 { return t.Sub(rt.t0).Seconds() }

// marker is a vertical line across a chart: an MTA action.
type marker struct {
	at    float64
	label string
}

// interval is a stretch of the time axis.
type interval struct{ x0, x1 float64 }

// reportMarkers returns the actions carried out (from the ledger), or the
// planned ones when the ledger has none.
func reportMarkers(in *Input) []marker {
	var out []marker
	for _, l := range in.Ledger {
		if l.Phase == "action" {
			out = append(out, marker{at: l.At, label: l.Action + " " + l.MTA})
		}
	}
	if len(out) == 0 {
		for _, a := range in.Scenario.Actions {
			out = append(out, marker{at: a.At.Seconds(), label: a.Op + " " + a.MTA})
		}
	}
	return out
}

// faultRow is one fault on one link, on the report's time axis: the span
// from its first toggle to its heal, and the stretches during which it
// acts (link disabled or a toxic present).
type faultRow struct {
	label  string
	typ    string
	span   interval
	active []interval
	// updates are the offsets of update_toxic toggles.
	updates []float64
}

// linkFaults returns the fault rows of link, in order of first appearance:
// the schedule's activity on it (faults.Schedule.Activity) in seconds.
// Faults still acting at the end of the schedule are closed at end (the
// run end heals them).
func linkFaults(sched *faults.Schedule, link string, end float64) []*faultRow {
	var rows []*faultRow
	for _, a := range sched.Activity(link, duration(end)) {
		r := &faultRow{label: fmt.Sprintf("f%d %s", a.Fault, a.Type), typ: a.Type, span: seconds(a.Span), active: intervals(a.Acting)}
		for _, u := range a.Updates {
			r.updates = append(r.updates, u.Seconds())
		}
		rows = append(rows, r)
	}
	return rows
}

// faultWindows is the union of every fault's acting stretches on every link.
func faultWindows(in *Input, end float64) []interval {
	var all []faults.Interval
	for _, l := range in.Scenario.Links {
		for _, a := range in.Schedule.Activity(l.String(), duration(end)) {
			all = append(all, a.Acting...)
		}
	}
	return intervals(faults.MergeIntervals(all))
}

// duration is an offset in seconds as a time.Duration, to the nanosecond.
func duration(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// seconds is iv on the report's time axis.
func seconds(iv faults.Interval) interval { return interval{iv.From.Seconds(), iv.To.Seconds()} }

// intervals is ivs on the report's time axis.
func intervals(ivs []faults.Interval) []interval {
	var out []interval
	for _, iv := range ivs {
		out = append(out, seconds(iv))
	}
	return out
}

// stoppedWindows returns the stretches during which mta's samples show it
// stopped.
func stoppedWindows(in *Input, mta string, end float64) []interval {
	var out []interval
	from := -1.0
	for _, s := range in.Samples {
		if s.MTA != mta {
			continue
		}
		switch {
		case !s.Running && from < 0:
			from = s.T
		case s.Running && from >= 0:
			out = append(out, interval{from, s.T})
			from = -1
		}
	}
	if from >= 0 {
		out = append(out, interval{from, end})
	}
	return out
}

// faultColors assigns colours to fault types in order of first appearance
// in the schedule.
func faultColors(sched *faults.Schedule) map[string]color.NRGBA {
	out := map[string]color.NRGBA{}
	if sched == nil {
		return out
	}
	for _, t := range sched.Toggles {
		if _, ok := out[t.Type]; !ok {
			out[t.Type] = faultPalette[len(out)%len(faultPalette)]
		}
	}
	return out
}

// reportCharts builds and renders every chart of the report: one per link,
// then events, pool and queue per MTA.
func reportCharts(in *Input) ([]chart, error) {
	rt := newReportTimes(in)
	marks := reportMarkers(in)
	windows := faultWindows(in, rt.end)
	colors := faultColors(in.Schedule)
	var cps []chartPlot
	for _, l := range in.Scenario.Links {
		cps = append(cps, linkChart(l.String(), linkFaults(in.Schedule, l.String(), rt.end), colors, marks, rt))
	}
	for _, m := range in.Scenario.MTAs {
		cps = append(cps,
			eventsChart(m.Name, in, windows, marks, rt),
			poolChart(m, in, windows, marks, rt),
			queueChart(m.Name, in, windows, marks, rt))
	}
	return renderCharts(cps)
}

// newPlot returns a plot on the shared time axis with the report's fonts.
func newPlot(rt reportTimes) *plot.Plot {
	p := plot.New()
	p.X.Min, p.X.Max = 0, rt.end
	p.X.Label.Text = "seconds since the run start"
	p.X.Tick.Marker = secondsTicks{}
	sans := func(f *font.Font, size vg.Length) {
		f.Variant = "Sans"
		f.Size = size
	}
	sans(&p.X.Label.TextStyle.Font, 11)
	sans(&p.Y.Label.TextStyle.Font, 11)
	sans(&p.X.Tick.Label.Font, 10)
	sans(&p.Y.Tick.Label.Font, 10)
	sans(&p.Legend.TextStyle.Font, 11)
	sans(&p.Title.TextStyle.Font, 12)
	p.Legend.Left, p.Legend.Top = true, true
	p.Legend.ThumbnailWidth = 18
	p.Legend.Padding = 3
	p.X.Padding, p.Y.Padding = 0, 4
	return p
}

// niceSeconds are the steps of a time axis, and the widths of a heat
// map's time buckets, in seconds.
var niceSeconds = []float64{0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600}

// secondsTicks puts a labelled tick every 0.5, 1, 2, 5 ... seconds with
// minor ticks between, so that short runs get readable labels.
type secondsTicks struct{}

// Ticks implements plot.Ticker.
func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	span := hi - lo
	step := niceSeconds[len(niceSeconds)-1]
	for _, s := range niceSeconds {
		if span/s <= 14 {
			step = s
			break
		}
	}
	var out []plot.Tick
	for i := int(lo / step); float64(i)*step <= hi+1e-9; i++ {
		// Rounded: 3*0.2 is 0.6000000000000001.
		v := math.Round(float64(i)*step*1e6) / 1e6
		out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
		if mid := v + step/2; mid <= hi {
			out = append(out, plot.Tick{Value: mid})
		}
	}
	return out
}

// intTicks labels every integer from lo to hi (thinned to at most ~8 labels).
func intTicks(lo, hi int) plot.ConstantTicks {
	step := max(1, (hi-lo+7)/8)
	var out plot.ConstantTicks
	for v := lo; v <= hi; v++ {
		if (v-lo)%step == 0 {
			out = append(out, plot.Tick{Value: float64(v), Label: fmt.Sprint(v)})
		} else {
			out = append(out, plot.Tick{Value: float64(v)})
		}
	}
	return out
}

func linkChart(link string, rows []*faultRow, colors map[string]color.NRGBA, marks []marker, rt reportTimes) chartPlot {
	p := newPlot(rt)
	var ticks plot.ConstantTicks
	bands := &bandPlotter{}
	for i, r := range rows {
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: r.label})
		c := colors[r.typ]
		bands.bands = append(bands.bands, band{row: float64(i), iv: r.span, fill: withAlpha(c, 0x40), edge: c, label: r.label})
		for _, a := range r.active {
			bands.bands = append(bands.bands, band{row: float64(i), iv: a, fill: withAlpha(c, 0xd0), inner: true})
		}
		for _, u := range r.updates {
			bands.ticks = append(bands.ticks, band{row: float64(i), iv: interval{u, u}, edge: rgb(0, 0, 0)})
		}
	}
	n := len(rows)
	if n == 0 {
		ticks = plot.ConstantTicks{{Value: 0, Label: "no faults"}}
		n = 1
	}
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5
	p.Y.Tick.Marker = ticks
	p.Y.Label.Text = "fault"
	p.Add(plotter.NewGrid())
	p.Add(bands, &markerPlotter{marks: marks})
	lg := p.Legend
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.typ] {
			continue
		}
		seen[r.typ] = true
		lg.Add(r.typ+" (span)", swatch{fill: withAlpha(colors[r.typ], 0x40), edge: colors[r.typ]})
		lg.Add(r.typ+" (acting)", swatch{fill: withAlpha(colors[r.typ], 0xd0)})
	}
	addMarkerLegend(&lg, marks)
	return chartPlot{title: "Link " + link + ": fault timeline", summary: linkSummary(rows, marks), kind: "link", subject: link,
		p: p, legend: lg, height: vg.Length(80 + 40*n)}
}

// mtaEventStyles returns the rows of mta's events chart, bottom to top:
// eventStyles, then each other id mta logged with a style of its own from
// otherEventStyles (in order of id); and mta's count per id.
func mtaEventStyles(mta string, in *Input) ([]eventStyle, map[int]int) {
	styles := slices.Clone(eventStyles)
	counts := map[int]int{}
	for _, e := range in.Events {
		if e.MTA == mta {
			counts[e.ID]++
		}
	}
	var others []int
	for id := range counts {
		if !slices.ContainsFunc(styles, func(s eventStyle) bool { return s.id == id }) {
			others = append(others, id)
		}
	}
	sort.Ints(others)
	for _, id := range others {
		if c := slices.IndexFunc(catalogueEventStyles, func(s eventStyle) bool { return s.id == id }); c >= 0 {
			styles = append(styles, catalogueEventStyles[c])
			continue
		}
		st := otherEventStyle
		st.id = id
		styles = append(styles, st)
	}
	return styles, counts
}

func eventsChart(mta string, in *Input, windows []interval, marks []marker, rt reportTimes) chartPlot {
	p := newPlot(rt)
	styles, counts := mtaEventStyles(mta, in)
	p.Add(&shadePlotter{windows: windows, color: colFaultBg}, plotter.NewGrid())
	var ticks plot.ConstantTicks
	lg := p.Legend
	for row, st := range styles {
		ticks = append(ticks, plot.Tick{Value: float64(row), Label: fmt.Sprint(st.id)})
		var xys plotter.XYs
		for _, e := range in.Events {
			if e.MTA == mta && e.ID == st.id {
				xys = append(xys, plotter.XY{X: rt.of(e.Time), Y: float64(row)})
			}
		}
		s, err := plotter.NewScatter(xys)
		if err != nil { // only for NaN/Inf, which offsets cannot be
			continue
		}
		s.GlyphStyle = draw.GlyphStyle{Color: st.color, Radius: 4, Shape: st.shape}
		p.Add(s)
		lg.Add(fmt.Sprintf("%d %s (%d)", st.id, st.name, counts[st.id]), s)
	}
	p.Y.Min, p.Y.Max = -0.6, float64(len(styles))-0.4
	p.Y.Tick.Marker = ticks
	p.Y.Label.Text = "event id"
	p.Add(&markerPlotter{marks: marks})
	lg.Add("fault acting", swatch{fill: colFaultBg})
	addMarkerLegend(&lg, marks)
	title := "MTA " + mta + ": events"
	if !rt.known && len(in.Events) > 0 {
		title += " (no delivery to anchor the clock: placed from the first event)"
	}
	return chartPlot{title: title, summary: eventsSummary(mta, in, rt), kind: "events", subject: mta,
		p: p, legend: lg, height: vg.Length(70 + 26*max(len(styles), 5))}
}

func poolChart(m scenario.MTASpec, in *Input, windows []interval, marks []marker, rt reportTimes) chartPlot {
	p := newPlot(rt)
	p.Add(&shadePlotter{windows: windows, color: colFaultBg}, &shadePlotter{windows: stoppedWindows(in, m.Name, rt.end), color: colStopped}, plotter.NewGrid())
	top := m.KCBs
	series := []struct {
		name  string
		color color.NRGBA
		width vg.Length
		dash  []vg.Length
		get   func(result.Sample) int
	}{
		{"idle", colIdle, 1.6, nil, func(s result.Sample) int { return s.Idle }},
		{"busy", colBusy, 1.6, []vg.Length{5, 2}, func(s result.Sample) int { return s.Busy }},
		{"leaked", colLeaked, 2.6, nil, func(s result.Sample) int { return s.Leaked }},
	}
	lg := p.Legend
	for _, sr := range series {
		xys := mtaSeries(in, m.Name, sr.get)
		for _, xy := range xys {
			top = max(top, int(xy.Y))
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			continue
		}
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: sr.color, Width: sr.width, Dashes: sr.dash}
		p.Add(l)
		lg.Add("KCBs "+sr.name, l)
	}
	p.Y.Min, p.Y.Max = -0.3, float64(top)+0.3
	p.Y.Tick.Marker = intTicks(0, top)
	p.Y.Label.Text = "KCBs"
	p.Add(&markerPlotter{marks: marks})
	lg.Add("fault acting", swatch{fill: colFaultBg})
	lg.Add("MTA stopped", swatch{fill: colStopped})
	addMarkerLegend(&lg, marks)
	return chartPlot{title: fmt.Sprintf("MTA %s: KCB pool (%d KCBs, listener included)", m.Name, m.KCBs),
		summary: poolSummary(m.Name, in, rt), kind: "pool", subject: m.Name, p: p, legend: lg, height: 190}
}

func queueChart(mta string, in *Input, windows []interval, marks []marker, rt reportTimes) chartPlot {
	p := newPlot(rt)
	p.Add(&shadePlotter{windows: windows, color: colFaultBg}, plotter.NewGrid())
	xys := mtaSeries(in, mta, func(s result.Sample) int { return s.Queued })
	top := 1
	for _, xy := range xys {
		top = max(top, int(xy.Y))
	}
	lg := p.Legend
	if l, err := plotter.NewLine(xys); err == nil {
		l.StepStyle = plotter.PostStep
		l.LineStyle = draw.LineStyle{Color: colQueue, Width: 1.6}
		p.Add(l)
		lg.Add("queued messages", l)
	}
	p.Y.Min, p.Y.Max = 0, float64(top)*1.08
	if top <= 8 {
		p.Y.Min, p.Y.Max = -0.2, float64(top)+0.2
		p.Y.Tick.Marker = intTicks(0, top)
	}
	p.Y.Label.Text = "queue"
	p.Add(&markerPlotter{marks: marks})
	lg.Add("fault acting", swatch{fill: colFaultBg})
	addMarkerLegend(&lg, marks)
	return chartPlot{title: "MTA " + mta + ": queue depth", summary: queueSummary(xys), kind: "queue", subject: mta,
		p: p, legend: lg, height: 150}
}

// mtaSeries returns one value of mta's samples over time.
func mtaSeries(in *Input, mta string, get func(result.Sample) int) plotter.XYs {
	var xys plotter.XYs
	for _, s := range in.Samples {
		if s.MTA == mta {
			xys = append(xys, plotter.XY{X: s.T, Y: float64(get(s))})
		}
	}
	return xys
}

func addMarkerLegend(lg *plot.Legend, marks []marker) {
	if len(marks) > 0 {
		lg.Add("action (restart, stop, start)", markerPlotter{})
	}
}

// renderCharts draws each chart into its own SVG, aligning the data areas
// so that every chart's time axis lines up with the others.
func renderCharts(cps []chartPlot) ([]chart, error) {
	type prepared struct {
		c           *vgsvg.Canvas
		area        draw.Canvas
		left, right vg.Length
	}
	preps := make([]prepared, len(cps))
	var maxL, maxR vg.Length
	for i, cp := range cps {
		c := vgsvg.New(chartWidth, cp.height)
		dc := draw.New(c)
		area := draw.Crop(dc, 0, -legendWidth, 0, 0)
		data := cp.p.DataCanvas(area)
		preps[i] = prepared{c: c, area: area, left: data.Min.X - area.Min.X, right: area.Max.X - data.Max.X}
		maxL, maxR = max(maxL, preps[i].left), max(maxR, preps[i].right)
	}
	out := make([]chart, len(cps))
	for i, cp := range cps {
		pr := preps[i]
		cp.p.Draw(draw.Crop(pr.area, maxL-pr.left, -(maxR - pr.right), 0, 0))
		legendArea := draw.Crop(draw.New(pr.c), chartWidth-legendWidth+12, 0, 0, -4)
		cp.legend.Draw(legendArea)
		var buf bytes.Buffer
		if _, err := pr.c.WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("render %s: %w", cp.title, err)
		}
		id := fmt.Sprintf("chart-%d", i)
		// The SVG is an image whose text alternative is the figure's
		// caption: its title and one-line summary.
		svg := strings.Replace(inlineSVG(buf.Bytes()), "<svg ", `<svg role="img" aria-labelledby="`+id+`-cap" `, 1)
		out[i] = chart{ID: id, Title: cp.title, Summary: cp.summary, Kind: cp.kind, Subject: cp.subject, SVG: template.HTML(svg)}
	}
	return out, nil
}

var (
	svgPrologRE = regexp.MustCompile(`(?s)^.*?(<svg\b)`)
	svgNSRE     = regexp.MustCompile(`\s+xmlns(:xlink)?="[^"]*"`)
)

// inlineSVG turns a standalone SVG document into an element to inline in
// HTML: no XML declaration or comment, no namespace attributes (HTML does
// not need them, and the report then names no URL at all).
func inlineSVG(doc []byte) string {
	s := svgPrologRE.ReplaceAll(doc, []byte("$1"))
	s = svgNSRE.ReplaceAll(s, nil)
	return string(bytes.TrimSpace(s))
}

// band is one shaded stretch of a fault row.
type band struct {
	row        float64
	iv         interval
	fill, edge color.Color
	inner      bool
	label      string
}

// bandPlotter draws fault rows: a light band over each fault's span with
// its label, darker bands where it acts, ticks where a toxic is updated.
type bandPlotter struct {
	bands []band
	ticks []band
}

// Plot implements plot.Plotter.
func (b *bandPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	lab := plt.Legend.TextStyle
	lab.Font.Size = 10
	lab.XAlign, lab.YAlign = draw.XLeft, draw.YCenter
	lab.Color = rgb(0x10, 0x10, 0x10)
	for _, bd := range b.bands {
		lo, hi := bd.row-0.42, bd.row+0.42
		if bd.inner {
			lo, hi = bd.row-0.36, bd.row+0.08
		}
		x0, x1 := trX(bd.iv.x0), trX(bd.iv.x1)
		if x1-x0 < 1.5 {
			x1 = x0 + 1.5
		}
		y0, y1 := trY(lo), trY(hi)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(bd.fill, c.ClipPolygonXY(pts))
		if bd.edge != nil {
			c.StrokeLines(draw.LineStyle{Color: bd.edge, Width: 0.8}, c.ClipLinesXY(append(pts, pts[0]))...)
		}
	}
	for _, bd := range b.bands {
		if bd.label != "" {
			c.FillText(lab, vg.Point{X: trX(bd.iv.x0) + 4, Y: trY(bd.row + 0.25)}, fmt.Sprintf("%s  %.2fs – %.2fs", bd.label, bd.iv.x0, bd.iv.x1))
		}
	}
	for _, t := range b.ticks {
		x := trX(t.iv.x0)
		c.StrokeLine2(draw.LineStyle{Color: t.edge, Width: 1}, x, trY(t.row-0.36), x, trY(t.row+0.08))
	}
}

// shadePlotter shades stretches of the time axis over the full height.
type shadePlotter struct {
	windows []interval
	color   color.Color
}

// Plot implements plot.Plotter.
func (s *shadePlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	for _, w := range s.windows {
		x0, x1 := trX(w.x0), trX(w.x1)
		if x1-x0 < 1 {
			x1 = x0 + 1
		}
		pts := []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}}
		c.FillPolygon(s.color, c.ClipPolygonX(pts))
	}
}

// markerPlotter draws the actions as labelled vertical dashed lines.
type markerPlotter struct{ marks []marker }

var markerStyle = draw.LineStyle{Color: colAction, Width: 1.4, Dashes: []vg.Length{4, 3}}

// Plot implements plot.Plotter.
func (m *markerPlotter) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	lab := plt.Legend.TextStyle
	lab.Font.Size = 10
	lab.XAlign, lab.YAlign = draw.XLeft, draw.YTop
	lab.Color = colAction
	for _, mk := range m.marks {
		x := trX(mk.at)
		if !c.ContainsX(x) {
			continue
		}
		c.StrokeLine2(markerStyle, x, c.Min.Y, x, c.Max.Y)
		c.FillText(lab, vg.Point{X: x + 3, Y: c.Max.Y - 2}, mk.label)
	}
}

// Thumbnail implements plot.Thumbnailer.
func (markerPlotter) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(markerStyle, x, c.Min.Y, x, c.Max.Y)
}

// swatch is a legend thumbnail: a filled square with an optional edge.
type swatch struct{ fill, edge color.Color }

// Thumbnail implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(s.fill, pts)
	if s.edge != nil {
		c.StrokeLines(draw.LineStyle{Color: s.edge, Width: 0.8}, append(pts, pts[0]))
	}
}

// diamondGlyph is a filled diamond.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	drawPolygon(c, sty, false, pt, diamond(sty.Radius*1.25)...)
}

// downTriangleGlyph is the outline of a triangle pointing down.
type downTriangleGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (downTriangleGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.2
	drawPolygon(c, sty, true, pt, vg.Point{X: -r, Y: r * 0.6}, vg.Point{X: r, Y: r * 0.6}, vg.Point{X: 0, Y: -r})
}

// starGlyph is an asterisk: a plus and a cross.
type starGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (starGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	draw.PlusGlyph{}.DrawGlyph(c, sty, pt)
	draw.CrossGlyph{}.DrawGlyph(c, sty, pt)
}

// barGlyph is a filled horizontal bar.
type barGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (barGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	w, h := sty.Radius*1.3, sty.Radius*0.4
	drawPolygon(c, sty, false, pt, vg.Point{X: -w, Y: -h}, vg.Point{X: w, Y: -h}, vg.Point{X: w, Y: h}, vg.Point{X: -w, Y: h})
}

// boxedCrossGlyph is a square outline with a cross inside.
type boxedCrossGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (boxedCrossGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	draw.SquareGlyph{}.DrawGlyph(c, sty, pt)
	draw.CrossGlyph{}.DrawGlyph(c, sty, pt)
}

// hollowDiamondGlyph is the outline of a diamond.
type hollowDiamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (hollowDiamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	drawPolygon(c, sty, true, pt, diamond(sty.Radius*1.25)...)
}

// diamond is the corners of a diamond of radius r around the origin.
func diamond(r vg.Length) []vg.Point {
	return []vg.Point{{X: 0, Y: r}, {X: r, Y: 0}, {X: 0, Y: -r}, {X: -r, Y: 0}}
}

// drawPolygon fills the polygon whose corners are at pt + offs, or, when
// hollow, strokes its outline.
func drawPolygon(c *draw.Canvas, sty draw.GlyphStyle, hollow bool, pt vg.Point, offs ...vg.Point) {
	var p vg.Path
	for i, o := range offs {
		q := vg.Point{X: pt.X + o.X, Y: pt.Y + o.Y}
		if i == 0 {
			p.Move(q)
		} else {
			p.Line(q)
		}
	}
	p.Close()
	if hollow {
		c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.8)})
		c.Stroke(p)
		return
	}
	c.SetColor(sty.Color)
	c.Fill(p)
}

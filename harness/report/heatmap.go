package report

import (
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/result"
)

// The summary view: a run of more MTAs than ChartsUpTo gets, instead of a
// fault timeline per link and three charts per MTA, one figure of three
// heat maps sharing their rows (one per MTA, worst first, in groups) and
// their columns (time buckets): the faults acting on the MTA's links, its
// KCB pool (in use, leaked, stopped) and its events; and a totals table in
// the same order. Its size grows with MTAs × buckets, not with samples or
// events: the buckets are at most heatColumns, and each row is drawn as
// runs of equal cells, one SVG path per colour.

// ChartsUpTo is the most MTAs whose run the report draws as charts; a run
// of more MTAs gets the summary view.
const ChartsUpTo = 12

// heatColumns is the most time buckets of a heat map.
const heatColumns = 60

// heatGroup is what an MTA's row is grouped under; groups run worst first.
type heatGroup int

const (
	groupLeakedAtEnd heatGroup = iota
	groupLeaked
	groupUndelivered
	groupEvents
	groupQuiet
)

// heatGroupNames name the groups, in their order.
var heatGroupNames = [...]string{
	groupLeakedAtEnd: "KCBs still leaked at the end",
	groupLeaked:      "KCBs leaked during the run",
	groupUndelivered: "messages undelivered",
	groupEvents:      "events logged",
	groupQuiet:       "nothing to report",
}

// heatRow is one MTA of the summary view.
type heatRow struct {
	Name, Build string
	Defects     []string
	// MTASummary holds the judge's totals (summary.json); an MTA the
	// summary lacks gets the most and last leaked from its samples.
	result.MTASummary
	// UndeliveredTo counts the messages addressed to the MTA never
	// delivered; UndeliveredFrom those it sent.
	UndeliveredTo, UndeliveredFrom int
	// EventsTotal counts its events; Counts them per id of the view's IDs.
	EventsTotal int
	Counts      []int
	Group       heatGroup
	Rank        int
	// header heads the row's group on its first row.
	header string

	// Per bucket: whether sampled, stopped in some sample, the most
	// leaked and busy, the seconds some fault acts on one of its links,
	// and the events per id (events[k*cols+b] for the view's IDs[k]).
	sampled, stopped []bool
	leaked, busy     []int
	acting           []float64
	events           []int
	// linksFaulted counts its links some fault acts on.
	linksFaulted, links int
}

// worse orders rows worst first: by KCBs leaked at the end, most leaked,
// undelivered, events, and name; which keeps each group together, in
// order.
func worse(a, b *heatRow) int {
	return cmp.Or(
		-cmp.Compare(a.LeakedAtEnd, b.LeakedAtEnd),
		-cmp.Compare(a.KCBsLeaked, b.KCBsLeaked),
		-cmp.Compare(a.UndeliveredTo+a.UndeliveredFrom, b.UndeliveredTo+b.UndeliveredFrom),
		-cmp.Compare(a.EventsTotal, b.EventsTotal),
		cmp.Compare(a.Name, b.Name))
}

// Header is the group's heading ("KCBs still leaked at the end (6)") on
// the first row of its group, "" on the others.
func (r *heatRow) Header() string { return r.header }

// TotalsColumns is the number of columns of the totals table.
func (v *heatView) TotalsColumns() int { return 11 + len(v.IDs) }

// heatView is the summary view of a run.
type heatView struct {
	// Above is ChartsUpTo: the view is drawn for runs of more MTAs.
	Above int
	// Step is the bucket width in seconds; Cols the number of buckets.
	Step float64
	Cols int
	// Rows are the MTAs, worst first.
	Rows []*heatRow
	// IDs are the event ids logged, ascending, with their totals.
	IDs      []int
	IDTotals []int
	// Groups counts the MTAs per group.
	Groups [len(heatGroupNames)]int
	// SVG is the figure; Title and Summary its caption (its text
	// alternative).
	SVG            template.HTML
	Title, Summary string
	// Legends explain the three heat maps' colours.
	Legends []heatLegend
}

// heatLegend is the key of one heat map.
type heatLegend struct {
	Kind, Title string
	Items       []heatLegendItem
}

// heatLegendItem is one colour of a legend: a swatch and what it means.
type heatLegendItem struct {
	Style template.CSS
	Label string
}

// heatStep returns the bucket width for a run of end seconds: the
// smallest of niceSeconds that fits it in heatColumns buckets.
func heatStep(end float64) (step float64, cols int) {
	step = niceSeconds[len(niceSeconds)-1]
	for _, s := range niceSeconds {
		if math.Ceil(end/s-1e-9) <= heatColumns {
			step = s
			break
		}
	}
	cols = max(1, min(heatColumns, int(math.Ceil(end/step-1e-9))))
	return step, cols
}

// newHeatView buckets the run's samples, events and fault activity per
// MTA, groups and orders the MTAs, and draws the figure.
func newHeatView(in *Input) *heatView {
	rt := newReportTimes(in)
	v := &heatView{Above: ChartsUpTo}
	v.Step, v.Cols = heatStep(rt.end)
	bucket := func(t float64) int { return max(0, min(v.Cols-1, int(t/v.Step))) }

	// The event ids logged, and an index of them.
	idTotals := map[int]int{}
	for _, e := range in.Events {
		idTotals[e.ID]++
	}
	v.IDs = slices.Sorted(maps.Keys(idTotals))
	idIndex := map[int]int{}
	for k, id := range v.IDs {
		idIndex[id] = k
		v.IDTotals = append(v.IDTotals, idTotals[id])
	}

	// One row per MTA of the scenario, then any other MTA the records
	// name.
	rows := map[string]*heatRow{}
	var order []*heatRow
	row := func(name string) *heatRow {
		if r, ok := rows[name]; ok {
			return r
		}
		r := &heatRow{Name: name, sampled: make([]bool, v.Cols), stopped: make([]bool, v.Cols),
			leaked: make([]int, v.Cols), busy: make([]int, v.Cols), acting: make([]float64, v.Cols),
			events: make([]int, len(v.IDs)*v.Cols), Counts: make([]int, len(v.IDs))}
		if m, ok := in.Summary.MTAs[name]; ok {
			r.MTASummary = *m
		}
		rows[name] = r
		order = append(order, r)
		return r
	}
	for _, m := range in.Scenario.MTAs {
		r := row(m.Name)
		r.Build, r.Defects = m.BuildName(), m.DefectSet()
	}
	for _, s := range in.Samples {
		r, b := row(s.MTA), bucket(s.T)
		r.sampled[b] = true
		r.stopped[b] = r.stopped[b] || !s.Running
		r.leaked[b] = max(r.leaked[b], s.Leaked)
		r.busy[b] = max(r.busy[b], s.Busy)
		if _, ok := in.Summary.MTAs[s.MTA]; !ok {
			r.KCBsLeaked = max(r.KCBsLeaked, s.Leaked)
			r.LeakedAtEnd = s.Leaked
		}
	}
	for _, e := range in.Events {
		r, k := row(e.MTA), idIndex[e.ID]
		r.events[k*v.Cols+bucket(rt.of(e.Time))]++
		r.Counts[k]++
		r.EventsTotal++
	}
	for _, p := range in.Summary.Pairs {
		row(p.To).UndeliveredTo += p.Undelivered
		row(p.From).UndeliveredFrom += p.Undelivered
	}
	heatFaults(in, rt.end, v, row)

	for _, r := range order {
		switch {
		case r.LeakedAtEnd > 0:
			r.Group = groupLeakedAtEnd
		case r.KCBsLeaked > 0:
			r.Group = groupLeaked
		case r.UndeliveredTo+r.UndeliveredFrom > 0:
			r.Group = groupUndelivered
		case r.EventsTotal > 0:
			r.Group = groupEvents
		default:
			r.Group = groupQuiet
		}
		v.Groups[r.Group]++
	}
	slices.SortFunc(order, worse)
	for i, r := range order {
		r.Rank = i + 1
		if i == 0 || order[i-1].Group != r.Group {
			r.header = fmt.Sprintf("%s (%d)", heatGroupNames[r.Group], v.Groups[r.Group])
		}
	}
	v.Rows = order
	v.Title = fmt.Sprintf("%d MTAs over time, worst first", len(order))
	v.Summary = v.caption(rt.end)
	v.Legends = v.legends()
	v.SVG = template.HTML(v.draw())
	return v
}

// heatFaults adds to each MTA's row the seconds per bucket during which a
// fault acts on one of its links (each link's faults merged, then the
// MTA's links merged).
func heatFaults(in *Input, end float64, v *heatView, row func(string) *heatRow) {
	if in.Schedule == nil {
		return
	}
	// The schedule split per link once: Activity reads every toggle.
	byLink := map[string]*faults.Schedule{}
	for _, t := range in.Schedule.Toggles {
		s := byLink[t.Link]
		if s == nil {
			s = &faults.Schedule{}
			byLink[t.Link] = s
		}
		s.Toggles = append(s.Toggles, t)
	}
	acting := map[string][]faults.Interval{}
	for _, l := range in.Scenario.Links {
		var ivs []faults.Interval
		for _, a := range byLink[l.String()].Activity(l.String(), duration(end)) {
			ivs = append(ivs, a.Acting...)
		}
		for _, m := range []string{l.From, l.To} {
			r := row(m)
			r.links++
			if len(ivs) > 0 {
				r.linksFaulted++
				acting[m] = append(acting[m], ivs...)
			}
		}
	}
	for m, ivs := range acting {
		r := row(m)
		for _, iv := range intervals(faults.MergeIntervals(ivs)) {
			for b := max(0, int(iv.x0/v.Step)); b < v.Cols && float64(b)*v.Step < iv.x1; b++ {
				lo, hi := max(iv.x0, float64(b)*v.Step), min(iv.x1, float64(b+1)*v.Step)
				if hi > lo {
					r.acting[b] += hi - lo
				}
			}
		}
	}
}

// caption is the figure's one-line summary: the groups with their first
// MTAs, and how to read it.
func (v *heatView) caption(end float64) string {
	var parts []string
	i := 0
	for g, n := range v.Groups {
		if n == 0 {
			continue
		}
		var names []string
		for _, r := range v.Rows[i : i+n] {
			if len(names) == maxListed {
				names = append(names, fmt.Sprintf("and %d more", n-maxListed))
				break
			}
			names = append(names, r.Name)
		}
		part := fmt.Sprintf("%d with %s", n, heatGroupNames[g])
		if heatGroup(g) != groupQuiet && heatGroup(g) != groupEvents {
			part += " (" + strings.Join(names, ", ") + ")"
		}
		parts = append(parts, part)
		i += n
	}
	return fmt.Sprintf("Rows: %s, worst first: %s. Columns: %d buckets of %g s from 0 to %.1f s. "+
		"Left, faults acting on the MTA's links (share of the bucket); middle, its KCB pool (in use, leaked, stopped); "+
		"right, its events (the colour of the most frequent id, darker for more).",
		plural(len(v.Rows), "MTA"), strings.Join(parts, "; "), v.Cols, v.Step, end)
}

// Heat map colours: faults in the report's fault orange, the pool in
// blues (in use) and reds (leaked, always darker than in use, so that it
// reads worse in greyscale too), stopped in grey; events in their id's
// colour (eventStyles, catalogueEventStyles), more opaque for more.
var (
	heatFault   = []color.NRGBA{rgb(0xfe, 0xe6, 0xce), rgb(0xfd, 0xae, 0x6b), rgb(0xf1, 0x69, 0x13), rgb(0xa6, 0x36, 0x03)}
	heatInUse   = []color.NRGBA{rgb(0xde, 0xeb, 0xf7), rgb(0xc6, 0xdb, 0xef), rgb(0x9e, 0xca, 0xe1)}
	heatLeaked  = []color.NRGBA{rgb(0xef, 0x3b, 0x2c), rgb(0xcb, 0x18, 0x1d), rgb(0x99, 0x00, 0x0d), rgb(0x67, 0x00, 0x0d)}
	heatStopped = rgb(0x96, 0x96, 0x96)
	// heatOpacity is the events' opacity per level.
	heatOpacity = []float64{0.3, 0.55, 0.8, 1}
)

// faultLevel is the level (1..4, 0 none) of a bucket with acting seconds
// of a fault out of step.
func faultLevel(acting, step float64) int {
	if acting <= 0 {
		return 0
	}
	return min(4, max(1, int(math.Ceil(4*acting/step-1e-9))))
}

// poolClass is a pool bucket's class: l1..l4 for 1, 2, 3-4, 5+ leaked, st
// for stopped, u1..u3 for 1, 2-3, 4+ in use, "" for an idle or unsampled
// bucket.
func poolClass(r *heatRow, b int) string {
	switch n := r.leaked[b]; {
	case n >= 5:
		return "l4"
	case n >= 3:
		return "l3"
	case n >= 1:
		return "l" + strconv.Itoa(n)
	case r.stopped[b]:
		return "st"
	}
	switch n := r.busy[b]; {
	case n >= 4:
		return "u3"
	case n >= 2:
		return "u2"
	case n == 1:
		return "u1"
	}
	return ""
}

// eventBounds are the upper bounds of the events' levels 1..3 (level 4
// above): a log scale up to the busiest bucket of the run, top.
func eventBounds(top int) [3]int {
	var b [3]int
	for k := range b {
		b[k] = max(k+1, int(math.Ceil(math.Pow(float64(top), float64(k+1)/4))))
	}
	return b
}

// eventLevel is the level (1..4) of a bucket with n events.
func eventLevel(n int, bounds [3]int) int {
	for k, hi := range bounds {
		if n <= hi {
			return k + 1
		}
	}
	return 4
}

// eventColor is the colour of event id: its catalogue colour, else grey.
func eventColor(id int) color.NRGBA {
	for _, st := range slices.Concat(eventStyles, catalogueEventStyles) {
		if st.id == id {
			return st.color
		}
	}
	return otherEventStyle.color
}

// eventName is what the legend calls event id.
func eventName(id int) string {
	for _, st := range slices.Concat(eventStyles, catalogueEventStyles) {
		if st.id == id {
			return st.name
		}
	}
	return otherEventStyle.name
}

// eventTop is the most events of one MTA in one bucket.
func (v *heatView) eventTop() int {
	top := 0
	for _, r := range v.Rows {
		for b := range v.Cols {
			n := 0
			for k := range v.IDs {
				n += r.events[k*v.Cols+b]
			}
			top = max(top, n)
		}
	}
	return top
}

// eventCell is a bucket's dominant id (the most frequent, the lower on a
// tie) and the bucket's total.
func (v *heatView) eventCell(r *heatRow, b int) (id, n int) {
	best := 0
	for k := range v.IDs {
		c := r.events[k*v.Cols+b]
		n += c
		if c > best {
			best, id = c, v.IDs[k]
		}
	}
	return id, n
}

func cssColor(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// legends are the keys of the three heat maps.
func (v *heatView) legends() []heatLegend {
	sw := func(c color.NRGBA, opacity float64) template.CSS {
		return template.CSS(fmt.Sprintf("background:%s;opacity:%g", cssColor(c), opacity))
	}
	fl := heatLegend{Kind: "faults", Title: "Faults acting on the MTA's links"}
	for k, c := range heatFault {
		fl.Items = append(fl.Items, heatLegendItem{sw(c, 1), fmt.Sprintf("%d–%d%% of the bucket", 25*k, 25*(k+1))})
	}
	pl := heatLegend{Kind: "pool", Title: "KCB pool (most in the bucket)"}
	for k, lbl := range []string{"1 in use", "2–3 in use", "4+ in use"} {
		pl.Items = append(pl.Items, heatLegendItem{sw(heatInUse[k], 1), lbl})
	}
	pl.Items = append(pl.Items, heatLegendItem{sw(heatStopped, 1), "MTA stopped"})
	for k, lbl := range []string{"1 leaked", "2 leaked", "3–4 leaked", "5+ leaked"} {
		pl.Items = append(pl.Items, heatLegendItem{sw(heatLeaked[k], 1), lbl})
	}
	el := heatLegend{Kind: "events", Title: "Events: the most frequent id's colour (total in the run)"}
	for k, id := range v.IDs {
		el.Items = append(el.Items, heatLegendItem{sw(eventColor(id), 1), fmt.Sprintf("%d %s (%d)", id, eventName(id), v.IDTotals[k])})
	}
	bounds, lo := eventBounds(v.eventTop()), 1
	for k, op := range heatOpacity {
		label := fmt.Sprintf("%d+ events", lo)
		if k < len(bounds) {
			label = fmt.Sprintf("%d–%d events", lo, bounds[k])
			if bounds[k] == lo {
				label = plural(lo, "event")
			}
			lo = bounds[k] + 1
		}
		el.Items = append(el.Items, heatLegendItem{sw(rgb(0x40, 0x40, 0x40), op), label})
	}
	return []heatLegend{fl, pl, el}
}

// Heat map geometry, in SVG user units (the figure scales to the page).
const (
	heatLabelW = 78.0  // the row labels
	heatPanelW = 288.0 // one heat map
	heatGap    = 14.0
	heatTop    = 40.0 // panel titles and time labels
	heatRowH   = 9.0
	heatBottom = 20.0
	heatWidth  = heatLabelW + 3*heatPanelW + 2*heatGap + 6
)

// draw renders the figure: three panels (faults, pool, events) side by
// side, one row per MTA in v.Rows' order with a header row before each
// group. In a panel, cell (bucket b, row y) is the unit square at (b, y):
// the panel's transform scales it, so that each run of equal cells is a
// short subpath "Mb yhNv1h-Nz" of its colour's path.
func (v *heatView) draw() string {
	// The layout: a header line per group, then its MTAs.
	type line struct {
		header string
		row    *heatRow
	}
	var lines []line
	for _, r := range v.Rows {
		if r.header != "" {
			lines = append(lines, line{header: r.header})
		}
		lines = append(lines, line{row: r})
	}
	height := heatTop + float64(len(lines))*heatRowH + heatBottom
	cw := heatPanelW / float64(v.Cols)

	var b strings.Builder
	b.Grow(64 * len(v.Rows) * v.Cols / 4)
	fmt.Fprintf(&b, `<svg role="img" aria-labelledby="heatmap-cap" class="heat" viewBox="0 0 %g %g" data-rows="%d" data-cols="%d" data-step="%g">`,
		heatWidth, height, len(v.Rows), v.Cols, v.Step)
	b.WriteString(`<style>.heat text{font-size:8px;fill:#202124}.heat .grp{font-weight:700;font-size:7.5px}.heat .ptitle{font-weight:700;font-size:9px}` +
		`.heat .tl{font-size:7px;fill:#5f6368}.heat .hit{fill:transparent}.heat .odd{fill:#000;fill-opacity:.045}` +
		`.heat .tick{stroke:#dadce0;stroke-width:1px;fill:none}.heat .sep{stroke:#9aa0a6;stroke-width:.6;fill:none}.heat .frame{stroke:#9aa0a6;stroke-width:1px;fill:none}`)
	for k, c := range heatFault {
		fmt.Fprintf(&b, ".heat .f%d{fill:%s}", k+1, cssColor(c))
	}
	for k, c := range heatInUse {
		fmt.Fprintf(&b, ".heat .u%d{fill:%s}", k+1, cssColor(c))
	}
	for k, c := range heatLeaked {
		fmt.Fprintf(&b, ".heat .l%d{fill:%s}", k+1, cssColor(c))
	}
	fmt.Fprintf(&b, ".heat .st{fill:%s}", cssColor(heatStopped))
	for _, id := range v.IDs {
		fmt.Fprintf(&b, ".heat .e%d{fill:%s}", id, cssColor(eventColor(id)))
	}
	for k, op := range heatOpacity {
		fmt.Fprintf(&b, ".heat .o%d{fill-opacity:%g}", k+1, op)
	}
	b.WriteString(`</style>`)

	// Row labels and group headers.
	b.WriteString(`<g class="labels">`)
	fmt.Fprintf(&b, `<text class="tl" x="%g" y="%g" text-anchor="end">seconds</text><text class="tl" x="%g" y="%g" text-anchor="end">seconds</text>`,
		heatLabelW-6, heatTop-4, heatLabelW-6, height-heatBottom+9)
	for i, l := range lines {
		y := heatTop + float64(i)*heatRowH
		if l.row == nil {
			fmt.Fprintf(&b, `<text class="grp" x="2" y="%g">%s</text><path class="sep" d="M0 %gH%g"/>`, y+heatRowH-1.5, template.HTMLEscapeString(l.header), y+0.3, heatWidth)
			continue
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, heatLabelW-4, y+heatRowH-1.5, template.HTMLEscapeString(shortName(l.row.Name)))
	}
	b.WriteString(`</g>`)

	bounds := eventBounds(v.eventTop())
	panels := []struct {
		kind, title string
		class       func(r *heatRow, b int) string
		title1      func(r *heatRow) string
	}{
		{"faults", "Faults acting on its links", func(r *heatRow, b int) string {
			if l := faultLevel(r.acting[b], v.Step); l > 0 {
				return "f" + strconv.Itoa(l)
			}
			return ""
		}, func(r *heatRow) string {
			total := 0.0
			for _, a := range r.acting {
				total += a
			}
			return fmt.Sprintf("%s: faults acting %.1f s in all, on %d of its %d links", r.Name, total, r.linksFaulted, r.links)
		}},
		{"pool", "KCB pool: in use, leaked, stopped", poolClass, func(r *heatRow) string {
			s := fmt.Sprintf("%s (%s): most KCBs leaked %d, %d at the end", r.Name, r.Build, r.KCBsLeaked, r.LeakedAtEnd)
			if !slices.Contains(r.sampled, true) {
				s += "; never sampled"
			}
			return s
		}},
		{"events", "Events", func(r *heatRow, b int) string {
			id, n := v.eventCell(r, b)
			if n == 0 {
				return ""
			}
			return fmt.Sprintf("e%d o%d", id, eventLevel(n, bounds))
		}, func(r *heatRow) string {
			var parts []string
			for k, id := range v.IDs {
				if r.Counts[k] > 0 {
					parts = append(parts, fmt.Sprintf("%d×%d", id, r.Counts[k]))
				}
			}
			return fmt.Sprintf("%s: %s %s", r.Name, plural(r.EventsTotal, "event"), strings.Join(parts, " "))
		}},
	}
	ticks := heatTicks(v.Step * float64(v.Cols))
	for p, pn := range panels {
		x0 := heatLabelW + float64(p)*(heatPanelW+heatGap)
		fmt.Fprintf(&b, `<text class="ptitle" x="%g" y="12">%s</text>`, x0, pn.title)
		for _, t := range ticks {
			x := x0 + t/v.Step*cw
			fmt.Fprintf(&b, `<text class="tl" x="%g" y="%g" text-anchor="middle">%g</text>`, x, heatTop-4, t)
			fmt.Fprintf(&b, `<text class="tl" x="%g" y="%g" text-anchor="middle">%g</text>`, x, height-heatBottom+9, t)
		}
		var cells strings.Builder
		painted := 0
		for i, l := range lines {
			if l.row == nil {
				continue
			}
			r := l.row
			fmt.Fprintf(&cells, `<g class="row" data-mta="%s"><title>%s</title><rect class="hit%s" y="%d" width="%d" height="1"/>`,
				template.HTMLEscapeString(r.Name), template.HTMLEscapeString(pn.title1(r)), stripe(r.Rank), i, v.Cols)
			// Runs of equal cells, one path per class in order of first
			// appearance.
			var classes []string
			runs := map[string]*strings.Builder{}
			for c := 0; c < v.Cols; {
				cl := pn.class(r, c)
				n := 1
				for c+n < v.Cols && pn.class(r, c+n) == cl {
					n++
				}
				if cl != "" {
					rb := runs[cl]
					if rb == nil {
						rb = &strings.Builder{}
						runs[cl] = rb
						classes = append(classes, cl)
					}
					fmt.Fprintf(rb, "M%d %dh%dv1h-%dz", c, i, n, n)
					painted += n
				}
				c += n
			}
			for _, cl := range classes {
				fmt.Fprintf(&cells, `<path class="%s" d="%s"/>`, cl, runs[cl].String())
			}
			cells.WriteString(`</g>`)
		}
		fmt.Fprintf(&b, `<g class="panel" data-kind="%s" data-cells="%d" transform="translate(%g %g) scale(%g %g)">`,
			pn.kind, painted, x0, heatTop, cw, heatRowH)
		for _, t := range ticks {
			fmt.Fprintf(&b, `<path class="tick" vector-effect="non-scaling-stroke" d="M%g 0V%d"/>`, t/v.Step, len(lines))
		}
		b.WriteString(`<g shape-rendering="crispEdges">`)
		b.WriteString(cells.String())
		b.WriteString(`</g>`)
		fmt.Fprintf(&b, `<rect class="frame" vector-effect="non-scaling-stroke" width="%d" height="%d"/></g>`, v.Cols, len(lines))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// stripe is the class that shades every other row.
func stripe(rank int) string {
	if rank%2 == 0 {
		return " odd"
	}
	return ""
}

// heatTicks are the labelled times of a heat map's axis: at most about 7.
func heatTicks(end float64) []float64 {
	step := niceSeconds[len(niceSeconds)-1]
	for _, s := range niceSeconds {
		if end/s <= 6 {
			step = s
			break
		}
	}
	var out []float64
	for i := 0; float64(i)*step <= end+1e-9; i++ {
		out = append(out, math.Round(float64(i)*step*1e6)/1e6)
	}
	return out
}

// shortName is name cut to fit the label column; the row's tooltip has it
// whole.
func shortName(name string) string {
	const most = 14
	if r := []rune(name); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return name
}

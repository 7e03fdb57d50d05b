package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/harness/capture"
)

// wireConnRows is the most connections the wire section lists per link.
const wireConnRows = 40

// wireSection renders the report's wire section: per link, the units each
// side wrote and the other read over time (from the bundle's captures),
// and per connection what was written, what arrived and how it ended.
// start is the run's start (zero: the first packet's time). No captures
// give an empty section.
func wireSection(wires []*capture.Wire, start time.Time) (template.HTML, error) {
	if len(wires) == 0 {
		return "", nil
	}
	if start.IsZero() {
		start = firstPacket(wires)
	}
	var links []wireLink
	for i, w := range wires {
		links = append(links, wireLinkOf(i, w, start))
	}
	var buf bytes.Buffer
	if err := wireTemplate.Execute(&buf, links); err != nil {
		return "", fmt.Errorf("report: wire: %w", err)
	}
	return template.HTML(buf.String()), nil
}

func firstPacket(wires []*capture.Wire) time.Time {
	var t time.Time
	for _, w := range wires {
		for i := range w.Pairs {
			if o := w.Pairs[i].Opened(); t.IsZero() || o.Before(t) {
				t = o
			}
		}
	}
	return t
}

// wireLink is one link as the template shows it.
type wireLink struct {
	ID, Link, Summary string
	Missing           []string
	Limits            []string
	SVG               template.HTML
	Kinds             []wireKind
	From, To          string
	Conns             []wireConn
	More              int
}

type wireKind struct {
	Kind                                       string
	UpSent, UpReceived, DownSent, DownReceived int
	UpShort, DownShort                         bool
}

type wireConn struct {
	N                int
	Opened, By       string
	Up, Down, Ends   string
	UpLost, DownLost bool
}

func wireLinkOf(i int, w *capture.Wire, start time.Time) wireLink {
	l := wireLink{ID: fmt.Sprintf("wire-%d", i), Link: w.Link.String(), Missing: w.Missing, From: w.Link.From, To: w.Link.To}
	for _, f := range []*capture.File{w.Sent, w.Received} {
		if f != nil && f.Dropped > 0 {
			l.Limits = append(l.Limits, fmt.Sprintf("%s reached its size limit: %d later packets were not written, so it ends early.", f.Name, f.Dropped))
		}
	}
	l.Summary = fmt.Sprintf("%d connection(s). %s %s", len(w.Pairs), flowSummary(&w.Up), flowSummary(&w.Down))
	l.SVG = wireChart(w, start)
	kinds := map[string]*wireKind{}
	var order []string
	count := func(units []capture.Unit, field func(*wireKind) *int) {
		for _, u := range units {
			k := u.Kind.String()
			if kinds[k] == nil {
				kinds[k] = &wireKind{Kind: k}
				order = append(order, k)
			}
			*field(kinds[k])++
		}
	}
	count(w.Up.Sent, func(k *wireKind) *int { return &k.UpSent })
	count(w.Up.Received, func(k *wireKind) *int { return &k.UpReceived })
	count(w.Down.Sent, func(k *wireKind) *int { return &k.DownSent })
	count(w.Down.Received, func(k *wireKind) *int { return &k.DownReceived })
	for _, k := range order {
		kk := *kinds[k]
		kk.UpShort, kk.DownShort = kk.UpReceived != kk.UpSent, kk.DownReceived != kk.DownSent
		l.Kinds = append(l.Kinds, kk)
	}
	for n := range w.Pairs {
		if n == wireConnRows {
			l.More = len(w.Pairs) - n
			break
		}
		p := &w.Pairs[n]
		c := wireConn{N: n + 1, Opened: fmt.Sprintf("%.3f s", p.Opened().Sub(start).Seconds()), By: p.By}
		if c.By == "" {
			c.By = "one side only"
		}
		s, r := p.Up()
		c.Up, c.UpLost = streamStory(w.Link.From, w.Link.To, s, r)
		s, r = p.Down()
		c.Down, c.DownLost = streamStory(w.Link.To, w.Link.From, s, r)
		c.Ends = ends(w.Link, p, start)
		l.Conns = append(l.Conns, c)
	}
	return l
}

// flowSummary is one sentence about a direction of a link.
func flowSummary(f *capture.Flow) string {
	s := fmt.Sprintf("%s→%s: %s wrote %d unit(s), %d B; %s read %d unit(s), %d B", f.From, f.To,
		f.From, len(f.Sent), f.SentBytes, f.To, len(f.Received), f.ReceivedBytes)
	if f.Cut > 0 {
		s += fmt.Sprintf("; %d B never arrived", f.Cut)
	}
	if f.Mismatched > 0 {
		s += fmt.Sprintf("; %d connection(s) read other bytes than were written", f.Mismatched)
	}
	if len(f.Delays) > 0 {
		d := slices.Clone(f.Delays)
		slices.Sort(d)
		s += fmt.Sprintf("; write to read median %s, max %s", fmtDelay(d[len(d)/2]), fmtDelay(d[len(d)-1]))
	}
	return s + "."
}

func fmtDelay(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// streamStory says what one side wrote and the other read on one
// connection in one direction; lost is set when not everything arrived.
func streamStory(from, to string, sent, recv *capture.Stream) (string, bool) {
	if sent == nil && recv == nil {
		return "", false
	}
	if sent == nil {
		return fmt.Sprintf("%s read %s (%s's side not recorded)", to, unitsText(recv), from), false
	}
	if recv == nil {
		return fmt.Sprintf("%s wrote %s (%s's side not recorded)", from, unitsText(sent), to), false
	}
	if len(sent.Data) == 0 && len(recv.Data) == 0 {
		return "nothing", false
	}
	if bytes.Equal(sent.Data, recv.Data) {
		return capture.Kinds(sent.Units) + fmt.Sprintf(" (%d B, all read)", len(sent.Data)), false
	}
	s := fmt.Sprintf("%s wrote %s; %s read %s", from, unitsText(sent), to, unitsText(recv))
	if !bytes.HasPrefix(sent.Data, recv.Data) {
		return s + ": the bytes read differ from those written", true
	}
	s += fmt.Sprintf("; %d B never arrived", len(sent.Data)-len(recv.Data))
	if k := len(recv.Units); recv.Partial > 0 && k < len(sent.Units) {
		s += fmt.Sprintf(" (cut inside the %s, after %d of its %d B)", sent.Units[k].Kind, recv.Partial, sent.Units[k].Len)
	} else if k := len(recv.Units); k > 0 && k < len(sent.Units) {
		s += fmt.Sprintf(" (cut after the %s)", recv.Units[k-1].Kind)
	}
	return s, true
}

func unitsText(s *capture.Stream) string {
	t := capture.Kinds(s.Units)
	if t == "" {
		t = "no complete unit"
	}
	t += fmt.Sprintf(" (%d B", len(s.Data))
	if s.Partial > 0 {
		t += fmt.Sprintf(", the last %d B an incomplete frame", s.Partial)
	}
	if s.Bad != nil {
		t += ", then a malformed frame: " + s.Bad.Error()
	}
	return t + ")"
}

// ends says how each side of a connection ended.
func ends(l capture.Link, p *capture.Pair, start time.Time) string {
	var parts []string
	side := func(who string, own, other *capture.Stream) {
		var s []string
		if own.End != "" {
			s = append(s, fmt.Sprintf("%s sent %s at %.3f s", who, own.End, own.EndAt.Sub(start).Seconds()))
		}
		if other.End != "" {
			s = append(s, fmt.Sprintf("%s got %s from the proxy at %.3f s", who, other.End, other.EndAt.Sub(start).Seconds()))
		}
		if len(s) == 0 {
			s = append(s, who+": open at the end")
		}
		parts = append(parts, strings.Join(s, ", "))
	}
	if p.Initiator != nil {
		side(l.From, &p.Initiator.Up, &p.Initiator.Down)
	}
	if p.Responder != nil {
		side(l.To, &p.Responder.Down, &p.Responder.Up)
	}
	return strings.Join(parts, "; ")
}

// wireChart draws a link's units over time: the cumulative count each side
// wrote (solid) and the other read (dashed), up and down.
func wireChart(w *capture.Wire, start time.Time) template.HTML {
	const (
		width, height  = 1000.0, 200.0
		left, right    = 60.0, 200.0
		top, bottom    = 12.0, 32.0
		plotW, plotH   = width - left - right, height - top - bottom
		colUp, colDown = "#1f77b4", "#2ca02c"
	)
	series := []struct {
		name, color string
		dashed      bool
		units       []capture.Unit
	}{
		{w.Link.From + " wrote (up)", colUp, false, w.Up.Sent},
		{w.Link.To + " read (up)", colUp, true, w.Up.Received},
		{w.Link.To + " wrote (down)", colDown, false, w.Down.Sent},
		{w.Link.From + " read (down)", colDown, true, w.Down.Received},
	}
	end, maxN := 0.0, 1
	for _, s := range series {
		if n := len(s.units); n > 0 {
			end = math.Max(end, s.units[n-1].At.Sub(start).Seconds())
			maxN = max(maxN, n)
		}
	}
	end = niceCeil(math.Max(end, 0.001))
	x := func(t float64) float64 { return left + plotW*t/end }
	y := func(n int) float64 { return top + plotH - plotH*float64(n)/float64(maxN) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="100%%" role="img" aria-label="units written and read on %s over time">`, width, height, template.HTMLEscapeString(w.Link.String()))
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#dadce0"/>`, left, top, plotW, plotH)
	for i := 0; i <= 4; i++ {
		t := end * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dadce0"/>`, x(t), top+plotH, x(t), top+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#5f6368">%.3g s</text>`, x(t), top+plotH+16, t)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#5f6368">%d</text>`, left-6, top+8, maxN)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#5f6368">0</text>`, left-6, top+plotH)
	fmt.Fprintf(&b, `<text x="14" y="%.1f" font-size="11" fill="#5f6368" transform="rotate(-90 14 %.1f)" text-anchor="middle">units</text>`, top+plotH/2, top+plotH/2)
	for i, s := range series {
		pts := []string{fmt.Sprintf("%.1f,%.1f", x(0), y(0))}
		for n, u := range s.units {
			t := math.Max(0, u.At.Sub(start).Seconds())
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(n)), fmt.Sprintf("%.1f,%.1f", x(t), y(n+1)))
		}
		if n := len(s.units); n > 0 {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(end), y(n)))
		}
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.6"%s/>`, strings.Join(pts, " "), s.color, dash)
		ly := top + 14 + float64(i)*18
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, width-right+14, ly-4, width-right+40, ly-4, s.color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#202124">%s: %d</text>`, width-right+46, ly, template.HTMLEscapeString(s.name), len(s.units))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

var wireTemplate = template.Must(template.New("wire").Parse(`<h2 id="wire">Wire: units written and read per link</h2>
<p class="note">From the bundle's captures/: per link, what the initiator wrote to its connection to the proxy and what the responder read from its connection from the proxy (up), and the other way (down). A fault shows as the difference. Open a capture in Wireshark with <code>wireshark -X lua_script:tools/wireshark/minip1.lua captures/FILE.pcapng</code>.</p>
{{range .}}<section class="wire" id="{{.ID}}" data-link="{{.Link}}">
<figure class="wire-chart" style="margin:0 0 6px">
<figcaption><h3>{{.Link}}</h3> <p class="summary" style="display:inline;margin:0 0 0 6px;color:#5f6368;font-size:13px">{{.Summary}}</p></figcaption>
{{range .Missing}}<p class="note">Missing: {{.}}.</p>{{end}}{{range .Limits}}<p class="note">{{.}}</p>{{end}}
{{.SVG}}
</figure>
<table class="wire-kinds" aria-label="units per kind on {{.Link}}">
<thead><tr><th scope="col">unit</th><th scope="col">{{.From}} wrote</th><th scope="col">{{.To}} read</th><th scope="col">{{.To}} wrote</th><th scope="col">{{.From}} read</th></tr></thead>
<tbody>
{{range .Kinds}}<tr><th scope="row">{{.Kind}}</th><td class="num">{{.UpSent}}</td><td class="num{{if .UpShort}} c-failed{{end}}">{{.UpReceived}}</td><td class="num">{{.DownSent}}</td><td class="num{{if .DownShort}} c-failed{{end}}">{{.DownReceived}}</td></tr>
{{end}}</tbody>
</table>
{{if .Conns}}<table class="wire-conns" aria-label="connections of {{.Link}}" style="table-layout:fixed;width:100%;overflow-wrap:anywhere">
<thead><tr><th scope="col" style="width:3em">#</th><th scope="col" style="width:6em">opened</th><th scope="col" style="width:9em">matched by</th><th scope="col">{{.From}}→{{.To}}</th><th scope="col">{{.To}}→{{.From}}</th><th scope="col">ends</th></tr></thead>
<tbody>
{{range .Conns}}<tr><th scope="row">{{.N}}</th><td>{{.Opened}}</td><td>{{.By}}</td><td{{if .UpLost}} class="c-failed" style="font-weight:400"{{end}}>{{.Up}}</td><td{{if .DownLost}} class="c-failed" style="font-weight:400"{{end}}>{{.Down}}</td><td>{{.Ends}}</td></tr>
{{end}}</tbody>
</table>
{{if .More}}<p class="note">… and {{.More}} more connection(s): open the captures for all.</p>{{end}}{{end}}
</section>
{{end}}`))

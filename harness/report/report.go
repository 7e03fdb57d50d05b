// Package report draws a judged run: report.html, one self-contained page
// with the verdict, the checks and the run's charts on one time axis, and
// junit.xml for CI. It reads the run's records (harness/result), its
// scenario and its fault schedule, whose activity per link comes from
// faults; harness calls it when it writes or re-judges a bundle.
package report

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/capture"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Input is what a report is drawn from: a judged run.
type Input struct {
	// Scenario is the scenario as run; its Raw text is shown when set.
	Scenario *scenario.Scenario
	// Summary is the judged summary (summary.json).
	Summary result.Summary
	// Schedule is the fault schedule the run applied (nil: none).
	Schedule *faults.Schedule
	// Events, Deliveries, Samples and Ledger are the run's records, as in
	// its bundle.
	Events     []eventlog.Record
	Deliveries []result.DeliveryRecord
	Samples    []result.Sample
	Ledger     []result.LedgerEntry
	// Wire compares each link's two captures (nil: the bundle has none;
	// the report then has no wire section).
	Wire []*capture.Wire
}

// WriteHTML writes report.html for a judged run: one self-contained HTML
// page (inline CSS and SVG charts, no script, no fetch) with the verdict,
// the checks, a fault timeline per link, and per MTA its events, KCB
// occupancy and queue depth on the run's time axis, then the event counts
// and the scenario as run.
//
// A run of more MTAs than ChartsUpTo gets the summary view instead of the
// charts: heat maps of every MTA's faults, KCB pool and events over time,
// worst first, and a totals table in the same order (heatmap.go). Either
// way the messages table lists at most pairRows pairs one by one.
func WriteHTML(w io.Writer, in *Input) error {
	sc := in.Scenario
	var charts []chart
	var heat *heatView
	var err error
	if len(sc.MTAs) > ChartsUpTo {
		heat = newHeatView(in)
	} else if charts, err = reportCharts(in); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	raw := sc.Raw
	if len(raw) == 0 {
		if raw, err = scenario.Marshal(sc); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	s := in.Summary
	wire, err := wireSection(in.Wire, s.Started)
	if err != nil {
		return err
	}
	data := reportPage{
		Wire:        wire,
		Summary:     s,
		Description: sc.Description,
		Scenario:    string(raw),
		// A long scenario (a large organisation's) is folded.
		ScenarioLines: bytes.Count(raw, []byte("\n")) + 1,
		Duration:      fmt.Sprintf("%.3f s", s.DurationS),
		Recovery:      "not recovered (not every message delivered)",
		Anchor:        fmt.Sprintf("%.3f s", s.AnchorS),
		Charts:        charts,
		Heat:          heat,
		Pairs:         newPairTable(s.Pairs),
	}
	if sc.Expect.Recovery == nil {
		data.Recovery = "not checked (no recovery expectation)"
	}
	if s.RecoveryS != nil {
		data.Recovery = fmt.Sprintf("%.3f s after the anchor", *s.RecoveryS)
	}
	if in.Schedule != nil {
		data.Toggles = len(in.Schedule.Toggles)
	}
	if heat == nil {
		data.EventIDs, data.MTAs = eventCounts(s)
	}
	data.Builds = buildsFact(s.MTAs)
	for _, c := range s.Checks {
		switch c.Verdict {
		case result.Passed:
			data.Passed++
		case result.Failed:
			data.Failed++
		default:
			data.Unknown++
		}
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, data); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// eventCounts returns the columns (the catalogue's usual ids and every
// id logged) and rows (MTAs by name) of the chart view's event counts
// table.
func eventCounts(s result.Summary) ([]int, []reportMTA) {
	ids := map[int]bool{}
	for _, e := range eventStyles {
		ids[e.id] = true
	}
	for _, m := range s.MTAs {
		for k := range m.Events {
			if id, err := strconv.Atoi(k); err == nil {
				ids[id] = true
			}
		}
	}
	cols := slices.Sorted(maps.Keys(ids))
	var rows []reportMTA
	for _, name := range slices.Sorted(maps.Keys(s.MTAs)) {
		m := s.MTAs[name]
		row := reportMTA{Name: name, MTASummary: *m}
		for _, id := range cols {
			row.Counts = append(row.Counts, m.Events[strconv.Itoa(id)])
		}
		rows = append(rows, row)
	}
	return cols, rows
}

// reportPage is what the report template renders.
type reportPage struct {
	// Summary's Pairs are shown through the page's Pairs.
	result.Summary
	Description, Scenario, Duration, Recovery, Anchor string
	// Builds names each build in the run with its defects and MTAs.
	Builds                  string
	Toggles                 int
	ScenarioLines           int
	Passed, Failed, Unknown int
	EventIDs                []int
	MTAs                    []reportMTA
	Charts                  []chart
	// Heat is the summary view of a run of more than ChartsUpTo MTAs (nil:
	// the charts are drawn).
	Heat *heatView
	// Pairs is the messages table.
	Pairs pairTable
	Wire  template.HTML
}

// buildsFact groups the MTAs by build and defect set: "A0, B0: 5.5-sp2
// (Q229643, Q232602) · A2, B2: 5.5-sp3 (Q247419)"; an MTA summary without a
// build (an older bundle) shows its mode. A build of more than maxListed
// MTAs names the first ones and counts the rest ("hub, s004, s009, s014
// and 36 more").
func buildsFact(mtas map[string]*result.MTASummary) string {
	var keys []string
	names := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(mtas)) {
		m := mtas[name]
		k := m.Build
		if k == "" {
			k = m.Mode
		}
		if len(m.Defects) > 0 {
			k += " (" + strings.Join(m.Defects, ", ") + ")"
		} else if m.Build != "" {
			k += " (no known defect)"
		}
		if _, ok := names[k]; !ok {
			keys = append(keys, k)
		}
		names[k] = append(names[k], name)
	}
	var parts []string
	for _, k := range keys {
		list := strings.Join(names[k], ", ")
		if n := len(names[k]); n > maxListed {
			list = strings.Join(names[k][:maxListed], ", ") + fmt.Sprintf(" and %d more", n-maxListed)
		}
		parts = append(parts, list+": "+k)
	}
	return strings.Join(parts, " · ")
}

type reportMTA struct {
	Name string
	result.MTASummary
	Counts []int
}

var reportTemplate = template.Must(template.Must(template.New("report").Parse(reportHTML)).Parse(
	`{{define "pairsum"}}<td class="num">{{.Declared}}</td><td class="num">{{.Submitted}}</td><td class="num">{{.Refused}}</td><td class="num">{{.Delivered}}</td><td class="num{{if .Undelivered}} c-failed{{end}}">{{.Undelivered}}</td><td class="num{{if .Duplicates}} c-failed{{end}}">{{.Duplicates}}</td>{{end}}`))

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mtastorm · {{.Summary.Scenario}} · {{.Verdict}}</title>
<style>
  :root { --pass: #1e8e3e; --fail: #c5221f; --unk: #b06000; --ink: #202124; --mute: #5f6368; --line: #dadce0; }
  * { box-sizing: border-box; }
  body { margin: 0; padding: 18px 28px 40px; font: 14px/1.45 "Liberation Sans", Arial, Helvetica, sans-serif; color: var(--ink); background: #fff; }
  main { max-width: 1340px; margin: 0 auto; }
  h1 { font-size: 24px; margin: 0 0 4px; }
  h2 { font-size: 18px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
  h3 { font-size: 14px; margin: 14px 0 2px; color: #3c4043; }
  figcaption { margin: 14px 0 2px; }
  .desc { color: var(--mute); margin: 0 0 12px; max-width: 1000px; }
  .facts { display: flex; flex-wrap: wrap; gap: 8px 26px; margin: 10px 0 4px; }
  .facts div { min-width: 120px; }
  .facts b { display: block; font-size: 11px; text-transform: uppercase; letter-spacing: .05em; color: var(--mute); font-weight: 600; }
  .facts span { font-size: 17px; }
  .verdict { display: inline-block; padding: 1px 10px; border-radius: 12px; color: #fff; font-weight: 700; }
  .v-passed { background: var(--pass); } .v-failed { background: var(--fail); } .v-unknown { background: var(--unk); }
  table { border-collapse: collapse; margin: 6px 0; }
  th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
  th { background: #f1f3f4; font-weight: 600; }
  tbody th { background: none; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.c-passed { background: #e6f4ea; color: var(--pass); font-weight: 700; }
  td.c-failed { background: #fce8e6; color: var(--fail); font-weight: 700; }
  td.c-unknown { background: #fef7e0; color: var(--unk); font-weight: 700; }
  figure.chart { margin: 0 0 6px; }
  figcaption h3 { display: inline; }
  figcaption .summary { display: inline; margin: 0 0 0 6px; color: var(--mute); font-size: 13px; }
  figure.chart svg { display: block; width: 100%; height: auto; }
  svg text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif !important; }
  .note { color: var(--mute); font-size: 12px; }
  figure.heatmap { margin: 0 0 6px; }
  figure.heatmap svg { display: block; width: 100%; height: auto; }
  .legends { display: flex; flex-wrap: wrap; gap: 6px 30px; font-size: 12px; margin: 4px 0 10px; }
  .legend ul { list-style: none; margin: 2px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 12px; max-width: 620px; }
  .legend .sw { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; border: 1px solid #0002; }
  tr.others th, tr.total th { font-weight: 600; }
  table.totals th, table.totals td { padding: 2px 7px; }
  table.totals tr.grp th { background: #f1f3f4; }
  tfoot td, tfoot th { border-top: 2px solid var(--mute); }
  pre { background: #f8f9fa; border: 1px solid var(--line); padding: 10px 12px; overflow-x: auto; font: 12px/1.4 "Liberation Mono", "DejaVu Sans Mono", monospace; }
</style>
</head>
<body>
<main>
<header>
<h1>{{.Summary.Scenario}} <span class="verdict v-{{.Verdict}}">{{.Verdict}}</span></h1>
{{with .Description}}<p class="desc">{{.}}</p>{{end}}
<div class="facts">
  <div><b>seed</b><span>{{.Seed}}</span></div>
  {{with .Builds}}<div><b>builds</b><span>{{.}}</span></div>{{end}}
  <div><b>verdict</b><span>{{.Verdict}}</span></div>
  <div><b>duration</b><span>{{.Duration}}</span></div>
  <div><b>recovery</b><span>{{.Recovery}}</span></div>
  <div><b>recovery anchor</b><span>{{.Anchor}}</span></div>
  <div><b>checks</b><span>{{.Passed}} passed · {{.Failed}} failed · {{.Unknown}} unknown</span></div>
  <div><b>fault toggles</b><span>{{.Toggles}}</span></div>
</div>
</header>

<h2 id="checks">Checks</h2>
<table class="checks" aria-labelledby="checks">
<thead><tr><th scope="col">check</th><th scope="col">verdict</th><th scope="col">detail</th></tr></thead>
<tbody>
{{range .Checks}}<tr><th scope="row">{{.Name}}</th><td class="c-{{.Verdict}}">{{.Verdict}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>

{{with .Pairs}}{{if .N}}<h2 id="messages">Messages per pair</h2>
<p class="note">Every message the traffic declares: submitted (accepted by the sender), refused (offered while the sender was stopped), delivered at least once, never delivered, and extra deliveries of one message.{{if .Others}} {{.N}} pairs: {{if .Rows}}the {{len .Rows}} worst (most undelivered, then duplicated, then refused) one by one, {{end}}the other {{.Others.N}} summed, then all of them.{{end}}</p>
<table class="pairs" aria-labelledby="messages" data-pairs="{{.N}}">
<thead><tr><th scope="col">from</th><th scope="col">to</th><th scope="col">declared</th><th scope="col">submitted</th><th scope="col">refused</th><th scope="col">delivered</th><th scope="col">undelivered</th><th scope="col">duplicates</th></tr></thead>
<tbody>
{{range .Rows}}<tr><th scope="row">{{.From}}</th><td>{{.To}}</td><td class="num">{{.Declared}}</td><td class="num">{{.Submitted}}</td><td class="num">{{.Refused}}</td><td class="num">{{.Delivered}}</td><td class="num{{if .Undelivered}} c-failed{{end}}">{{.Undelivered}}</td><td class="num{{if .Duplicates}} c-failed{{end}}">{{.Duplicates}}</td></tr>
{{end}}{{with .Others}}<tr class="others"><th scope="row" colspan="2">{{.Label}}</th>{{template "pairsum" .}}</tr>
{{end}}</tbody>
{{with .Total}}<tfoot><tr class="total"><th scope="row" colspan="2">{{.Label}}</th>{{template "pairsum" .}}</tr></tfoot>
{{end}}</table>
{{end}}{{end}}
{{if .Heat}}{{with .Heat}}<h2 id="summary-view">MTAs over time</h2>
<p class="note">More than {{.Above}} MTAs: one row per MTA instead of charts, grouped and ordered worst first (KCBs still leaked at the end, then leaked during the run, messages undelivered, events), the same order as the totals below. Hover a row for its figures.</p>
<figure class="heatmap" id="heatmap" data-kind="heatmap">
<figcaption id="heatmap-cap"><h3>{{.Title}}</h3> <p class="summary">{{.Summary}}</p></figcaption>
{{.SVG}}
</figure>
<div class="legends">{{range .Legends}}<div class="legend" data-kind="{{.Kind}}"><b>{{.Title}}</b><ul>{{range .Items}}<li><span class="sw" style="{{.Style}}"></span>{{.Label}}</li>{{end}}</ul></div>
{{end}}</div>
{{end}}{{else}}<h2>Timeline</h2>
<p class="note">Every chart shares the time axis: seconds since the run start. Shaded orange: some fault is acting on a link; dashed vertical lines: MTA actions.</p>
{{range .Charts}}<figure class="chart chart-{{.Kind}}" id="{{.ID}}" data-kind="{{.Kind}}" data-subject="{{.Subject}}">
<figcaption id="{{.ID}}-cap"><h3>{{.Title}}</h3> <p class="summary">{{.Summary}}</p></figcaption>
{{.SVG}}
</figure>
{{end}}{{end}}
{{.Wire}}
{{if .Heat}}{{with .Heat}}{{$cols := .TotalsColumns}}<h2 id="event-counts">Totals per MTA, worst first</h2>
<table class="events totals" aria-labelledby="event-counts">
<thead><tr><th scope="col">#</th><th scope="col">MTA</th><th scope="col">build</th><th scope="col">most KCBs leaked</th><th scope="col">leaked at end</th><th scope="col">submitted</th><th scope="col">delivered</th><th scope="col">undelivered to</th><th scope="col">undelivered from</th><th scope="col">duplicates</th><th scope="col">events</th>{{range .IDs}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}{{with .Header}}<tr class="grp"><th scope="rowgroup" colspan="{{$cols}}">{{.}}</th></tr>
{{end}}<tr data-mta="{{.Name}}"><td class="num">{{.Rank}}</td><th scope="row">{{.Name}}</th><td>{{.Build}}</td><td class="num{{if .KCBsLeaked}} c-failed{{end}}">{{.KCBsLeaked}}</td><td class="num{{if .LeakedAtEnd}} c-failed{{end}}">{{.LeakedAtEnd}}</td><td class="num">{{.Submitted}}</td><td class="num">{{.Delivered}}</td><td class="num{{if .UndeliveredTo}} c-failed{{end}}">{{.UndeliveredTo}}</td><td class="num{{if .UndeliveredFrom}} c-failed{{end}}">{{.UndeliveredFrom}}</td><td class="num">{{.Duplicates}}</td><td class="num">{{.EventsTotal}}</td>{{range .Counts}}<td class="num">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}{{else}}<h2 id="event-counts">Event counts per MTA</h2>
<table class="events" aria-labelledby="event-counts">
<thead><tr><th scope="col">MTA</th><th scope="col">build</th><th scope="col">defects</th><th scope="col">submitted</th><th scope="col">refused</th><th scope="col">delivered</th><th scope="col">duplicates</th><th scope="col">most KCBs leaked</th><th scope="col">leaked at end</th>{{range .EventIDs}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .MTAs}}<tr><th scope="row">{{.Name}}</th><td>{{if .Build}}{{.Build}}{{else}}{{.Mode}}{{end}}</td><td>{{range $i, $d := .Defects}}{{if $i}}, {{end}}{{$d}}{{else}}none{{end}}</td><td class="num">{{.Submitted}}</td><td class="num">{{.Refused}}</td><td class="num">{{.Delivered}}</td><td class="num">{{.Duplicates}}</td><td class="num">{{.KCBsLeaked}}</td><td class="num">{{.LeakedAtEnd}}</td>{{range .Counts}}<td class="num">{{.}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}
<h2>Scenario as run</h2>
{{if gt .ScenarioLines 80}}<details class="scenario"><summary>scenario.yaml, {{.ScenarioLines}} lines</summary>
<pre class="scenario">{{.Scenario}}</pre>
</details>{{else}}<pre class="scenario">{{.Scenario}}</pre>{{end}}
<p class="note">Written by mtastorm. Re-judge this bundle with <code>mtastorm check DIR</code>.</p>
</main>
</body>
</html>
`

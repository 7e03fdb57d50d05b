package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/report"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// The report in a real browser: headless Chromium opens report.html of real
// runs and checks what a reader needs. The runs are harness.Run's, so this
// is an external test package: harness imports report, and report_test
// may import both. The test needs a Chromium: $CHROMIUM
// (which must then work), else the first of chromium, chromium-browser,
// google-chrome on $PATH; with none it skips. .ci/run installs Debian's
// chromium and sets $CHROMIUM, so in CI it runs.
//
// $MTASTORM_REPORT_BUNDLES (bundle folders separated by the OS path list
// separator) checks those bundles instead of running the scenarios; this is
// what ci/report-screenshot.sh does.
//
// Screenshots (SCENARIO-WIDTH.png, and SCENARIO-1366-grey.png as a reader
// without colour vision sees it) and a copy of each report go to
// $MTASTORM_ARTIFACTS/report-browser; when that is unset, to a temporary
// folder kept only when the test fails.

const (
	// EnvChromium names the Chromium to use.
	envChromium = "CHROMIUM"
	// envReportBundles lists bundles to check instead of running scenarios.
	envReportBundles = "MTASTORM_REPORT_BUNDLES"
)

// browserWidths are the viewport widths a report must work at: a laptop
// and a full-HD screen.
var browserWidths = []int64{1366, 1920}

// browserScenarios are the runs whose reports the test opens: the KB
// article's reproduction, a fault of the catalogue, and a storm over
// several links.
var browserScenarios = []struct {
	file     string
	minLinks int
}{
	{"q152877-sp0.yaml", 1},
	{"faults/truncate.yaml", 1},
	{"faults/storm.yaml", 2},
}

// TestReportInBrowser opens the report of each of browserScenarios' runs
// (or of $MTASTORM_REPORT_BUNDLES) in headless Chromium at each of
// browserWidths and checks it against the bundle's files.
func TestReportInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	out := browserArtifacts(t)
	start := time.Now()
	browser, version := startBrowser(t, exe)
	t.Cleanup(func() {
		t.Logf("%s: browser check %s; screenshots in %s", version, time.Since(start).Round(time.Millisecond), out)
	})
	if env := os.Getenv(envReportBundles); env != "" {
		for _, dir := range filepath.SplitList(env) {
			t.Run(filepath.Base(dir), func(t *testing.T) { checkReportInBrowser(t, browser, dir, out) })
		}
		return
	}
	t.Setenv(toxi.EnvURL, "") // an embedded Toxiproxy
	for _, s := range browserScenarios {
		t.Run(strings.TrimSuffix(filepath.Base(s.file), ".yaml"), func(t *testing.T) {
			t.Parallel()
			sc, err := scenario.Load(filepath.Join("..", "..", "scenarios", s.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(sc.Links) < s.minLinks {
				t.Fatalf("%s has %d links, want at least %d", s.file, len(sc.Links), s.minLinks)
			}
			dir := filepath.Join(t.TempDir(), "bundle")
			if _, err := harness.Run(testkit.Context(t), sc, harness.Options{Out: dir}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkReportInBrowser(t, browser, dir, out)
		})
	}
}

// TestSummaryReportInBrowser opens the report of a synthetic 200-MTA run
// (report's syntheticOrg: 200 MTAs, 398 links, 30 s; no real run) in
// headless Chromium at each of browserWidths and checks what
// checkReportInBrowser checks of every report, there the summary view:
// every MTA a row in each heat map, the painted cells there and visible
// where they are drawn, the legend, the totals table.
func TestSummaryReportInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	out := browserArtifacts(t)
	browser, version := startBrowser(t, exe)
	start := time.Now()
	t.Cleanup(func() {
		t.Logf("%s: browser check %s; screenshots in %s", version, time.Since(start).Round(time.Millisecond), out)
	})
	dir := filepath.Join(t.TempDir(), "bundle")
	writeSyntheticBundle(t, dir, 200)
	checkReportInBrowser(t, browser, dir, out)
}

// writeSyntheticBundle writes what checkReportInBrowser reads of a bundle
// (report.html, summary.json, scenario.yaml, events.jsonl) for a
// synthetic run of n MTAs.
func writeSyntheticBundle(t *testing.T, dir string, n int) {
	t.Helper()
	in, _ := report.SyntheticOrg(t, n, 30*time.Second, 1)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sum, err := json.Marshal(in.Summary)
	if err != nil {
		t.Fatal(err)
	}
	var html, events bytes.Buffer
	if err := report.WriteHTML(&html, in); err != nil {
		t.Fatal(err)
	}
	if err := eventlog.WriteJSONL(&events, in.Events); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{harness.FileReport: html.Bytes(), harness.FileSummary: sum,
		harness.FileScenario: in.Scenario.Raw, harness.FileEvents: events.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("report.html of %d MTAs: %d bytes", n, html.Len())
}

// chromiumPath returns the Chromium to drive, or skips the test when none
// is installed.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envChromium); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			t.Fatalf("$%s=%s: %v", envChromium, p, err)
		}
		return found
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skipf("no Chromium: set $%s or install one (Debian: apt-get install chromium; .ci/run does)", envChromium)
	return ""
}

// browserArtifacts returns the folder for screenshots.
func browserArtifacts(t *testing.T) string {
	t.Helper()
	var dir string
	var err error
	if a := os.Getenv("MTASTORM_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "report-browser")
		err = os.MkdirAll(dir, 0o755)
	} else {
		// Kept only when the test fails, to look at.
		dir, err = os.MkdirTemp("", "mtastorm-report-browser-")
		t.Cleanup(func() {
			if !t.Failed() {
				_ = os.RemoveAll(dir)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBrowser starts headless Chromium with a fresh profile and stops it
// when the test ends; it returns the browser's context and its version.
func startBrowser(t *testing.T, exe string) (context.Context, string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser, bound to ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	v, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("%s: version: %v", exe, err)
	}
	return ctx, v.Product
}

// pageProbe is what the page reports about itself (reportProbeJS).
type pageProbe struct {
	Title       string      `json:"title"`
	Verdict     string      `json:"verdict"`
	VerdictBox  *box        `json:"verdictBox"`
	CheckHeads  []thead     `json:"checkHeads"`
	Checks      []checkRow  `json:"checks"`
	EventsHeads []thead     `json:"eventsHeads"`
	Charts      []chartInfo `json:"charts"`
	InnerWidth  float64     `json:"innerWidth"`
	ScrollWidth float64     `json:"scrollWidth"`
	Main        *box        `json:"main"`
	Outside     []string    `json:"outside"`
	Heat        *heatInfo   `json:"heat"`
	Legend      []string    `json:"legend"`
	TotalsRows  []string    `json:"totalsRows"`
}

// heatInfo is the summary view's figure as the browser drew it.
type heatInfo struct {
	Chart chartInfo `json:"chart"`
	// Rows is the figure's data-rows; Panels its heat maps.
	Rows   int         `json:"rows"`
	Panels []heatPanel `json:"panels"`
}

// heatPanel is one heat map: its rows, the painted cells it claims
// (data-cells) and those its paths draw, and a sample of its runs of
// cells probed at their centre on the screen (elementFromPoint), with the
// first misses.
type heatPanel struct {
	Kind            string
	Rows, Claimed   int
	Painted, Probed int
	Hit             int
	Misses          []string
}

type box struct {
	W, H, Left, Right float64
	Shown             bool
}

type thead struct{ Text, Scope string }

type checkRow struct {
	Name, Verdict string
	RowHeader     bool
	Box           box
}

type chartInfo struct {
	ID, Kind, Subject, Title, Summary string
	Role, LabelledBy                  string
	SVG                               *box
	Content                           *box
	Shapes                            int
	Texts                             []string
}

// reportProbeJS measures the rendered page: the verdict, the checks table,
// each chart's box, content and caption, and anything in <main> that
// sticks out of it.
const reportProbeJS = `(() => {
  const box = el => {
    if (!el) return null;
    const r = el.getBoundingClientRect();
    return {W: r.width, H: r.height, Left: r.left, Right: r.right,
      Shown: el.checkVisibility({opacityProperty: true, visibilityProperty: true})};
  };
  const text = el => el ? el.textContent.replace(/\s+/g, ' ').trim() : '';
  const heads = sel => [...document.querySelectorAll(sel)].map(th => ({Text: text(th), Scope: th.getAttribute('scope') || ''}));
  const main = document.querySelector('main');
  const verdict = document.querySelector('header .verdict');
  const mb = main.getBoundingClientRect();
  const outside = [...main.querySelectorAll('*:not(svg *)')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.left < mb.left - 0.5 || r.right > mb.right + 0.5);
  }).slice(0, 8).map(el => el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className : '') + ' ' + Math.round(el.getBoundingClientRect().right) + 'px');
  const heatFig = document.querySelector('figure.heatmap');
  let heat = null;
  if (heatFig) {
    const svg = heatFig.querySelector('svg');
    const cap = heatFig.querySelector('figcaption');
    const b = svg.getBBox();
    const panels = [...svg.querySelectorAll('g.panel')].map(g => {
      const out = {Kind: g.dataset.kind, Rows: g.querySelectorAll('g.row').length, Claimed: +g.dataset.cells,
        Painted: 0, Probed: 0, Hit: 0, Misses: []};
      const runs = [];
      for (const p of g.querySelectorAll('g.row path')) {
        for (const m of p.getAttribute('d').matchAll(/M(\d+) (\d+)h(\d+)/g)) {
          out.Painted += +m[3];
          runs.push([p, +m[1], +m[2], +m[3]]);
        }
      }
      const every = Math.max(1, Math.floor(runs.length / 60));
      for (let i = 0; i < runs.length; i += every) {
        const [p, x, y, n] = runs[i];
        const at = () => new DOMPoint(x + n / 2, y + 0.5).matrixTransform(p.getScreenCTM());
        window.scrollTo(0, window.scrollY + at().y - window.innerHeight / 2);
        const pt = at();
        const el = document.elementFromPoint(pt.x, pt.y);
        out.Probed++;
        if (el === p) out.Hit++;
        else if (out.Misses.length < 5) out.Misses.push(p.closest('g.row').dataset.mta + ' ' + p.getAttribute('class') + ' M' + x + ' ' + y + ' at ' + Math.round(pt.x) + ',' + Math.round(pt.y) + ': ' + (el ? el.tagName + '.' + el.getAttribute('class') : 'nothing'));
      }
      return out;
    });
    window.scrollTo(0, 0);
    heat = {rows: +svg.dataset.rows, panels: panels, chart: {ID: heatFig.id, Kind: 'heatmap', Title: text(cap && cap.querySelector('h3')),
      Summary: text(cap && cap.querySelector('.summary')), Role: svg.getAttribute('role') || '',
      LabelledBy: svg.getAttribute('aria-labelledby') || '', SVG: box(svg),
      Content: {W: b.width, H: b.height, Left: b.x, Right: b.x + b.width, Shown: true},
      Shapes: svg.querySelectorAll('path, text, rect').length, Texts: []}};
  }
  return {
    heat: heat,
    legend: [...document.querySelectorAll('.legend li')].map(text),
    totalsRows: [...document.querySelectorAll('table.totals > tbody > tr[data-mta]')].map(tr => tr.dataset.mta),
    title: document.title,
    verdict: text(verdict), verdictBox: box(verdict),
    checkHeads: heads('table.checks > thead th'),
    checks: [...document.querySelectorAll('table.checks > tbody > tr')].map(tr => ({
      Name: text(tr.cells[0]), Verdict: text(tr.cells[1]),
      RowHeader: tr.cells[0].tagName === 'TH' && tr.cells[0].getAttribute('scope') === 'row', Box: box(tr)})),
    eventsHeads: heads('table.events > thead th'),
    charts: [...document.querySelectorAll('figure.chart')].map(f => {
      const svg = f.querySelector('svg');
      const cap = f.querySelector('figcaption');
      let content = null;
      if (svg) { const b = svg.getBBox(); content = {W: b.width, H: b.height, Left: b.x, Right: b.x + b.width, Shown: true}; }
      return {ID: f.id, Kind: f.dataset.kind || '', Subject: f.dataset.subject || '',
        Title: text(cap && cap.querySelector('h3')), Summary: text(cap && cap.querySelector('.summary')),
        Role: (svg && svg.getAttribute('role')) || '', LabelledBy: (svg && svg.getAttribute('aria-labelledby')) || '',
        SVG: box(svg), Content: content,
        Shapes: svg ? svg.querySelectorAll('path, text, rect, circle, line, polyline, polygon').length : 0,
        Texts: svg ? [...svg.querySelectorAll('text')].map(text) : []};
    }),
    innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
    main: box(main), outside: outside,
  };
})()`

// pageLog is what a tab saw while loading the report: every request and
// every console error.
type pageLog struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

func (l *pageLog) add(list *[]string, s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*list = append(*list, s)
}

// snapshot returns the requests (each URL once, in order) and the errors.
func (l *pageLog) snapshot() (requests, errors []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]bool{}
	for _, r := range l.requests {
		if !seen[r] {
			seen[r] = true
			requests = append(requests, r)
		}
	}
	return requests, append([]string(nil), l.errors...)
}

// openReport opens report in a new tab of browser at width, recording the
// tab's requests and console errors: any request but the report itself is
// failed (blocked) before it leaves the browser.
func openReport(t *testing.T, browser context.Context, report string, width int64) (context.Context, *pageLog) {
	t.Helper()
	tctx, cancelTimeout := context.WithTimeout(browser, 2*time.Minute)
	tab, cancelTab := chromedp.NewContext(tctx)
	t.Cleanup(func() { cancelTab(); cancelTimeout() })
	self := (&url.URL{Scheme: "file", Path: report}).String()
	log := &pageLog{}
	paused := make(chan *fetch.EventRequestPaused, 64)
	// Listen sees an event before the reply to any later command returns,
	// so once Navigate (which waits for the load event) and the probe have
	// returned, the log holds everything the page did while loading.
	err := chromedp.Listen(tab, func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			log.add(&log.requests, ev.Request.URL)
		case *fetch.EventRequestPaused:
			select {
			case paused <- ev:
			default: // the page is asking for much more than a report should
				log.add(&log.errors, "too many requests: "+ev.Request.URL)
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				log.add(&log.errors, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			log.add(&log.errors, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev.ExceptionDetails))
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				log.add(&log.errors, fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() {
		for {
			select {
			case <-tab.Done():
				return
			case ev := <-paused:
				if sameFile(ev.Request.URL, self) {
					_, _ = chromedp.Call(tab, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
					continue
				}
				log.add(&log.requests, ev.Request.URL)
				_, _ = chromedp.Call(tab, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
			}
		}
	}()
	if err := chromedp.Do(tab,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, fetch.Enable, fetch.EnableParams{})
			return err
		}),
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(self),
	); err != nil {
		t.Fatalf("open %s at %d px: %v", self, width, err)
	}
	return tab, log
}

func exceptionDescription(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

// sameFile says whether a request URL is the report itself.
func sameFile(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Scheme == "file" && ub.Scheme == "file" && ua.Path == ub.Path
}

// checkReportInBrowser opens dir's report.html at each width and checks it
// against the bundle's own files (summary.json, events.jsonl,
// scenario.yaml).
func checkReportInBrowser(t *testing.T, browser context.Context, dir, out string) {
	t.Helper()
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, harness.FileReport)
	var sum result.Summary
	data, err := os.ReadFile(filepath.Join(dir, harness.FileSummary))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatalf("%s: %v", harness.FileSummary, err)
	}
	sc, err := scenario.Load(filepath.Join(dir, harness.FileScenario))
	if err != nil {
		t.Fatal(err)
	}
	events, err := readEvents(filepath.Join(dir, harness.FileEvents))
	if err != nil {
		t.Fatal(err)
	}
	// counts[mta][id] from the bundle's event log.
	counts := map[string]map[int]int{}
	for _, e := range events {
		if counts[e.MTA] == nil {
			counts[e.MTA] = map[int]int{}
		}
		counts[e.MTA][e.ID]++
	}
	if len(sum.Checks) == 0 {
		t.Fatalf("%s has no checks: nothing to find on the page", harness.FileSummary)
	}
	name := sum.Scenario
	if html, err := os.ReadFile(report); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(filepath.Join(out, name+".html"), html, 0o644); err != nil {
		t.Fatal(err)
	}
	self := (&url.URL{Scheme: "file", Path: report}).String()
	for _, width := range browserWidths {
		t.Run(strconv.FormatInt(width, 10), func(t *testing.T) {
			tab, log := openReport(t, browser, report, width)
			probe, err := chromedp.Run(tab, chromedp.Evaluate[pageProbe](reportProbeJS))
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			checkProbe(t, probe, &sum, sc, counts)
			images := probe.Charts
			if probe.Heat != nil {
				images = append(images, probe.Heat.Chart)
			}
			checkAXImages(t, tab, images)
			shot := filepath.Join(out, fmt.Sprintf("%s-%d.png", name, width))
			screenshot(t, tab, shot, width)
			requests, errors := log.snapshot()
			for _, r := range requests {
				if !sameFile(r, self) {
					t.Errorf("the page requested %s: the report must be self-contained", r)
				}
			}
			if len(requests) == 0 {
				t.Errorf("no request seen at all, not even the report's: the request log is broken")
			}
			for _, e := range errors {
				t.Errorf("console error: %s", e)
			}
			// Last: the greyscale emulation loads a filter of its own.
			if width == browserWidths[0] {
				// The same page as a reader without colour vision sees it.
				if _, err := chromedp.Call(tab, emulation.SetEmulatedVisionDeficiency,
					emulation.SetEmulatedVisionDeficiencyParams{Type: emulation.SetEmulatedVisionDeficiencyTypeAchromatopsia}); err != nil {
					t.Fatalf("greyscale: %v", err)
				}
				screenshot(t, tab, filepath.Join(out, fmt.Sprintf("%s-%d-grey.png", name, width)), width)
			}
		})
	}
}

// checkProbe checks the measured page against the bundle.
func checkProbe(t *testing.T, p pageProbe, sum *result.Summary, sc *scenario.Scenario, counts map[string]map[int]int) {
	t.Helper()
	// The verdict, shown.
	if p.Verdict != sum.Verdict || p.VerdictBox == nil || !visible(*p.VerdictBox) {
		t.Errorf("verdict: page shows %q (box %+v), summary.json says %q", p.Verdict, p.VerdictBox, sum.Verdict)
	}
	// Every check, in order, with its verdict, in a real table.
	if len(p.Checks) != len(sum.Checks) {
		t.Errorf("checks table has %d rows, summary.json %d checks", len(p.Checks), len(sum.Checks))
	}
	for i, c := range sum.Checks {
		if i >= len(p.Checks) {
			break
		}
		row := p.Checks[i]
		if row.Name != c.Name || row.Verdict != c.Verdict {
			t.Errorf("check %d: page shows %q %q, summary.json %q %q", i, row.Name, row.Verdict, c.Name, c.Verdict)
		}
		if !visible(row.Box) {
			t.Errorf("check %q: row not visible (%+v)", c.Name, row.Box)
		}
		if !row.RowHeader {
			t.Errorf("check %q: the name is not a row header (<th scope=row>)", c.Name)
		}
	}
	checkHeads(t, "checks", p.CheckHeads, "check", "verdict")
	checkHeads(t, "events", p.EventsHeads, "MTA")
	if len(sc.MTAs) > report.ChartsUpTo {
		checkHeatProbe(t, p, sc, counts)
	} else {
		checkChartsProbe(t, p, sc, counts)
	}
	// Nothing sticks out sideways.
	if p.ScrollWidth > p.InnerWidth+0.5 {
		t.Errorf("the page scrolls sideways: %.0f px wide in a %.0f px window", p.ScrollWidth, p.InnerWidth)
	}
	if p.Main == nil || p.Main.Left < 0 || p.Main.Right > p.InnerWidth+0.5 {
		t.Errorf("<main> %+v does not fit the %.0f px window", p.Main, p.InnerWidth)
	}
	for _, o := range p.Outside {
		t.Errorf("sticks out of <main>: %s", o)
	}
}

// checkHeatProbe checks the summary view of a run of more than
// report.ChartsUpTo MTAs: no chart; each heat map with a row per MTA and
// cells painted, drawn where they are (probed on the screen); a legend
// entry per logged id with its count; every MTA in the totals table.
func checkHeatProbe(t *testing.T, p pageProbe, sc *scenario.Scenario, counts map[string]map[int]int) {
	t.Helper()
	if len(p.Charts) != 0 {
		t.Errorf("%d charts for %d MTAs: want the summary view only", len(p.Charts), len(sc.MTAs))
	}
	h := p.Heat
	if h == nil {
		t.Fatalf("no heat map for %d MTAs", len(sc.MTAs))
	}
	checkChartBox(t, h.Chart, p.InnerWidth)
	if h.Rows != len(sc.MTAs) || len(h.Panels) != 3 {
		t.Errorf("heat map: %d rows and %d panels, want %d rows (one per MTA) and 3 panels", h.Rows, len(h.Panels), len(sc.MTAs))
	}
	for _, pn := range h.Panels {
		switch {
		case pn.Rows != len(sc.MTAs):
			t.Errorf("heat map %s: %d rows, want %d", pn.Kind, pn.Rows, len(sc.MTAs))
		case pn.Painted == 0 || pn.Painted != pn.Claimed:
			t.Errorf("heat map %s: %d cells painted, data-cells %d", pn.Kind, pn.Painted, pn.Claimed)
		case pn.Probed == 0 || pn.Hit != pn.Probed:
			t.Errorf("heat map %s: %d of %d runs of cells found on the screen where drawn; misses %q", pn.Kind, pn.Hit, pn.Probed, pn.Misses)
		}
	}
	total := map[int]int{}
	for _, byID := range counts {
		for id, n := range byID {
			total[id] += n
		}
	}
	for id, n := range total {
		re := regexp.MustCompile(fmt.Sprintf(`^%d\b.*\(%d\)$`, id, n))
		if !containsMatch(p.Legend, re) {
			t.Errorf("heat map legend: no entry %q in %q", re, p.Legend)
		}
	}
	have := map[string]bool{}
	for _, m := range p.TotalsRows {
		have[m] = true
	}
	for _, m := range sc.MTAs {
		if !have[m.Name] {
			t.Errorf("totals table: no row for MTA %s", m.Name)
		}
	}
	if len(p.TotalsRows) != len(sc.MTAs) {
		t.Errorf("totals table: %d rows, want %d", len(p.TotalsRows), len(sc.MTAs))
	}
}

// checkChartBox checks that a chart's SVG is rendered, inside the
// window, with something drawn and a text alternative: its caption.
func checkChartBox(t *testing.T, c chartInfo, innerWidth float64) {
	t.Helper()
	switch {
	case c.SVG == nil:
		t.Errorf("chart %s (%s): no <svg>", c.ID, c.Title)
		return
	case !visible(*c.SVG):
		t.Errorf("chart %s (%s): svg not rendered: %+v", c.ID, c.Title, *c.SVG)
	case c.Content == nil || c.Content.W <= 0 || c.Content.H <= 0 || c.Shapes == 0:
		t.Errorf("chart %s (%s): nothing drawn: content %+v, %d shapes", c.ID, c.Title, c.Content, c.Shapes)
	case c.SVG.Left < 0 || c.SVG.Right > innerWidth+0.5:
		t.Errorf("chart %s (%s): %.0f..%.0f px, outside the %.0f px window", c.ID, c.Title, c.SVG.Left, c.SVG.Right, innerWidth)
	}
	if c.Title == "" || c.Summary == "" {
		t.Errorf("chart %s: caption title %q, summary %q: want both", c.ID, c.Title, c.Summary)
	}
	if c.Role != "img" || c.LabelledBy != c.ID+"-cap" {
		t.Errorf("chart %s: svg role=%q aria-labelledby=%q, want img and %s-cap", c.ID, c.Role, c.LabelledBy, c.ID)
	}
}

// checkChartsProbe checks the charts of a run of at most
// report.ChartsUpTo MTAs: a fault timeline per link, an events chart per
// MTA whose legend names every id it logged with its count.
func checkChartsProbe(t *testing.T, p pageProbe, sc *scenario.Scenario, counts map[string]map[int]int) {
	t.Helper()
	// Every chart rendered, with a text alternative.
	if len(p.Charts) == 0 {
		t.Fatalf("no chart on the page")
	}
	byKey := map[string]chartInfo{}
	for _, c := range p.Charts {
		byKey[c.Kind+" "+c.Subject] = c
		checkChartBox(t, c, p.InnerWidth)
	}
	for _, l := range sc.Links {
		if _, ok := byKey["link "+l.String()]; !ok {
			t.Errorf("no fault timeline for link %s", l)
		}
	}
	// The events legend of each MTA names every event id it logged, with
	// its count from events.jsonl.
	for _, m := range sc.MTAs {
		c, ok := byKey["events "+m.Name]
		if !ok {
			t.Errorf("no events chart for MTA %s", m.Name)
			continue
		}
		for id, n := range counts[m.Name] {
			re := regexp.MustCompile(fmt.Sprintf(`^%d\b.*\(%d\)$`, id, n))
			if !containsMatch(c.Texts, re) {
				t.Errorf("events chart of %s: no legend entry %q in %q", m.Name, re, c.Texts)
			}
		}
	}
	for mta := range counts {
		if _, ok := byKey["events "+mta]; !ok {
			t.Errorf("events.jsonl has events of %s, which has no events chart", mta)
		}
	}
}

func visible(b box) bool { return b.Shown && b.W > 0 && b.H > 0 }

func containsMatch(list []string, re *regexp.Regexp) bool {
	for _, s := range list {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// checkHeads checks that a table's header cells are column headers and
// that the named ones are there.
func checkHeads(t *testing.T, table string, heads []thead, want ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, h := range heads {
		have[h.Text] = true
		if h.Scope != "col" {
			t.Errorf("%s table: header %q has scope %q, want col", table, h.Text, h.Scope)
		}
	}
	for _, w := range want {
		if !have[w] {
			t.Errorf("%s table: no column header %q in %+v", table, w, heads)
		}
	}
}

// checkAXImages checks, in the browser's accessibility tree, that each
// chart is an image whose name is its caption: title and summary.
func checkAXImages(t *testing.T, tab context.Context, charts []chartInfo) {
	t.Helper()
	tree, err := chromedp.Call(tab, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		t.Fatalf("accessibility tree: %v", err)
	}
	var names []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil || axString(n.Role.Value) != "image" || n.Name == nil {
			continue
		}
		names = append(names, strings.Join(strings.Fields(axString(n.Name.Value)), " "))
	}
	for _, c := range charts {
		found := false
		for _, name := range names {
			if strings.Contains(name, c.Title) && strings.Contains(name, c.Summary) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("chart %s (%s): no image in the accessibility tree named by its title and summary; images: %q", c.ID, c.Title, names)
		}
	}
}

func axString(v []byte) string {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return ""
	}
	return s
}

// screenshot writes a full-page PNG of tab to path.
func screenshot(t *testing.T, tab context.Context, path string, width int64) {
	t.Helper()
	img, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if int64(cfg.Width) != width || cfg.Height < 900 {
		t.Errorf("screenshot %s is %dx%d, want %d wide and the whole page", path, cfg.Width, cfg.Height, width)
	}
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
}

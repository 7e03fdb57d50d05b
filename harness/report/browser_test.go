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
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
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
  return {
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
			checkAXImages(t, tab, probe.Charts)
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
	// Every chart rendered, with a text alternative.
	if len(p.Charts) == 0 {
		t.Fatalf("no chart on the page")
	}
	byKey := map[string]chartInfo{}
	for _, c := range p.Charts {
		byKey[c.Kind+" "+c.Subject] = c
		switch {
		case c.SVG == nil:
			t.Errorf("chart %s (%s): no <svg>", c.ID, c.Title)
			continue
		case !visible(*c.SVG):
			t.Errorf("chart %s (%s): svg not rendered: %+v", c.ID, c.Title, *c.SVG)
		case c.Content == nil || c.Content.W <= 0 || c.Content.H <= 0 || c.Shapes == 0:
			t.Errorf("chart %s (%s): nothing drawn: content %+v, %d shapes", c.ID, c.Title, c.Content, c.Shapes)
		case c.SVG.Left < 0 || c.SVG.Right > p.InnerWidth+0.5:
			t.Errorf("chart %s (%s): %.0f..%.0f px, outside the %.0f px window", c.ID, c.Title, c.SVG.Left, c.SVG.Right, p.InnerWidth)
		}
		if c.Title == "" || c.Summary == "" {
			t.Errorf("chart %s: caption title %q, summary %q: want both", c.ID, c.Title, c.Summary)
		}
		if c.Role != "img" || c.LabelledBy != c.ID+"-cap" {
			t.Errorf("chart %s: svg role=%q aria-labelledby=%q, want img and %s-cap", c.ID, c.Role, c.LabelledBy, c.ID)
		}
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

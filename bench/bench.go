// Package bench measures the performance figures of DESIGN.md section 11,
// each side by side in one run (a ratio) or as a percentile, so that a figure
// holds on a noisy machine. It is the measurement code behind `mtastorm
// bench` and the Go benchmarks; nothing here asserts a speed in a test.
//
// Every server it starts listens on 127.0.0.1 and is stopped before Run
// returns; every loop is bounded in count and in time.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Options tune a bench run. The zero value runs the full set without the
// default suite and without an external toxiproxy-server.
type Options struct {
	// Quick shortens every measurement (fewer rounds, shorter windows).
	Quick bool
	// Suite also times the default suite (`bash ci/test.sh ./suites/...`), slow.
	Suite bool
	// Root is the repository root: scenarios/ and ci/ are found under it
	// (default: the current directory).
	Root string
	// ToxiproxyServer is the argv of an external toxiproxy-server; Run
	// appends "-host 127.0.0.1 -port N". Empty: the external figures are
	// reported as skipped.
	ToxiproxyServer []string
	// Only, when not empty, runs only the groups named (transfer, actuation,
	// wake, harness, scale, suite).
	Only []string
	// Progress receives one line per group as it starts (nil: none).
	Progress io.Writer
}

// Result is one figure, printed by `mtastorm bench --json` as
// {"figure": "...", "value": 0.62, "unit": "ratio", "target": ">= 0.5", "met": true}.
type Result struct {
	Figure string  `json:"figure"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	// Target is ">= X", "<= X", "== X", or "" for a figure that is itself
	// the reference of another one (it is then always met).
	Target string `json:"target"`
	Met    bool   `json:"met"`
	// Skipped is true when the figure could not be measured here (Detail says why).
	Skipped bool `json:"skipped,omitempty"`
	// Detail carries the raw measurements behind a ratio.
	Detail string `json:"detail,omitempty"`
}

// atLeast builds a result with target ">= target".
func atLeast(figure string, v float64, unit string, target float64, detail string) Result {
	return Result{Figure: figure, Value: round(v), Unit: unit, Target: ">= " + num(target), Met: v >= target, Detail: detail}
}

// atMost builds a result with target "<= target".
func atMost(figure string, v float64, unit string, target float64, detail string) Result {
	return Result{Figure: figure, Value: round(v), Unit: unit, Target: "<= " + num(target), Met: v <= target, Detail: detail}
}

// info builds a result with no target of its own.
func info(figure string, v float64, unit, detail string) Result {
	return Result{Figure: figure, Value: round(v), Unit: unit, Met: true, Detail: detail}
}

func skipped(figure, unit, target, why string) Result {
	return Result{Figure: figure, Unit: unit, Target: target, Skipped: true, Detail: "skipped: " + why}
}

func failed(figure, unit, target string, err error) Result {
	return Result{Figure: figure, Unit: unit, Target: target, Detail: "error: " + err.Error()}
}

func round(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

func num(v float64) string { return fmt.Sprintf("%g", round(v)) }

// group is one set of figures measured together.
type group struct {
	name string
	run  func(ctx context.Context, o *Options) []Result
}

var groups = []group{
	// Scale first: its RSS delta is least disturbed by what the other
	// groups left in the heap.
	{"scale", runScale},
	{"transfer", runTransfer},
	{"actuation", runActuation},
	{"wake", runWake},
	{"harness", runHarness},
	{"suite", runSuite},
}

// Run measures every figure and returns them in a fixed order. It stops
// early (returning what it has) when ctx ends.
func Run(ctx context.Context, opts Options) []Result {
	if opts.Root == "" {
		opts.Root = "."
	}
	var out []Result
	for _, g := range groups {
		if len(opts.Only) > 0 && !contains(opts.Only, g.name) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench: %s ...\n", g.name)
		}
		out = append(out, g.run(ctx, &opts)...)
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, "bench: %s done in %.1fs\n", g.name, time.Since(start).Seconds())
		}
	}
	return out
}

// Groups returns the names Options.Only accepts.
func Groups() []string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.name
	}
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AllMet reports whether every figure that was measured met its target.
func AllMet(rs []Result) bool {
	for _, r := range rs {
		if !r.Skipped && !r.Met {
			return false
		}
	}
	return true
}

// WriteJSON writes rs as one JSON array, one object per figure.
func WriteJSON(w io.Writer, rs []Result) error {
	if rs == nil {
		rs = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // ">= 0.5", not "\u003e= 0.5"
	return enc.Encode(rs)
}

// WriteTable writes rs as an aligned text table.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tUNIT\tTARGET\tMET\tDETAIL")
	for _, r := range rs {
		val, met, target := num(r.Value), "yes", r.Target
		switch {
		case r.Skipped:
			val, met = "-", "skipped"
		case !r.Met:
			met = "NO"
		}
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Figure, val, r.Unit, target, met, strings.ReplaceAll(r.Detail, "\t", " "))
	}
	return tw.Flush()
}

// percentile returns the p-th percentile (0..100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

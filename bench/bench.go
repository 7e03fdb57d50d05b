// Package bench measures the performance figures of DESIGN.md section 11,
// each side by side in one run (a ratio) or as a percentile, so that a figure
// holds on a noisy machine. It is the measurement code behind `mtastorm
// bench` and the Go benchmarks; nothing here asserts a speed in a test.
//
// Every server it starts listens on 127.0.0.1 and is stopped before Run
// returns; every loop is bounded in count and in time.
package bench

import (
	"bytes"
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
	// Readme also times the README test command (ReadmeTestCommand), slower.
	Readme bool
	// Root is the repository root: scenarios/ and ci/ are found under it
	// (default: the current directory).
	Root string
	// ToxiproxyServer is the argv of an external toxiproxy-server; Run
	// appends "-host 127.0.0.1 -port N". Empty: the external figures are
	// reported as skipped.
	ToxiproxyServer []string
	// Only, when not empty, runs only the groups named (see Groups).
	Only []string
	// Progress receives one line per group as it starts (nil: none).
	Progress io.Writer
}

// Result is one figure. `mtastorm bench --json` prints it as one object:
//
//	measured:      {"figure", "value", "unit", "target", "met", "owner"?, "detail"?}
//	informational: {"figure", "value", "unit", "detail"?}             (no target, no "met")
//	skipped:       {"figure", "unit", "target"?, "skipped": true, "reason", "owner"?}
//	error:         {"figure", "unit", "target"?, "met": false, "error", "owner"?}
//
// A figure that could not be measured has no "value": it is skipped (with
// the reason) or an error, never a value of 0.
type Result struct {
	Figure string `json:"figure"`
	// Value is the measurement; meaningless when Skipped or Err is set.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Target is ">= X", "<= X" or "== X" from Table (X resolved to this
	// run's value when the target names another figure), or "" for an
	// informational figure.
	Target string `json:"target,omitempty"`
	// Met is true when the figure was measured and met its target.
	Met bool `json:"met"`
	// Owner is the open issue that owns the figure's target (from Table).
	Owner string `json:"owner,omitempty"`
	// Skipped is true when the figure was not measured here; Reason says why.
	Skipped bool   `json:"skipped,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Err is set when the measurement failed.
	Err string `json:"error,omitempty"`
	// Detail carries the raw measurements behind a ratio.
	Detail string `json:"detail,omitempty"`
}

// Judged reports whether r is a measured figure with a target.
func (r Result) Judged() bool { return !r.Skipped && r.Err == "" && r.Target != "" }

// MarshalJSON writes the object of the shape documented on Result: no
// "value" unless measured, no "met" unless there is a target.
func (r Result) MarshalJSON() ([]byte, error) {
	type out struct {
		Figure  string   `json:"figure"`
		Value   *float64 `json:"value,omitempty"`
		Unit    string   `json:"unit"`
		Target  string   `json:"target,omitempty"`
		Met     *bool    `json:"met,omitempty"`
		Owner   string   `json:"owner,omitempty"`
		Skipped bool     `json:"skipped,omitempty"`
		Reason  string   `json:"reason,omitempty"`
		Err     string   `json:"error,omitempty"`
		Detail  string   `json:"detail,omitempty"`
	}
	o := out{Figure: r.Figure, Unit: r.Unit, Target: r.Target, Owner: r.Owner, Detail: r.Detail}
	switch {
	case r.Skipped:
		o.Skipped, o.Reason = true, r.Reason
	case r.Err != "":
		o.Err, o.Met = r.Err, new(false)
	default:
		o.Value = new(r.Value)
		if r.Target != "" {
			o.Met = new(r.Met)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // ">= 0.5", not "\u003e= 0.5"
	if err := enc.Encode(o); err != nil {
		return nil, fmt.Errorf("bench: %s: %w", r.Figure, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// info builds an informational result: a value with no target. A figure
// that has a target in Table is judged instead (see measured), so a target
// cannot be dropped by calling the wrong helper.
func info(figure string, v float64, unit, detail string) Result {
	if s, ok := SpecFor(figure); ok && s.Target != "" {
		return measured(figure, v, detail)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Result{Figure: figure, Unit: unit, Err: fmt.Sprintf("bench: %s measured as %v", figure, v), Detail: detail}
	}
	return Result{Figure: figure, Value: round(v), Unit: unit, Detail: detail}
}

// skipped builds the result of a figure not measured here, why says why;
// unit, target and owner come from Table when the figure is there.
func skipped(figure, unit, why string) Result {
	r := Result{Figure: figure, Unit: unit, Skipped: true, Reason: why}
	if s, ok := SpecFor(figure); ok {
		r.Unit, r.Target, r.Owner = s.Unit, s.Target, s.Owner
	}
	return r
}

// failed builds the result of a figure whose measurement failed.
func failed(figure, unit string, err error) Result {
	r := Result{Figure: figure, Unit: unit, Err: err.Error()}
	if s, ok := SpecFor(figure); ok {
		r.Unit, r.Target, r.Owner = s.Unit, s.Target, s.Owner
	}
	return r
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
	{"org200", runOrg200},
	{"repro", runRepro},
	{"suite", runSuite},
	{"readme", runReadme},
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

// Verdict sorts a run's results by what they mean for its exit code.
type Verdict struct {
	// Met counts the figures measured that met their target.
	Met int
	// Missed are figures measured that missed a target no open issue owns:
	// the run fails.
	Missed []Result
	// Owned are figures measured that missed a target an open issue owns
	// (Result.Owner): reported, not failing.
	Owned []Result
	// Errors are figures whose measurement failed.
	Errors []Result
	// Skipped are figures not measured here (opt-in, no external server, or
	// not built yet).
	Skipped []Result
}

// Judge sorts rs into a Verdict. Informational figures count nowhere.
func Judge(rs []Result) Verdict {
	var v Verdict
	for _, r := range rs {
		switch {
		case r.Skipped:
			v.Skipped = append(v.Skipped, r)
		case r.Err != "":
			v.Errors = append(v.Errors, r)
		case r.Target == "":
		case r.Met:
			v.Met++
		case r.Owner != "":
			v.Owned = append(v.Owned, r)
		default:
			v.Missed = append(v.Missed, r)
		}
	}
	return v
}

// String is the one-line summary printed after the figures.
func (v Verdict) String() string {
	s := fmt.Sprintf("%d met, %d missed", v.Met, len(v.Missed))
	if len(v.Owned) > 0 {
		var names []string
		for _, r := range v.Owned {
			names = append(names, r.Figure+" ("+r.Owner+")")
		}
		s += fmt.Sprintf(", %d missed but owned by an open issue: %s", len(v.Owned), strings.Join(names, ", "))
	}
	return s + fmt.Sprintf(", %d errors, %d skipped", len(v.Errors), len(v.Skipped))
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
		val, met, target, detail := num(r.Value), "yes", r.Target, r.Detail
		switch {
		case r.Skipped:
			val, met, detail = "-", "skipped", strings.TrimSuffix(r.Reason+"; "+detail, "; ")
		case r.Err != "":
			val, met, detail = "-", "ERROR", strings.TrimSuffix(r.Err+"; "+detail, "; ")
		case r.Target == "":
			met = "-"
		case !r.Met && r.Owner != "":
			met = "no (" + r.Owner + ")"
		case !r.Met:
			met = "NO"
		}
		if r.Owner != "" && r.Skipped {
			met = "skipped (" + r.Owner + ")"
		}
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Figure, val, r.Unit, target, met, strings.ReplaceAll(detail, "\t", " "))
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

package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Spec is one figure with a target: a row of DESIGN.md section 11 as
// `mtastorm bench` judges it. It is the only place a target is written;
// every judged Result takes its target, unit and owner from here, and a
// test pins it to BENCHMARKS.md.
type Spec struct {
	// Figure is the figure's name, or the name of a family of figures
	// ("minip1_direct_vs_raw" covers "minip1_direct_vs_raw/64B", ...). An
	// entry for one member ("minip1_direct_vs_raw/64KiB") overrides the
	// family's.
	Figure string
	// Unit is the unit of the value: ratio, ms, s, KB, count.
	Unit string
	// Target is ">= X", "<= X" or "== X"; X is a number or, for a bound
	// measured in the same run, the family name of the figure that gives it
	// (">= toxiproxy_embedded_passthrough": the member of the same size).
	Target string
	// Owner is the open issue that owns the figure ("issue 12"): it adds the
	// measurement, or its work is what reaches the target. A figure with an
	// owner that misses its target is reported as missed (met: false) but
	// does not fail `mtastorm bench`; that "done when" is the figure
	// being met, and closing it removes the owner here.
	Owner string
	// Row is the DESIGN.md section 11 row the figure measures (or the issue
	// that set the target, for a target not in the table).
	Row string
}

// Table is DESIGN.md section 11, figure by figure. Figures not listed here
// are informational: they carry a value and no target.
var Table = []Spec{
	{Figure: "minip1_direct_vs_raw", Unit: "ratio", Target: ">= 0.5",
		Row: "MiniP1 transfer rate on one association, direct, 64 B / 1 KiB / 64 KiB vs raw TCP framed echo"},
	{Figure: "minip1_embedded_vs_direct", Unit: "ratio", Target: ">= toxiproxy_embedded_passthrough",
		Row: "the same through embedded Toxiproxy, no toxics, vs direct"},
	{Figure: "fault_call_speedup", Unit: "ratio", Target: ">= 5",
		Row: "fault toggle call (Disable/Enable/toxic add) vs the same through the HTTP API"},
	{Figure: "event_wake_p99", Unit: "ms", Target: "<= 1",
		Row: "event emitted → waiter woken, p99"},
	{Figure: "harness_overhead", Unit: "ratio", Target: "<= 1.2",
		Row: "a run's harness overhead: wall / the scenario time the run itself needed"},
	{Figure: "q152877_pair_wall", Unit: "s", Target: "<= 6",
		Row: "the shipped Q152877 pair (sp0 + sp2), wall for both"},
	{Figure: "scale_rss_per_assoc", Unit: "KB", Target: "<= 100",
		Row: "1,000 concurrent associations in one process: RSS per association"},
	{Figure: "scale_errors", Unit: "count", Target: "== 0",
		Row: "1,000 concurrent associations in one process: no errors"},
	{Figure: "scale_heap_ours_per_assoc", Unit: "KB", Target: "<= 30",
		Row: "1,000 concurrent associations: live heap less Toxiproxy's copy buffers (issue 18)"},
	{Figure: "org200_overhead", Unit: "ratio", Target: "<= 1.2",
		Row: "a 200-MTA topology under a seeded storm on every link: harness overhead"},
	{Figure: "org200_lost", Unit: "count", Target: "== 0", Owner: "issue 17",
		Row: "a 200-MTA topology under a seeded storm on every link: nothing lost"},
	{Figure: "repro_candidates_per_min", Unit: "ratio", Target: ">= 8", Owner: "issue 14",
		Row: "repro search: candidate runs per minute on 2 cores vs the sequential search"},
	{Figure: "default_suite_wall", Unit: "s", Target: "<= 60",
		Row: "default suite (!soak) on 2 cores"},
	{Figure: "readme_test_wall", Unit: "s", Target: "<= 180", Owner: "issue 12",
		Row: "the README test command on 2 cores, warm module cache"},
}

// SpecFor returns the Table entry of figure: its own, else its family's
// (the name before the last "/").
func SpecFor(figure string) (Spec, bool) {
	for name := figure; ; {
		for _, s := range Table {
			if s.Figure == name {
				return s, true
			}
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return Spec{}, false
		}
		name = name[:i]
	}
}

// target is a parsed Spec.Target.
type target struct {
	op    string  // ">=", "<=", "=="
	bound float64 // when ref is ""
	ref   string  // the family of the figure whose value is the bound
}

func parseTarget(s string) (target, error) {
	op, rest, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || (op != ">=" && op != "<=" && op != "==") || rest == "" {
		return target{}, fmt.Errorf("bench: target %q is not \">= X\", \"<= X\" or \"== X\"", s)
	}
	if v, err := strconv.ParseFloat(rest, 64); err == nil {
		return target{op: op, bound: v}, nil
	}
	if strings.ContainsAny(rest, " /") {
		return target{}, fmt.Errorf("bench: target %q: bound is neither a number nor a figure family", s)
	}
	return target{op: op, ref: rest}, nil
}

func (t target) met(v float64) bool {
	switch t.op {
	case ">=":
		return v >= t.bound
	case "<=":
		return v <= t.bound
	}
	return v == t.bound
}

// measured judges v against figure's target in Table.
func measured(figure string, v float64, detail string) Result {
	return judge(figure, v, math.NaN(), detail)
}

// measuredAgainst judges v against figure's target in Table, a target whose
// bound is another figure of the same run: bound is that figure's value.
func measuredAgainst(figure string, v, bound float64, detail string) Result {
	return judge(figure, v, bound, detail)
}

func judge(figure string, v, refBound float64, detail string) Result {
	s, ok := SpecFor(figure)
	if !ok || s.Target == "" {
		return Result{Figure: figure, Err: "bench: no target for " + figure + " in Table"}
	}
	r := Result{Figure: figure, Unit: s.Unit, Target: s.Target, Owner: s.Owner, Detail: detail}
	t, err := parseTarget(s.Target)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if t.ref != "" {
		if math.IsNaN(refBound) || math.IsInf(refBound, 0) {
			r.Err = fmt.Sprintf("bench: target %s: no value of %s in this run", s.Target, t.ref)
			return r
		}
		t.bound = round(refBound)
		r.Target = t.op + " " + num(t.bound)
		r.Detail = strings.TrimPrefix(detail+"; target: "+s.Target+" of the same size", "; ")
	} else if !math.IsNaN(refBound) {
		r.Err = fmt.Sprintf("bench: target %s of %s names no figure, yet a bound was measured", s.Target, figure)
		return r
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		r.Err = fmt.Sprintf("bench: %s measured as %v (a division by zero?)", figure, v)
		return r
	}
	r.Value = round(v)
	r.Met = t.met(r.Value)
	return r
}

package events_test

import (
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// build is one half of a side-by-side fault scenario: the MTAs of one mode,
// with the initiator (A) and the responder (B) of the build's first link.
type build struct {
	mode string
	a, b string
	mtas []string
}

// builds splits a scenario into its builds, sp2 first; a mode with no MTA
// or no link between its MTAs is left out.
func builds(sc *scenario.Scenario) []build {
	var out []build
	for _, mode := range []string{"sp2", "sp0"} {
		bd := build{mode: mode}
		for _, m := range sc.MTAs {
			if m.Mode == mode {
				bd.mtas = append(bd.mtas, m.Name)
			}
		}
		for _, l := range sc.Links {
			if slices.Contains(bd.mtas, l.From) && slices.Contains(bd.mtas, l.To) {
				bd.a, bd.b = l.From, l.To
				break
			}
		}
		if bd.a != "" {
			out = append(out, bd)
		}
	}
	return out
}

// A row is one line of DESIGN.md section 5's "Expected effects" table: the
// key event ids each build must (and must not) log, as matchers on the
// result, for one build of a side-by-side scenario.
type row struct {
	// title quotes the table's first column.
	title string
	// events are the ids the row is about (for event:… labels).
	events []int
	// expect returns the row's matchers for bd.
	expect func(bd build) []types.GomegaMatcher
}

// quiet: none of the association error ids at any MTA of the build.
func quiet(bd build) []types.GomegaMatcher {
	var out []types.GomegaMatcher
	for _, id := range []int{eventlog.IDAssocError, eventlog.IDAssocErrorAnon, eventlog.IDStateCheck, eventlog.IDConnRefused} {
		out = append(out, Not(HaveEmitted(id).From(bd.mtas...)))
	}
	return out
}

// clean: no 1198, no 1277 and no leaked KCB at any MTA of the build.
func clean(bd build) []types.GomegaMatcher {
	out := []types.GomegaMatcher{
		Not(HaveEmitted(eventlog.IDStateCheck).From(bd.mtas...)),
		Not(HaveEmitted(eventlog.IDConnRefused).From(bd.mtas...)),
	}
	for _, m := range bd.mtas {
		out = append(out, HaveNoLeakedKCBs().At(m))
	}
	return out
}

// leaks: the Q152877 signature at the responder: a leaked KCB and 1277.
func leaks(bd build) []types.GomegaMatcher {
	return []types.GomegaMatcher{
		Not(HaveNoLeakedKCBs().At(bd.b)),
		HaveEmitted(eventlog.IDConnRefused).From(bd.b),
	}
}

func sp0(bd build) bool { return bd.mode == "sp0" }

// rows maps a fault scenario's file name (without .yaml) to its row. The
// table has no row for bandwidth, slow_close, storm, swizzle and cut_at:
// those files are held to their own expectations only.
var rows = map[string]row{
	"none": {title: "none", events: []int{1004, 1008, 1198, 1277}, expect: quiet},
	"refuse": {title: "refuse for a while, then heal", events: []int{1004},
		expect: func(bd build) []types.GomegaMatcher {
			// a plain outage does not trigger the defect: the same in sp0
			return append([]types.GomegaMatcher{HaveEmitted(eventlog.IDAssocError).From(bd.a)}, clean(bd)...)
		}},
	"cycle": {title: "cycle (+ latency so handshakes straddle the flaps)", events: []int{1004, 1008, 1277},
		expect: func(bd build) []types.GomegaMatcher {
			if sp0(bd) {
				return leaks(bd)
			}
			return append([]types.GomegaMatcher{
				HaveEmitted(eventlog.IDAssocError).From(bd.a),
				HaveEmitted(eventlog.IDAssocErrorAnon).From(bd.b),
			}, clean(bd)...)
		}},
	"truncate": {title: "truncate inside BIND (bytes = CR + BIND − 1)", events: []int{1004, 1008, 1277},
		expect: func(bd build) []types.GomegaMatcher {
			out := []types.GomegaMatcher{
				HaveEmitted(eventlog.IDAssocError).From(bd.a).WithTuple(2, 20, 1, 8),
				HaveEmitted(eventlog.IDAssocErrorAnon).From(bd.b).WithTuple(2, 26),
			}
			if sp0(bd) {
				return append(out, leaks(bd)...)
			}
			return append(out, clean(bd)...)
		}},
	"reset": {title: "reset before connect", events: []int{1004, 1008},
		expect: func(bd build) []types.GomegaMatcher {
			return append([]types.GomegaMatcher{
				HaveEmitted(eventlog.IDAssocError).From(bd.a).InState(1),
				HaveEmitted(eventlog.IDAssocErrorAnon).From(bd.b).WithTuple(1, 26),
			}, clean(bd)...) // the same in sp0: no leak
		}},
	"blackhole": {title: "blackhole on down of a live association", events: []int{1004},
		expect: func(bd build) []types.GomegaMatcher {
			return []types.GomegaMatcher{HaveEmitted(eventlog.IDAssocError).From(bd.a).WithTuple(3, 20, 1, 4)}
		}},
	"latency": {title: "latency above the transfer timer", events: []int{1004, 1198},
		expect: func(bd build) []types.GomegaMatcher {
			out := []types.GomegaMatcher{HaveEmitted(eventlog.IDAssocError).From(bd.a)}
			if sp0(bd) {
				// a late ACK reaches an Idle KCB at the initiator
				return append(out, HaveEmitted(eventlog.IDStateCheck).From(bd.a).InState(0))
			}
			return append(out, clean(bd)...)
		}},
	"slice": {title: "slice with long delay (frame outlives reassembly)", events: []int{1004, 1198},
		expect: func(bd build) []types.GomegaMatcher {
			out := []types.GomegaMatcher{
				HaveEmitted(eventlog.IDAssocError).From(bd.b),
				HaveEmitted(eventlog.IDAssocError).From(bd.a),
			}
			if sp0(bd) {
				// the KB's exact 1198: a TRANSFER reaching an Idle KCB over a stale path
				return append(out, HaveEmitted(eventlog.IDStateCheck).From(bd.b).WithTuple(0, 20, 2))
			}
			return append(out, clean(bd)...)
		}},
	"slice-short": {title: "slice with short delay", events: []int{1004, 1008, 1198, 1277}, expect: quiet},
	"pressure": {title: "more simultaneous associations than KCBs", events: []int{1277},
		expect: func(bd build) []types.GomegaMatcher {
			out := []types.GomegaMatcher{HaveEmitted(eventlog.IDConnRefused).From(bd.b)}
			for _, m := range bd.mtas {
				out = append(out, HaveNoLeakedKCBs().At(m))
			}
			return out
		}},
}

// rowOf picks the section-5 row of a fault scenario: by file name (the
// files are named after their fault type); a slice file is the long-delay
// row when a frame's slices take longer than the responder's reassembly
// timer (slices per frame × delay), else the short-delay row. It returns
// "" when the table has no row for the file.
func rowOf(file string, sc *scenario.Scenario) string {
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	if name == "slice" && sc != nil {
		for _, f := range sc.Faults {
			if f.Type == "slice" && !sliceOutlivesReassembly(sc, f) {
				return "slice-short"
			}
		}
	}
	if _, ok := rows[name]; ok {
		return name
	}
	return ""
}

// sliceOutlivesReassembly estimates whether a slice fault spreads one
// message's frame over more than the receiver's reassembly timer.
func sliceOutlivesReassembly(sc *scenario.Scenario, f scenario.Fault) bool {
	m, ok := sc.MTA(f.To)
	if !ok {
		return true
	}
	size := int64(scenario.DefaultTrafficSize)
	for _, t := range sc.Traffic {
		if t.From == f.From && t.To == f.To {
			size = int64(t.Size)
		}
	}
	avg := max(f.Int("average_size"), 1)
	chunks := (size + avg - 1) / avg
	return time.Duration(chunks)*f.Duration("delay") > m.Timers.Reassembly
}

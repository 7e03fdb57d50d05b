package suitekit

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// maxTableRows bounds the events table attached to a failed spec; the
// bundle's events.jsonl has every record.
const maxTableRows = 300

// Start returns the run's start as wall-clock time, derived from its
// deliveries (each has both an absolute time and an offset), and false
// when nothing was delivered.
func Start(res *harness.Result) (time.Time, bool) {
	if len(res.Deliveries) == 0 {
		return time.Time{}, false
	}
	d := res.Deliveries[0]
	return d.At.Add(-time.Duration(d.T * float64(time.Second))), true
}

// EventAt returns when rec was logged, in seconds from the run start, or
// -1 when the start is unknown (nothing delivered).
func EventAt(res *harness.Result, rec eventlog.Record) float64 {
	t0, ok := Start(res)
	if !ok {
		return -1
	}
	return rec.Time.Sub(t0).Seconds()
}

// Select returns the records of res with id logged by mta ("" for any),
// in time order.
func Select(res *harness.Result, mta string, ids ...int) []eventlog.Record {
	var out []eventlog.Record
	for _, r := range res.Events {
		if mta != "" && r.MTA != mta {
			continue
		}
		for _, id := range ids {
			if r.ID == id {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// SamplesOf returns the pool samples of one MTA, in time order.
func SamplesOf(res *harness.Result, mta string) []harness.Sample {
	var out []harness.Sample
	for _, s := range res.Samples {
		if s.MTA == mta {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

// DeliveredBetween counts the deliveries to mta ("" for any) with an
// offset in [from, to).
func DeliveredBetween(res *harness.Result, mta string, from, to time.Duration) int {
	n := 0
	for _, d := range res.Deliveries {
		if (mta == "" || d.To == mta) && d.T >= from.Seconds() && d.T < to.Seconds() {
			n++
		}
	}
	return n
}

// tuple renders a record's [state svc flavor reason] as its text would.
func tuple(r eventlog.Record) string {
	switch r.ID {
	case eventlog.IDAssocErrorAnon:
		return fmt.Sprintf("[%d %d]", r.State, r.Svc)
	case eventlog.IDConnRefused:
		return fmt.Sprintf("[kcb %d]", r.KCB)
	}
	return fmt.Sprintf("[%d %d %d %d]", r.State, r.Svc, r.Flavor, r.Reason)
}

// describe renders one record on one line: offset, MTA, id, KCB and tuple.
func describe(res *harness.Result, r eventlog.Record) string {
	at := "   ?   "
	if off := EventAt(res, r); off >= 0 {
		at = fmt.Sprintf("%7.3fs", off)
	}
	return fmt.Sprintf("%s %s %d kcb=%d assoc=%d %s", at, r.MTA, r.ID, r.KCB, r.Assoc, tuple(r))
}

// Counts renders the events per MTA and id, e.g. "A: 1004×3; B: 1008×3 1277×15".
func Counts(res *harness.Result) string {
	var parts []string
	for _, name := range mtaNames(res) {
		m := res.Summary.MTAs[name]
		var ids []string
		for id := range m.Events {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var s []string
		for _, id := range ids {
			s = append(s, fmt.Sprintf("%s×%d", id, m.Events[id]))
		}
		if len(s) == 0 {
			s = []string{"none"}
		}
		parts = append(parts, fmt.Sprintf("%s(%s): %s", name, m.Mode, strings.Join(s, " ")))
	}
	return strings.Join(parts, "; ")
}

func mtaNames(res *harness.Result) []string {
	var out []string
	for name := range res.Summary.MTAs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// EventsTable renders the run's event records as a table (offset, MTA, id,
// KCB, association, tuple, text), at most max rows.
func EventsTable(res *harness.Result, max int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d event records; per MTA: %s\n", len(res.Events), Counts(res))
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "t\tmta\tid\tkcb\tassoc\ttuple\ttext")
	for i, r := range res.Events {
		if i == max {
			break
		}
		at := "?"
		if off := EventAt(res, r); off >= 0 {
			at = fmt.Sprintf("%.3fs", off)
		}
		text := r.Text
		if len(text) > 110 {
			text = text[:107] + "..."
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", at, r.MTA, r.ID, r.KCB, r.Assoc, tuple(r), text)
	}
	w.Flush()
	if n := len(res.Events) - max; n > 0 {
		fmt.Fprintf(&b, "... %d more (events.jsonl in the bundle has them all)\n", n)
	}
	return b.String()
}

// faultsOf names the faults of the run as the scenario wrote them, e.g.
// "latency A->B, cycle A->B".
func faultsOf(res *harness.Result) string {
	var out []string
	if ri, ok := info(res); ok {
		for _, f := range ri.sc.Faults {
			l := f.Link
			if l == "" {
				l = "(" + strings.Join(f.Strings("links"), ",") + ")"
			}
			out = append(out, fmt.Sprintf("%s %s at %s", f.Type, l, f.At))
		}
		for _, a := range ri.sc.Actions {
			out = append(out, fmt.Sprintf("%s %s at %s", a.Op, a.MTA, a.At))
		}
	} else if res.Schedule != nil {
		seen := map[string]bool{}
		for _, t := range res.Schedule.Toggles {
			k := t.Type + " " + t.Link
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	if len(out) == 0 {
		return "no faults"
	}
	return strings.Join(out, ", ")
}

// header names the run for a failure message: scenario, seed, faults, MTAs.
func header(res *harness.Result) string {
	var mtas []string
	for _, n := range mtaNames(res) {
		mtas = append(mtas, n+"("+res.Summary.MTAs[n].Mode+")")
	}
	return fmt.Sprintf("scenario %s (seed %d; faults: %s; MTAs %s; verdict %s)",
		res.Summary.Scenario, res.Summary.Seed, faultsOf(res), strings.Join(mtas, " "), res.Summary.Verdict)
}

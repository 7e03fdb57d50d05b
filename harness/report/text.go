package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
)

// The one-line summaries of the report's charts: with the chart's title,
// its text alternative (the figure's caption, which names the SVG image for
// a screen reader), and what a reader skimming the page reads first.

// maxListed is how many faults or actions a summary names before "and N
// more".
const maxListed = 4

// linkSummary says which faults act on a link and when, and the actions.
func linkSummary(rows []*faultRow, marks []marker) string {
	var b strings.Builder
	if len(rows) == 0 {
		b.WriteString("No fault on this link")
	} else {
		fmt.Fprintf(&b, "%s: ", plural(len(rows), "fault"))
		for i, r := range rows {
			if i == maxListed {
				fmt.Fprintf(&b, "; and %d more", len(rows)-i)
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			acting := 0.0
			for _, a := range r.active {
				acting += a.x1 - a.x0
			}
			fmt.Fprintf(&b, "%s from %.2f s to %.2f s, acting %.2f s", r.label, r.span.x0, r.span.x1, acting)
		}
	}
	b.WriteString(actionsText(marks))
	return b.String() + "."
}

// actionsText lists the MTA actions ("; actions: restart B at 5.00 s").
func actionsText(marks []marker) string {
	if len(marks) == 0 {
		return ""
	}
	var parts []string
	for i, m := range marks {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(marks)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s at %.2f s", m.label, m.at))
	}
	return "; actions: " + strings.Join(parts, ", ")
}

// eventsSummary counts mta's events per id and gives their time span.
func eventsSummary(mta string, in *Input, rt reportTimes) string {
	counts := map[int]int{}
	first, last := 0.0, 0.0
	n := 0
	for _, e := range in.Events {
		if e.MTA != mta {
			continue
		}
		t := rt.of(e.Time)
		if n == 0 || t < first {
			first = t
		}
		if n == 0 || t > last {
			last = t
		}
		counts[e.ID]++
		n++
	}
	if n == 0 {
		return "No event logged by " + mta + "."
	}
	ids := make([]int, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(id) + " ×" + strconv.Itoa(counts[id])
	}
	return fmt.Sprintf("%s logged by %s: %s, from %.2f s to %.2f s.", plural(n, "event"), mta, strings.Join(parts, ", "), first, last)
}

// poolSummary gives the extremes of mta's KCB pool and when it was stopped.
func poolSummary(mta string, in *Input, rt reportTimes) string {
	var leaked, leakedEnd, busy, idle, samples int
	for _, s := range in.Samples {
		if s.MTA != mta {
			continue
		}
		if samples == 0 || s.Idle < idle {
			idle = s.Idle
		}
		leaked, busy = max(leaked, s.Leaked), max(busy, s.Busy)
		leakedEnd = s.Leaked
		samples++
	}
	if samples == 0 {
		return "No pool sample of " + mta + "."
	}
	out := fmt.Sprintf("At most %d leaked (%d at the end)", leaked, leakedEnd)
	if leaked == 0 {
		out = "No KCB leaked"
	}
	out += fmt.Sprintf(", idle down to %d, busy up to %d", idle, busy)
	for _, w := range stoppedWindows(in, mta, rt.end) {
		out += fmt.Sprintf("; stopped from %.2f s to %.2f s", w.x0, w.x1)
	}
	return out + "."
}

// queueSummary gives the deepest queue, when, and the depth at the end.
func queueSummary(xys plotter.XYs) string {
	if len(xys) == 0 {
		return "No queue sample."
	}
	top := xys[0]
	for _, xy := range xys {
		if xy.Y > top.Y {
			top = xy
		}
	}
	if top.Y == 0 {
		return "Nothing queued."
	}
	return fmt.Sprintf("Up to %s queued (first at %.2f s), %g at the end.", plural(int(top.Y), "message"), top.X, xys[len(xys)-1].Y)
}

// plural is "1 fault", "2 faults".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

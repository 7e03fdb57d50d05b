package harness

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// timeline prints a short human account of a run: fault toggles, actions,
// the first event of each id per MTA, leak growth, and the verdict.
type timeline struct {
	w    io.Writer
	mu   sync.Mutex
	t0   time.Time
	seen map[string]bool
}

func newTimeline(w io.Writer) *timeline { return &timeline{w: w, seen: map[string]bool{}} }

func (t *timeline) printf(at time.Duration, format string, args ...any) {
	if t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%8.3fs  %s\n", at.Seconds(), fmt.Sprintf(format, args...))
}

func (t *timeline) start(sc *scenario.Scenario, t0 time.Time) {
	t.mu.Lock()
	t.t0 = t0
	t.mu.Unlock()
	if t.w == nil {
		return
	}
	var mtas []string
	for _, m := range sc.MTAs {
		mtas = append(mtas, fmt.Sprintf("%s(%s, %d KCBs)", m.Name, buildLabel(m.BuildName(), m.DefectSet()), m.KCBs))
	}
	fmt.Fprintf(t.w, "scenario %s  seed %d  mtas %s\n", sc.Name, sc.Seed, strings.Join(mtas, " "))
}

func (t *timeline) toggle(at time.Duration, g faults.Toggle) {
	what := g.Action
	if g.Toxic != nil && g.Toxic.Type != "" {
		what += fmt.Sprintf(" %s %s %v", g.Toxic.Type, g.Toxic.Stream, g.Toxic.Attributes)
	}
	if g.Action == faults.ActUpdateToxic {
		return // jitter redraws would drown the rest
	}
	t.printf(at, "fault   %-6s %s %s (planned %s)", g.Link, g.Type, what, g.At)
}

func (t *timeline) action(at time.Duration, a scenario.Action) {
	t.printf(at, "action  %s %s", a.Op, a.MTA)
}

func (t *timeline) event(r eventlog.Record) {
	key := fmt.Sprintf("%s/%d", r.MTA, r.ID)
	t.mu.Lock()
	first := !t.seen[key]
	t.seen[key] = true
	t0 := t.t0
	t.mu.Unlock()
	if first {
		t.printf(r.Time.Sub(t0), "event   %s first %d: %s", r.MTA, r.ID, r.Text)
	}
}

func (t *timeline) leaked(at time.Duration, mta string, from, to int) {
	t.printf(at, "pool    %s leaked KCBs %d -> %d", mta, from, to)
}

func (t *timeline) verdict(s Summary) {
	if t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var names []string
	for n := range s.MTAs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := s.MTAs[n]
		var ev []string
		for id, c := range m.Events {
			ev = append(ev, fmt.Sprintf("%s×%d", id, c))
		}
		sort.Strings(ev)
		fmt.Fprintf(t.w, "mta %s (%s): submitted %d, refused %d, delivered %d, duplicates %d, most leaked at once %d, events %s\n",
			n, buildLabel(m.Build, m.Defects), m.Submitted, m.Refused, m.Delivered, m.Duplicates, m.KCBsLeaked, strings.Join(ev, " "))
	}
	const showPairs = 20
	for i, p := range s.Pairs {
		if i == showPairs {
			fmt.Fprintf(t.w, "pairs: %d more in summary.json\n", len(s.Pairs)-showPairs)
			break
		}
		fmt.Fprintf(t.w, "pair %s->%s: declared %d, submitted %d, refused %d, delivered %d, undelivered %d, duplicates %d\n",
			p.From, p.To, p.Declared, p.Submitted, p.Refused, p.Delivered, p.Undelivered, p.Duplicates)
	}
	for _, c := range s.Checks {
		fmt.Fprintf(t.w, "check %-7s %s: %s\n", c.Verdict, c.Name, c.Detail)
	}
	rec := "n/a"
	if s.RecoveryS != nil {
		rec = fmt.Sprintf("%.3fs", *s.RecoveryS)
	}
	fmt.Fprintf(t.w, "verdict %s (run %.2fs, recovery %s)\n", strings.ToUpper(s.Verdict), s.DurationS, rec)
}

// buildLabel names a build and its defects for people: "5.5-sp2:
// Q229643+Q232602", "4.0-sp2: no known defect".
func buildLabel(build string, defects []string) string {
	if len(defects) == 0 {
		return build + ": no known defect"
	}
	return build + ": " + strings.Join(defects, "+")
}

package repro

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// CoreIDs are the four event IDs of KB Q152877: 1004, 1008, 1198, 1277.
var CoreIDs = eventlog.CoreIDs()

// Signature is what an event log says about its MTA (DESIGN.md section 9):
// the MSExchangeMTA event IDs with counts and rates, the order they first
// appeared in, the control-block indexes named, whether entities are blank,
// and the leak indicator derived from them.
type Signature struct {
	// Events is the number of MSExchangeMTA records.
	Events int `json:"events"`
	// Start and End are the times of the first and last record.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// SpanS is End − Start in seconds.
	SpanS float64 `json:"span_s"`
	// Computers are the MTA (computer) names seen, sorted.
	Computers []string `json:"computers,omitempty"`
	// IDs holds one entry per event ID, in first-seen order.
	IDs []IDStat `json:"ids"`
	// Order is the event IDs in first-seen order.
	Order []int `json:"order"`
	// ControlBlocks lists the control-block indexes named by 1277 and 1198
	// (and any other event that names one), by ID then index.
	ControlBlocks []ControlBlock `json:"control_blocks"`
	// OpenErrors counts open errors in state 2 (OpenPending): 1008 [2 …]
	// and 1004 [2 … 8], the failures that leak a KCB in an sp0 build.
	OpenErrors int `json:"open_errors_state2"`
	// Leak is the leak indicator: 1277 refusals that name the same control
	// block more than once while opens fail in state 2 — KCBs left
	// OpenPending and refusing every new connection (KB Q152877).
	Leak bool `json:"leak"`
	// StateCheckKB reports a 1198 with the KB's tuple: state 0, service
	// type 20, service flavor 2 (a TRANSFER reaching an Idle KCB).
	StateCheckKB bool `json:"state_check_kb"`
	// NotModelled lists, in first-seen order, the event IDs of the log that
	// the stub's event catalogue does not know (eventlog.Known): no lab run
	// can log them, so a log that has them is never reproduced.
	NotModelled []int `json:"not_modelled"`
	// Build is the kernel build (kernel.Builds: "4.0", "5.5-sp2", ...) the
	// last 9298/9299 banner of the log names by its build number ("Build
	// 2448.4" is 5.5-sp2); "" when the log has no banner or an unknown
	// number. A banner fixes the build of every hypothesis of the search.
	Build string `json:"build,omitempty"`
}

// IDStat is one event ID's line of a Signature.
type IDStat struct {
	ID    int `json:"id"`
	Count int `json:"count"`
	// PerMinute is Count over the log's span (at least one second).
	PerMinute float64 `json:"per_minute"`
	// FirstS is the first occurrence, in seconds from the log's start.
	FirstS float64 `json:"first_s"`
	// Entities is "blank" (every record's entity is empty), "set",
	// "mixed", or "" for IDs whose text carries no entity.
	Entities string `json:"entities,omitempty"`
	// Tuples counts the bracketed tuples, e.g. "[2 20 1 8]" for 1004,
	// "[2 26]" for 1008, "[0 20 2]" (state, service type, flavor) for 1198.
	Tuples map[string]int `json:"tuples,omitempty"`
}

// ControlBlock is a control-block index named by an event ID, and how often.
type ControlBlock struct {
	ID    int `json:"id"`
	Index int `json:"index"`
	Count int `json:"count"`
}

// sortRecords orders recs oldest first (Event Viewer exports newest first).
func sortRecords(recs []eventlog.Record) {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].Time.Before(recs[j].Time) })
}

// NewSignature computes the signature of recs. Records of other sources are
// ignored; recs need not be sorted.
func NewSignature(recs []eventlog.Record) Signature {
	var mine []eventlog.Record
	for _, r := range recs {
		if r.Source == "" || isMTA(r.Source) {
			mine = append(mine, r)
		}
	}
	sortRecords(mine)
	s := Signature{Events: len(mine), IDs: []IDStat{}, Order: []int{}, ControlBlocks: []ControlBlock{}, NotModelled: []int{}}
	if len(mine) == 0 {
		return s
	}
	s.Start, s.End = mine[0].Time, mine[len(mine)-1].Time
	s.SpanS = s.End.Sub(s.Start).Seconds()
	minutes := math.Max(s.SpanS, 1) / 60
	stats := map[int]*IDStat{}
	blank, set := map[int]int{}, map[int]int{}
	cb := map[[2]int]int{}
	computers := map[string]bool{}
	for _, r := range mine {
		if r.MTA != "" {
			computers[r.MTA] = true
		}
		st := stats[r.ID]
		if st == nil {
			st = &IDStat{ID: r.ID, FirstS: r.Time.Sub(s.Start).Seconds()}
			stats[r.ID] = st
			s.Order = append(s.Order, r.ID)
			if !eventlog.Known(r.ID) {
				s.NotModelled = append(s.NotModelled, r.ID)
			}
		}
		st.Count++
		if tup := tuple(r); tup != "" {
			if st.Tuples == nil {
				st.Tuples = map[string]int{}
			}
			st.Tuples[tup]++
		}
		switch r.ID {
		case eventlog.IDAssocError, eventlog.IDStateCheck, eventlog.IDAbnormalEnd:
			if r.Entity == "" {
				blank[r.ID]++
			} else {
				set[r.ID]++
			}
		case eventlog.IDAssocErrorAnon:
			blank[r.ID]++
		}
		if r.KCB > 0 && (r.ID == eventlog.IDConnRefused || r.ID == eventlog.IDStateCheck || eventlog.Companion(r.ID)) {
			cb[[2]int{r.ID, r.KCB}]++
		}
		if r.State == 2 && (r.ID == eventlog.IDAssocErrorAnon || r.ID == eventlog.IDAssocError && r.Reason == 8) {
			s.OpenErrors++
		}
		if r.ID == eventlog.IDStateCheck && r.State == 0 && r.Svc == 20 && r.Flavor == 2 {
			s.StateCheckKB = true
		}
		if (r.ID == eventlog.IDStart || r.ID == eventlog.IDStop) && r.Build != "" {
			if b := buildOfBanner(r.Build); b != "" {
				s.Build = b
			}
		}
	}
	for _, id := range s.Order {
		st := stats[id]
		st.PerMinute = math.Round(float64(st.Count)/minutes*100) / 100
		switch {
		case blank[id] > 0 && set[id] > 0:
			st.Entities = "mixed"
		case blank[id] > 0:
			st.Entities = "blank"
		case set[id] > 0:
			st.Entities = "set"
		}
		s.IDs = append(s.IDs, *st)
	}
	for k, n := range cb {
		s.ControlBlocks = append(s.ControlBlocks, ControlBlock{ID: k[0], Index: k[1], Count: n})
	}
	sort.Slice(s.ControlBlocks, func(i, j int) bool {
		a, b := s.ControlBlocks[i], s.ControlBlocks[j]
		return a.ID < b.ID || a.ID == b.ID && a.Index < b.Index
	})
	for c := range computers {
		s.Computers = append(s.Computers, c)
	}
	slices.Sort(s.Computers)
	s.Leak = s.OpenErrors > 0 && s.repeatedRefusal()
	return s
}

// repeatedRefusal reports whether 1277 names one control block more than
// once (or, when no index could be read, whether 1277 occurs twice).
func (s Signature) repeatedRefusal() bool {
	named := 0
	for _, c := range s.ControlBlocks {
		if c.ID == eventlog.IDConnRefused {
			named += c.Count
			if c.Count >= 2 {
				return true
			}
		}
	}
	return named == 0 && s.Count(eventlog.IDConnRefused) >= 2
}

// tuple renders the bracketed numbers of a record's text.
func tuple(r eventlog.Record) string {
	switch r.ID {
	case eventlog.IDAssocError:
		return fmt.Sprintf("[%d %d %d %d]", r.State, r.Svc, r.Flavor, r.Reason)
	case eventlog.IDAssocErrorAnon:
		return fmt.Sprintf("[%d %d]", r.State, r.Svc)
	case eventlog.IDStateCheck:
		return fmt.Sprintf("[%d %d %d]", r.State, r.Svc, r.Flavor)
	}
	return ""
}

// Count returns how many records of id the log holds.
func (s Signature) Count(id int) int {
	for _, st := range s.IDs {
		if st.ID == id {
			return st.Count
		}
	}
	return 0
}

// Has reports whether the log holds id.
func (s Signature) Has(id int) bool { return s.Count(id) > 0 }

// Modelled returns the IDs of the log that the stub's event catalogue
// knows, in first-seen order: the IDs a lab run can log, and must log to
// reproduce the log.
func (s Signature) Modelled() []int {
	var out []int
	for _, id := range s.Order {
		if eventlog.Known(id) {
			out = append(out, id)
		}
	}
	return out
}

// Companions reports whether the log holds any companion event (9156,
// 9215, 9221, 1294, 9298, 9299): a lab run can log them only with
// extended_events on.
func (s Signature) Companions() bool {
	for _, id := range s.Order {
		if eventlog.Companion(id) {
			return true
		}
	}
	return false
}

// Core returns the core IDs present, ascending.
func (s Signature) Core() []int {
	var out []int
	for _, id := range CoreIDs {
		if s.Has(id) {
			out = append(out, id)
		}
	}
	return out
}

// JSON renders the signature as indented JSON.
func (s Signature) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("repro: signature json: %w", err)
	}
	return append(b, '\n'), nil
}

// String renders the signature as a short text report.
func (s Signature) String() string {
	var b strings.Builder
	if s.Events == 0 {
		return "signature: no MSExchangeMTA events\n"
	}
	fmt.Fprintf(&b, "signature: %d MSExchangeMTA events over %s (%s → %s UTC)",
		s.Events, formatSpan(s.SpanS), s.Start.UTC().Format("2006-01-02 15:04:05"), s.End.UTC().Format("2006-01-02 15:04:05"))
	if len(s.Computers) > 0 {
		fmt.Fprintf(&b, ", from %s", strings.Join(s.Computers, ", "))
	}
	b.WriteString("\n\n  id     count  per min  first seen  entities  tuples\n")
	for _, st := range s.IDs {
		ent := st.Entities
		if ent == "" {
			ent = "-"
		}
		fmt.Fprintf(&b, "  %-5d %6d %8.2f  %-10s  %-8s  %s\n", st.ID, st.Count, st.PerMinute, "+"+formatSpan(st.FirstS), ent, formatTuples(st.Tuples))
	}
	order := make([]string, len(s.Order))
	for i, id := range s.Order {
		order[i] = fmt.Sprint(id)
	}
	fmt.Fprintf(&b, "\n  first seen:      %s\n", strings.Join(order, " → "))
	var cbs []string
	for _, c := range s.ControlBlocks {
		cbs = append(cbs, fmt.Sprintf("%d@%d ×%d", c.ID, c.Index, c.Count))
	}
	if len(cbs) == 0 {
		cbs = []string{"none"}
	}
	fmt.Fprintf(&b, "  control blocks:  %s\n", strings.Join(cbs, ", "))
	fmt.Fprintf(&b, "  open errors in state 2: %d\n", s.OpenErrors)
	if s.Leak {
		b.WriteString("  leak indicator:  yes — 1277 repeats a control block while opens fail in state 2\n" +
			"                   (KCBs left OpenPending: the KB Q152877 defect of builds before SP2)\n")
	} else {
		b.WriteString("  leak indicator:  no\n")
	}
	if s.StateCheckKB {
		b.WriteString("  1198 with the KB tuple: state 0, service type 20, service flavor 2\n")
	}
	if len(s.NotModelled) > 0 {
		var nm []string
		for _, id := range s.NotModelled {
			nm = append(nm, fmt.Sprintf("%d ×%d", id, s.Count(id)))
		}
		fmt.Fprintf(&b, "  not modelled:    %s (the stub's catalogue does not know these ids:\n"+
			"                   no lab run logs them, so this log cannot be reproduced)\n", strings.Join(nm, ", "))
	}
	return b.String()
}

func formatTuples(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var out []string
	for i, k := range keys {
		if i == 3 {
			out = append(out, fmt.Sprintf("+%d more", len(keys)-3))
			break
		}
		out = append(out, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(out, " ")
}

func formatSpan(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// buildOfBanner returns the name of the build whose banner shows the build
// number n ("2448.4" → "5.5-sp2"), "" for a number no build has.
func buildOfBanner(n string) string {
	for _, b := range kernel.Builds() {
		if b.Banner == n {
			return b.Name
		}
	}
	return ""
}

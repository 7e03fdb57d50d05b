package repro

import (
	"encoding/json"
	"fmt"
	"maps"
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
	// Computers are the MTA (computer) names seen, sorted (at most
	// MaxComputers).
	Computers []string `json:"computers,omitempty"`
	// ComputersDropped counts the records whose computer name was not kept
	// because MaxComputers names were.
	ComputersDropped int `json:"computers_dropped,omitempty"`
	// IDs holds one entry per event ID, in first-seen order.
	IDs []IDStat `json:"ids"`
	// Order is the event IDs in first-seen order.
	Order []int `json:"order"`
	// ControlBlocks lists the control-block indexes named by 1277 and 1198
	// (and any other event that names one), by ID then index.
	ControlBlocks []ControlBlock `json:"control_blocks"`
	// ControlBlocksDropped counts the records naming a control block that
	// was not kept because MaxControlBlocks (ID, index) pairs were.
	ControlBlocksDropped int `json:"control_blocks_dropped,omitempty"`
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
	// Banner is the build number the last 9298/9299 banner shows ("2448.4"
	// of "Build 2448.4"), known to the catalogue or not; "" without one.
	Banner string `json:"banner,omitempty"`
	// Restarts counts the MTA's restarts: a 9299 (stopped) banner directly
	// followed, in time order, by a 9298 (started) one.
	Restarts int `json:"restarts"`
	// BannersDropped counts the banners beyond MaxBanners, which Restarts
	// could not look at (Restarts is then a lower bound).
	BannersDropped int `json:"banners_dropped,omitempty"`
	// ConfiguredCounts are the control-block counts 9156 says are
	// configured ("The configured count is 200"), by count.
	ConfiguredCounts []ConfiguredCount `json:"configured_counts,omitempty"`
	// ConfiguredCountsDropped counts the 9156 records whose configured count
	// was not kept because MaxConfiguredCounts counts were.
	ConfiguredCountsDropped int `json:"configured_counts_dropped,omitempty"`
}

// ConfiguredCount is a configured control-block count named by 9156, and
// how many 9156 events named it.
type ConfiguredCount struct {
	Count  int `json:"count"`
	Events int `json:"events"`
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
	// TuplesDropped counts the records whose tuple was not kept because
	// MaxTuples distinct tuples were.
	TuplesDropped int `json:"tuples_dropped,omitempty"`
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
	b := NewSignatureBuilder()
	for _, r := range recs {
		b.Add(r)
	}
	return b.Signature()
}

// Caps of the sets a SignatureBuilder keeps; what a full set cannot take is
// counted in the Signature's *Dropped fields.
const (
	// MaxComputers is how many computer names a signature keeps.
	MaxComputers = 256
	// MaxTuples is how many distinct tuples a signature keeps per event ID.
	MaxTuples = 64
	// MaxControlBlocks is how many (event ID, control-block index) pairs a
	// signature keeps; an MTA's pool is far smaller.
	MaxControlBlocks = 4096
	// MaxBanners is how many 9298/9299 banners a signature keeps to count
	// restarts (two per restart).
	MaxBanners = 4096
	// MaxConfiguredCounts is how many distinct 9156 configured counts a
	// signature keeps.
	MaxConfiguredCounts = 16
)

// SignatureBuilder computes a Signature from records added one at a time,
// in any order, as Import streams them. It keeps per event ID a count, the
// first occurrence and small sets (tuples, entities), the control-block
// indexes, computers, banners and configured counts up to the caps above,
// and nothing per record: its memory is bounded by the signature, not by
// the log. The zero value is not ready: use NewSignatureBuilder.
type SignatureBuilder struct {
	seen       int // records added: a record's position, for ties in time
	events     int
	start, end time.Time
	ids        map[int]*idAcc
	cb         map[[2]int]int
	cbDropped  int
	named1277  int
	computers  map[string]struct{}
	compDrop   int
	openErrors int
	stateKB    bool
	build      stamp // the last banner naming a catalogue build
	banner     stamp // the last banner naming any build number
	banners    []bannerAt
	bannerDrop int
	limits     map[int]int
	limitDrop  int
}

// idAcc is what a SignatureBuilder keeps of one event ID.
type idAcc struct {
	count         int
	first         time.Time
	firstPos      int
	blank, set    int
	tuples        map[string]int
	tuplesDropped int
}

// stamp is a value with the time and position of the record that gave it.
type stamp struct {
	t     time.Time
	pos   int
	value string
}

type bannerAt struct {
	t   time.Time
	pos int
	id  int
}

// NewSignatureBuilder returns an empty builder.
func NewSignatureBuilder() *SignatureBuilder {
	return &SignatureBuilder{ids: map[int]*idAcc{}, cb: map[[2]int]int{}, computers: map[string]struct{}{}, limits: map[int]int{}}
}

// later reports whether (t, pos) comes after (t0, pos0) in time order,
// records of the same time in the order they were added (as NewSignature's
// stable sort has them).
func later(t time.Time, pos int, t0 time.Time, pos0 int) bool {
	return t.After(t0) || t.Equal(t0) && pos > pos0
}

// Add adds one record; records of other sources than MSExchangeMTA (an
// empty Source counts as MSExchangeMTA) are ignored.
func (b *SignatureBuilder) Add(r eventlog.Record) {
	if r.Source != "" && !isMTA(r.Source) {
		return
	}
	pos := b.seen
	b.seen++
	b.events++
	if b.events == 1 || r.Time.Before(b.start) {
		b.start = r.Time
	}
	if b.events == 1 || !r.Time.Before(b.end) {
		b.end = r.Time
	}
	if r.MTA != "" {
		if _, ok := b.computers[r.MTA]; !ok {
			if len(b.computers) < MaxComputers {
				b.computers[strings.Clone(r.MTA)] = struct{}{}
			} else {
				b.compDrop++
			}
		}
	}
	st := b.ids[r.ID]
	if st == nil {
		st = &idAcc{first: r.Time, firstPos: pos}
		b.ids[r.ID] = st
	} else if r.Time.Before(st.first) {
		st.first, st.firstPos = r.Time, pos
	}
	st.count++
	if tup := tuple(r); tup != "" {
		if _, ok := st.tuples[tup]; ok || len(st.tuples) < MaxTuples {
			if st.tuples == nil {
				st.tuples = map[string]int{}
			}
			st.tuples[tup]++
		} else {
			st.tuplesDropped++
		}
	}
	switch r.ID {
	case eventlog.IDAssocError, eventlog.IDStateCheck, eventlog.IDAbnormalEnd:
		if r.Entity == "" {
			st.blank++
		} else {
			st.set++
		}
	case eventlog.IDAssocErrorAnon:
		st.blank++
	}
	if r.KCB > 0 && (r.ID == eventlog.IDConnRefused || r.ID == eventlog.IDStateCheck || eventlog.Companion(r.ID)) {
		if r.ID == eventlog.IDConnRefused {
			b.named1277++
		}
		k := [2]int{r.ID, r.KCB}
		if _, ok := b.cb[k]; ok || len(b.cb) < MaxControlBlocks {
			b.cb[k]++
		} else {
			b.cbDropped++
		}
	}
	if r.State == 2 && (r.ID == eventlog.IDAssocErrorAnon || r.ID == eventlog.IDAssocError && r.Reason == 8) {
		b.openErrors++
	}
	if r.ID == eventlog.IDStateCheck && r.State == 0 && r.Svc == 20 && r.Flavor == 2 {
		b.stateKB = true
	}
	if r.ID == eventlog.IDNoControlBlocks && r.Limit > 0 {
		if _, ok := b.limits[r.Limit]; ok || len(b.limits) < MaxConfiguredCounts {
			b.limits[r.Limit]++
		} else {
			b.limitDrop++
		}
	}
	if r.ID == eventlog.IDStart || r.ID == eventlog.IDStop {
		if len(b.banners) < MaxBanners {
			b.banners = append(b.banners, bannerAt{t: r.Time, pos: pos, id: r.ID})
		} else {
			b.bannerDrop++
		}
		if r.Build != "" {
			if b.banner.value == "" || later(r.Time, pos, b.banner.t, b.banner.pos) {
				b.banner = stamp{r.Time, pos, strings.Clone(r.Build)}
			}
			if name := buildOfBanner(r.Build); name != "" && (b.build.value == "" || later(r.Time, pos, b.build.t, b.build.pos)) {
				b.build = stamp{r.Time, pos, name}
			}
		}
	}
}

// Signature returns the signature of the records added so far.
func (b *SignatureBuilder) Signature() Signature {
	s := Signature{Events: b.events, IDs: []IDStat{}, Order: []int{}, ControlBlocks: []ControlBlock{}, NotModelled: []int{}}
	if b.events == 0 {
		return s
	}
	s.Start, s.End = b.start, b.end
	s.SpanS = s.End.Sub(s.Start).Seconds()
	minutes := math.Max(s.SpanS, 1) / 60
	for id := range b.ids {
		s.Order = append(s.Order, id)
	}
	slices.SortFunc(s.Order, func(x, y int) int {
		a, c := b.ids[x], b.ids[y]
		if cmp := a.first.Compare(c.first); cmp != 0 {
			return cmp
		}
		return a.firstPos - c.firstPos
	})
	for _, id := range s.Order {
		acc := b.ids[id]
		if !eventlog.Known(id) {
			s.NotModelled = append(s.NotModelled, id)
		}
		st := IDStat{ID: id, Count: acc.count, FirstS: acc.first.Sub(s.Start).Seconds(), TuplesDropped: acc.tuplesDropped}
		st.PerMinute = math.Round(float64(st.Count)/minutes*100) / 100
		switch {
		case acc.blank > 0 && acc.set > 0:
			st.Entities = "mixed"
		case acc.blank > 0:
			st.Entities = "blank"
		case acc.set > 0:
			st.Entities = "set"
		}
		if len(acc.tuples) > 0 {
			st.Tuples = maps.Clone(acc.tuples)
		}
		s.IDs = append(s.IDs, st)
	}
	for k, n := range b.cb {
		s.ControlBlocks = append(s.ControlBlocks, ControlBlock{ID: k[0], Index: k[1], Count: n})
	}
	sort.Slice(s.ControlBlocks, func(i, j int) bool {
		a, c := s.ControlBlocks[i], s.ControlBlocks[j]
		return a.ID < c.ID || a.ID == c.ID && a.Index < c.Index
	})
	s.ControlBlocksDropped = b.cbDropped
	for c := range b.computers {
		s.Computers = append(s.Computers, c)
	}
	slices.Sort(s.Computers)
	s.ComputersDropped = b.compDrop
	s.OpenErrors = b.openErrors
	s.StateCheckKB = b.stateKB
	s.Leak = s.OpenErrors > 0 && repeatedRefusal(s.ControlBlocks, b.named1277, s.Count(eventlog.IDConnRefused))
	s.Build, s.Banner = b.build.value, b.banner.value
	s.Restarts = restarts(b.banners)
	s.BannersDropped = b.bannerDrop
	for limit, n := range b.limits {
		s.ConfiguredCounts = append(s.ConfiguredCounts, ConfiguredCount{Count: limit, Events: n})
	}
	slices.SortFunc(s.ConfiguredCounts, func(x, y ConfiguredCount) int { return x.Count - y.Count })
	s.ConfiguredCountsDropped = b.limitDrop
	return s
}

// restarts counts the 9299 (stop) banners directly followed, in time
// order, by a 9298 (start) banner.
func restarts(banners []bannerAt) int {
	sorted := slices.Clone(banners)
	slices.SortFunc(sorted, func(x, y bannerAt) int {
		if c := x.t.Compare(y.t); c != 0 {
			return c
		}
		return x.pos - y.pos
	})
	n := 0
	for i := 1; i < len(sorted); i++ {
		if sorted[i-1].id == eventlog.IDStop && sorted[i].id == eventlog.IDStart {
			n++
		}
	}
	return n
}

// repeatedRefusal reports whether 1277 names one control block more than
// once (or, when no 1277 named an index, whether 1277 occurs twice). named
// is how many 1277 records named an index, count how many 1277 there are.
func repeatedRefusal(cbs []ControlBlock, named, count int) bool {
	for _, c := range cbs {
		if c.ID == eventlog.IDConnRefused && c.Count >= 2 {
			return true
		}
	}
	return named == 0 && count >= 2
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
		fmt.Fprintf(&b, ", from %s", strings.Join(s.Computers[:min(len(s.Computers), 8)], ", "))
		if more := len(s.Computers) - 8; more > 0 || s.ComputersDropped > 0 {
			fmt.Fprintf(&b, " and %d more", max(more, 0))
			if s.ComputersDropped > 0 {
				fmt.Fprintf(&b, " (+%d events of computers past the first %d)", s.ComputersDropped, MaxComputers)
			}
		}
	}
	b.WriteString("\n\n  id     count  per min  first seen  entities  tuples\n")
	for _, st := range s.IDs {
		ent := st.Entities
		if ent == "" {
			ent = "-"
		}
		tup := formatTuples(st.Tuples)
		if st.TuplesDropped > 0 {
			tup += fmt.Sprintf(" (+%d events of tuples past the first %d)", st.TuplesDropped, MaxTuples)
		}
		if !eventlog.Known(st.ID) {
			tup = strings.TrimSpace(tup + " (not modelled)")
		}
		fmt.Fprintf(&b, "  %-5d %6d %8.2f  %-10s  %-8s  %s\n", st.ID, st.Count, st.PerMinute, "+"+formatSpan(st.FirstS), ent, tup)
	}
	order := make([]string, len(s.Order))
	for i, id := range s.Order {
		order[i] = fmt.Sprint(id)
	}
	fmt.Fprintf(&b, "\n  first seen:      %s\n", strings.Join(order, " → "))
	b.WriteString(formatControlBlocks(s.ControlBlocks, s.ControlBlocksDropped))
	b.WriteString("  build:           ")
	switch {
	case s.Banner == "":
		b.WriteString("not named (no 9298/9299 banner with a build number)\n")
	case s.Build == "":
		fmt.Fprintf(&b, "unknown (banner \"Build %s\" is no catalogue build)\n", s.Banner)
	case eventlog.BuildFor(s.Build) != s.Banner:
		fmt.Fprintf(&b, "%s (banner \"Build %s\"; the last banner says \"Build %s\", no catalogue build)\n", s.Build, eventlog.BuildFor(s.Build), s.Banner)
	default:
		fmt.Fprintf(&b, "%s (banner \"Build %s\")\n", s.Build, s.Banner)
	}
	fmt.Fprintf(&b, "  restarts:        %d (9299 stopped → 9298 started)", s.Restarts)
	if s.BannersDropped > 0 {
		fmt.Fprintf(&b, ", at least: %d banners past the first %d not looked at", s.BannersDropped, MaxBanners)
	}
	b.WriteString("\n")
	if len(s.ConfiguredCounts) > 0 {
		var cc []string
		for _, c := range s.ConfiguredCounts {
			cc = append(cc, fmt.Sprintf("%d (×%d)", c.Count, c.Events))
		}
		if s.ConfiguredCountsDropped > 0 {
			cc = append(cc, fmt.Sprintf("+%d events of other counts", s.ConfiguredCountsDropped))
		}
		fmt.Fprintf(&b, "  9156 configured count: %s\n", strings.Join(cc, ", "))
	}
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

// formatControlBlocks renders the control blocks named, one line when there
// are few, else one line per event ID with its most named indexes.
func formatControlBlocks(cbs []ControlBlock, dropped int) string {
	var b strings.Builder
	b.WriteString("  control blocks:  ")
	switch {
	case len(cbs) == 0:
		b.WriteString("none")
	case len(cbs) <= 12:
		for i, c := range cbs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d@%d ×%d", c.ID, c.Index, c.Count)
		}
	default:
		for i := 0; i < len(cbs); {
			j := i
			for j < len(cbs) && cbs[j].ID == cbs[i].ID {
				j++
			}
			group := slices.Clone(cbs[i:j])
			lo, hi := group[0].Index, group[len(group)-1].Index
			slices.SortStableFunc(group, func(x, y ControlBlock) int { return y.Count - x.Count })
			if i > 0 {
				b.WriteString("\n                   ")
			}
			fmt.Fprintf(&b, "%d: %d indexes (%d..%d), most named ", cbs[i].ID, j-i, lo, hi)
			for k, c := range group[:min(len(group), 4)] {
				if k > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%d@%d ×%d", c.ID, c.Index, c.Count)
			}
			i = j
		}
	}
	if dropped > 0 {
		fmt.Fprintf(&b, " (+%d events naming blocks past the first %d)", dropped, MaxControlBlocks)
	}
	b.WriteString("\n")
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

package repro

import (
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// prediction is what a family logs under one build (DESIGN.md section 5,
// "Expected effects", as measured on this lab: testdata/runs/lab).
type prediction struct {
	ids  []int // IDs in first-seen order, companions included
	leak bool
	kb   bool // 1198 with the KB tuple
}

var predictions = map[string]map[string]prediction{
	FamilyCycle: {"sp0": {ids: []int{1004, 1294, 9215, 1008, 1277, 9156}, leak: true},
		"sp2": {ids: []int{1004, 1294, 9215, 1008}}},
	FamilyRefuse: {"sp0": {ids: []int{1004, 1294, 9215}}, "sp2": {ids: []int{1004, 1294, 9215}}},
	FamilyTruncate: {"sp0": {ids: []int{1004, 1294, 1008, 1277, 9156}, leak: true},
		"sp2": {ids: []int{1004, 1294, 1008}}},
	FamilySlice: {"sp0": {ids: []int{1004, 1294, 1198}, kb: true}, "sp2": {ids: []int{1004, 1294}}},
	FamilyLatency: {"sp0": {ids: []int{1004, 1294, 1008, 1277, 1198, 9156}, leak: true},
		"sp2": {ids: []int{1004, 1294, 1008}}},
	FamilyPressure: {"sp0": {ids: []int{1277, 9156, 1004}}, "sp2": {ids: []int{1277, 9156, 1004}}},
	FamilyReset:    {"sp0": {ids: []int{1004, 1294, 9221, 1008}}, "sp2": {ids: []int{1004, 1294, 9221, 1008}}},
}

// predicted returns the signature a family is expected to give under mode.
func predicted(family, mode string) Signature {
	p := predictions[family][mode]
	var recs []eventlog.Record
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, id := range p.ids {
		r := eventlog.Record{Time: t0.Add(time.Duration(i) * time.Second), Source: eventlog.Source, ID: id}
		switch id {
		case eventlog.IDAssocErrorAnon:
			r.State = 2
		case eventlog.IDConnRefused:
			r.KCB = 1
			if p.leak {
				recs = append(recs, r) // a leak repeats its control block
			}
		case eventlog.IDStateCheck:
			if p.kb {
				r.Svc, r.Flavor = 20, 2
			} else {
				r.State = 3
			}
		}
		recs = append(recs, r)
	}
	return NewSignature(recs)
}

// Candidates returns the search's candidate plans for a customer signature,
// most promising first: families ranked by how well their expected
// signature scores against the customer's (a family expected to miss one
// of the log's catalogued IDs ranks low), every pool-of-4 variant before
// the pool-of-8 ones, and each plan directly followed by its twin in the
// other build (the build expected to match better goes first). When the
// log holds companion events, every plan turns them on (Extended); when it
// shows the MTA stopped (9299), every plan restarts B after the last heal
// (Restart).
func Candidates(customer Signature, seed int64) []Plan {
	ext, restart := customer.Companions(), customer.Has(eventlog.IDStop)
	type ranked struct {
		family string
		prior  float64
		modes  []string
	}
	var fams []ranked
	for _, f := range Families {
		s0, s2 := Score(customer, predicted(f, "sp0")), Score(customer, predicted(f, "sp2"))
		r := ranked{family: f, prior: max(s0, s2), modes: []string{"sp0", "sp2"}}
		if s2 > s0 {
			r.modes = []string{"sp2", "sp0"}
		}
		fams = append(fams, r)
	}
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].prior > fams[j].prior })
	var out []Plan
	for _, kcbs := range []int{4, 8} {
		for _, f := range fams {
			for _, p := range grid(f.family) {
				if f.family == FamilyPressure && p.Senders < kcbs {
					continue // not more associations than KCBs
				}
				for _, m := range f.modes {
					q := p.WithMode(m)
					q.KCBs, q.Seed, q.Extended, q.Restart = kcbs, seed, ext, restart
					out = append(out, q)
				}
			}
		}
	}
	return out
}

package repro

import (
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
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
	FamilyRefuse: {"sp0": {ids: []int{1004, 1294, 9215}}, "sp2": {ids: []int{1004, 1294, 9215}},
		"5.5-sp4": {ids: []int{1004, 1294, 9215, 4284, 4287}}},
	FamilyTruncate: {"sp0": {ids: []int{1004, 1294, 1008, 1277, 9156}, leak: true},
		"sp2": {ids: []int{1004, 1294, 1008}}},
	FamilySlice: {"sp0": {ids: []int{1004, 1294, 1198}, kb: true}, "sp2": {ids: []int{1004, 1294}}},
	FamilyLatency: {"sp0": {ids: []int{1004, 1294, 1008, 1277, 1198, 9156}, leak: true},
		"sp2": {ids: []int{1004, 1294, 1008}}},
	FamilyPressure: {"sp0": {ids: []int{1277, 9156, 1004}}, "sp2": {ids: []int{1277, 9156, 1004}},
		"5.5-sp4": {ids: []int{1277, 9156, 1004, 4284, 4287}}},
	FamilyReset: {"sp0": {ids: []int{1004, 1294, 9221, 1008}}, "sp2": {ids: []int{1004, 1294, 9221, 1008}},
		"5.5-sp4": {ids: []int{1004, 1294, 1008, 9221, 4284, 4287}}},
	// The KB families (scenarios/kb, CATALOGUE.md C2): the defective build
	// and the one that fixes it.
	FamilySlowLink: {"5.5-sp2": {ids: []int{1004, 1294, 9156}},
		"5.5-sp3": {ids: []int{1004, 1294}}},
	FamilyDrop: {"5.5-sp2": {ids: []int{1004, 1294, 2035, 4284, 4287}},
		"5.5-sp3": {ids: []int{1004, 1294, 9215, 4284, 4287}}},
	FamilySliceShort: {"5.5-sp3": {ids: []int{1004, 1294, 1277, 9156, 4284, 4287}, leak: true},
		"5.5-sp4": {ids: []int{1004, 1294}}},
}

// FamilyBuilds returns the builds a family's hypotheses run under, in
// catalogue order (by mode name: sp0, sp2, 5.5-sp2, ...): the 4.0 builds
// for the Q152877 families, the defective build and its fix for the KB
// families, and the 4.0 builds and 5.5-sp4 for the network conditions
// (CATALOGUE.md C3: 5.5 logs them with 4284 + 4287).
func FamilyBuilds(family string) []string {
	var out []string
	for _, b := range kernel.Builds() {
		if _, ok := predictions[family][b.ModeName()]; ok {
			out = append(out, b.ModeName())
		}
	}
	return out
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
// (Restart). Each family runs under the builds of FamilyBuilds, the one
// predicted to match best first; a log whose banners name a build
// (Signature.Build) runs every family under that build alone.
func Candidates(customer Signature, seed int64) []Plan {
	ext, restart := customer.Companions(), customer.Has(eventlog.IDStop)
	type ranked struct {
		family string
		prior  float64
		modes  []string
	}
	// A banner fixes the build: every hypothesis runs under it.
	fixed := ""
	if b, ok := kernel.LookupBuild(customer.Build); ok {
		fixed = b.ModeName()
	}
	var fams []ranked
	for _, f := range Families {
		r := ranked{family: f, prior: -1}
		type bs struct {
			mode  string
			score float64
		}
		var byBuild []bs
		for _, m := range FamilyBuilds(f) {
			byBuild = append(byBuild, bs{m, Score(customer, predicted(f, m))})
		}
		// Best predicted build first; on a tie catalogue order.
		sort.SliceStable(byBuild, func(i, j int) bool { return byBuild[i].score > byBuild[j].score })
		for _, b := range byBuild {
			r.prior = max(r.prior, b.score)
			r.modes = append(r.modes, b.mode)
		}
		if fixed != "" {
			r.modes = []string{fixed}
		}
		fams = append(fams, r)
	}
	sort.SliceStable(fams, func(i, j int) bool { return fams[i].prior > fams[j].prior })
	var out []Plan
	seen := map[string]bool{}
	for _, kcbs := range []int{4, 8} {
		for _, f := range fams {
			if kcbs > 4 && predictions[f.family]["sp0"].ids == nil {
				continue // the KB families run with their templates' pool of 4
			}
			for _, p := range grid(f.family) {
				if f.family == FamilyPressure && p.Senders < kcbs {
					continue // not more associations than KCBs
				}
				for _, m := range f.modes {
					q := p.WithMode(m)
					q.KCBs, q.Seed, q.Extended, q.Restart = kcbs, seed, ext, restart
					if k := q.Key() + q.Mode; !seen[k] {
						seen[k] = true
						out = append(out, q)
					}
				}
			}
		}
	}
	return out
}

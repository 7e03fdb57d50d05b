package faults

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// TypeStorm is the storm fault's `type:` value.
const TypeStorm = "storm"

func init() { Register(storm{}) }

// Storm defaults and bounds.
const (
	// DefaultStormRate is the default number of sub-faults started per second.
	DefaultStormRate = 2.0
	// StormMaxParts bounds the number of sub-faults one storm may plan
	// (rate × duration).
	StormMaxParts = 10000
	// StormPartMin is the shortest drawn sub-fault duration (a sub-fault is
	// also clamped to the storm's end, so it may end up shorter).
	StormPartMin = 100 * time.Millisecond
	// StormPartMax is the longest drawn sub-fault duration.
	StormPartMax = 600 * time.Millisecond
)

// storm is a composite "net storm": from At to its end (`until`, or At +
// `duration`) it starts sub-faults as a Poisson process at `rate` per second
// (default 2; the first one starts at At), each of a kind drawn from `kinds`
// (default DefaultStormKinds; any of StormKinds), on a link drawn from
// `links` (default: the fault's own link), lasting a drawn 100..600ms
// (clamped to the storm's end), with parameters drawn in sane ranges: each
// kind's stormDraw, in its own file, says which.
//
// Every draw comes from the scenario's rng, Toxiproxy's randomness is never
// used (slice's size_variation is 0). Sub-faults never conflict: each toxic
// has a name of its own (f<fault>.<part>-<kind>-<stream>), and the down
// spans of refuse and cycle parts are merged per link, so an enable never
// brings up a link that another part still holds down. Each toggle carries
// its part's link and kind as Link and Type. Everything is undone by the
// storm's end; the toggles at the last offset are marked Heal. A part with a
// closing toxic never overlaps another toxic on the same stream of its link
// (streamBusy: it starts when they end), which a Toxiproxy v2.12.0 bug
// would turn into a control call that never returns.
type storm struct{}

func (storm) Name() string { return TypeStorm }

func (storm) Keys() Keys {
	return Keys{NoLink: true, MustEnd: true, Params: []Param{
		{Key: "rate", Kind: ParamRate, Positive: true},
		{Key: "kinds", Kind: ParamTypeList},
		{Key: "links", Kind: ParamLinkList},
	}}
}

// stormer is a fault type a storm can mix in (see StormKinds).
type stormer interface {
	// stormDraw draws one sub-fault of the type into p (its toxics or its
	// down spans) for the storm that is scenario fault number fault.
	stormDraw(p *stormPart, fault int, rng *rand.Rand)
	// stormDefault is the type's place, from 1, among the kinds a storm
	// mixes when its `kinds` is absent (DefaultStormKinds), or 0 when it is
	// mixed only when named. The order is part of what a seed draws: a
	// new type takes the next free place.
	stormDefault() int
}

// stormPart is one planned sub-fault.
type stormPart struct {
	sub         int
	kind, link  string
	start, stop time.Duration
	toxics      []toxi.Toxic       // added at start, removed at stop
	downs       [][2]time.Duration // spans the link is down, within [start, stop)
}

// between draws a uniform integer in [lo, hi].
func between(rng *rand.Rand, lo, hi int64) int64 { return lo + rng.Int64N(hi-lo+1) }

// drawStreams draws up, down or both and maps it to Toxiproxy's streams.
func drawStreams(rng *rand.Rand) []string {
	return streams([]string{"up", "down", "both"}[rng.IntN(3)])
}

// toxicPart draws a one-toxic-per-stream part of storm fault number fault
// into p: the streams (both when all is set, else drawn), then the
// attributes, one map per toxic.
func toxicPart(p *stormPart, fault int, rng *rand.Rand, toxicType string, all bool, attrs func(rng *rand.Rand) map[string]any) {
	strs := streams("both")
	if !all {
		strs = drawStreams(rng)
	}
	a := attrs(rng)
	for _, st := range strs {
		m := make(map[string]any, len(a))
		for k, v := range a {
			m[k] = v
		}
		p.toxics = append(p.toxics, toxi.Toxic{
			Name: fmt.Sprintf("f%d.%d-%s-%s", fault, p.sub, p.kind, st), Type: toxicType, Stream: st, Attributes: m})
	}
}

// stormPlan reads the storm's parameters and draws its sub-faults.
func stormPlan(s Spec, rng *rand.Rand) ([]stormPart, error) {
	end := s.Until
	if end == 0 && s.Params.Has("duration") {
		end = s.At + s.Params.Duration("duration")
	}
	if end <= s.At {
		return nil, errors.New("storm needs a duration (or an until after at)")
	}
	rate := DefaultStormRate
	if s.Params.Has("rate") {
		rate = s.Params.Float("rate")
	}
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("storm rate must be a positive number of faults per second, not %v", rate)
	}
	if n := rate * (end - s.At).Seconds(); n > StormMaxParts {
		return nil, fmt.Errorf("storm would start about %.0f sub-faults; at most %d (lower rate or duration)", n, StormMaxParts)
	}
	kinds := s.Params.Strings("kinds")
	if len(kinds) == 0 {
		kinds = DefaultStormKinds()
	}
	draws := make([]stormer, len(kinds))
	for i, k := range kinds {
		t, _ := Lookup(k)
		d, ok := t.(stormer)
		if !ok {
			return nil, fmt.Errorf("storm cannot mix kind %q (it mixes %v)", k, StormKinds())
		}
		draws[i] = d
	}
	links := s.Params.Strings("links")
	if len(links) == 0 && s.Link != "" {
		links = []string{s.Link}
	}
	if len(links) == 0 {
		return nil, errors.New("storm needs links (or a link)")
	}

	var parts []stormPart
	busy := streamBusy{}
	for t, sub := s.At, 0; t < end; sub++ {
		k := rng.IntN(len(kinds))
		p := stormPart{sub: sub, kind: kinds[k], link: links[rng.IntN(len(links))], start: t}
		d := time.Duration(between(rng, int64(StormPartMin/time.Millisecond), int64(StormPartMax/time.Millisecond))) * time.Millisecond
		p.stop = min(t+d, end)
		draws[k].stormDraw(&p, s.Index, rng)
		if busy.fit(&p, end) {
			parts = append(parts, p)
		}
		gap := rng.ExpFloat64() / rate // seconds
		if gap >= (end - t).Seconds() {
			break
		}
		t += time.Duration(gap * float64(time.Second)).Round(time.Millisecond)
	}
	return parts, nil
}

// closingToxics are the toxic types that close their side of a stream
// (reset_peer, limit_data, timeout's hold, cut_at). Toxiproxy v2.12.0
// deadlocks when a toxic sends into a next toxic that has closed: the
// sender blocks for ever, and removing it (or disabling the proxy) never
// returns. So a storm never stacks a closing toxic with another toxic on
// one stream of one link.
var closingToxics = map[string]bool{"reset_peer": true, "limit_data": true, "timeout": true, "cut_at": true}

// streamBusy holds, per link and stream, until when a toxic and until when
// a closing toxic of the parts kept so far act on it.
type streamBusy map[[2]string]struct{ toxic, closing time.Duration }

// fit moves p's start past what it must not overlap on its streams: a part
// with a closing toxic waits for every toxic there, any other toxic part
// for the closing ones. Its drawn length is kept, clamped to end. It
// reports whether p still starts before end (a part pushed past it is
// dropped: the storm draws the next one as usual) and records p.
func (b streamBusy) fit(p *stormPart, end time.Duration) bool {
	if len(p.toxics) == 0 {
		return true
	}
	closing := false
	for _, tx := range p.toxics {
		closing = closing || closingToxics[tx.Type]
	}
	start := p.start
	for _, tx := range p.toxics {
		u := b[[2]string{p.link, tx.Stream}]
		if closing {
			start = max(start, u.toxic)
		} else {
			start = max(start, u.closing)
		}
	}
	if start >= end {
		return false
	}
	p.start, p.stop = start, min(start+(p.stop-p.start), end)
	for _, tx := range p.toxics {
		k := [2]string{p.link, tx.Stream}
		u := b[k]
		u.toxic = max(u.toxic, p.stop)
		if closing {
			u.closing = max(u.closing, p.stop)
		}
		b[k] = u
	}
	return true
}

func (storm) Expand(s Spec, rng *rand.Rand) ([]Toggle, error) {
	parts, err := stormPlan(s, rng)
	if err != nil {
		return nil, err
	}
	return stormToggles(parts), nil
}

// stormToggles turns the parts into toggles ordered by offset: each toxic
// added at its part's start and removed at its stop, and per link the union
// of the parts' down spans as disable/enable pairs.
func stormToggles(parts []stormPart) []Toggle {
	var ts []Toggle
	type span struct {
		from, to         time.Duration
		fromKind, toKind string
	}
	downs := map[string][]span{}
	var linkOrder []string
	for _, p := range parts {
		for i := range p.toxics {
			tx := p.toxics[i]
			ts = append(ts,
				Toggle{Offset: p.start, Link: p.link, Type: p.kind, Action: ActAddToxic, Toxic: &tx},
				Toggle{Offset: p.stop, Link: p.link, Type: p.kind, Action: ActRemoveToxic, Toxic: &toxi.Toxic{Name: tx.Name}})
		}
		for _, d := range p.downs {
			if _, seen := downs[p.link]; !seen {
				linkOrder = append(linkOrder, p.link)
			}
			downs[p.link] = append(downs[p.link], span{d[0], d[1], p.kind, p.kind})
		}
	}
	for _, link := range linkOrder {
		spans := downs[link]
		sort.SliceStable(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
		cur := spans[0]
		flush := func() {
			ts = append(ts,
				Toggle{Offset: cur.from, Link: link, Type: cur.fromKind, Action: ActDisable},
				Toggle{Offset: cur.to, Link: link, Type: cur.toKind, Action: ActEnable})
		}
		for _, sp := range spans[1:] {
			if sp.from <= cur.to { // overlapping or touching: one down span
				if sp.to > cur.to {
					cur.to, cur.toKind = sp.to, sp.toKind
				}
				continue
			}
			flush()
			cur = sp
		}
		flush()
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Offset < ts[j].Offset })
	if n := len(ts); n > 0 {
		last := ts[n-1].Offset
		for i := n - 1; i >= 0 && ts[i].Offset == last; i-- {
			if ts[i].Action == ActEnable || ts[i].Action == ActRemoveToxic {
				ts[i].Heal = true
			}
		}
	}
	return ts
}

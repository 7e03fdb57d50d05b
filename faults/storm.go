package faults

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

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

// DefaultStormKinds are the fault types a storm mixes when `kinds` is absent.
var DefaultStormKinds = []string{"latency", "refuse", "reset", "truncate", "slice", "bandwidth", "blackhole"}

// stormUnits are the MiniP1 units a cut_at sub-fault may draw.
var stormUnits = []string{"CR", "CC", "BIND", "BIND-ACCEPT", "TRANSFER", "ACK", "RELEASE"}

// storm is a composite "net storm": from At to its end (`until`, or At +
// `duration`) it starts sub-faults as a Poisson process at `rate` per second
// (default 2; the first one starts at At), each of a kind drawn from `kinds`
// (default DefaultStormKinds; any non-composite type), on a link drawn from
// `links` (default: the fault's own link), lasting a drawn 100..600ms
// (clamped to the storm's end), with parameters drawn in sane ranges:
//
//	latency    20..300ms on a drawn stream
//	bandwidth  8..128 KB/s on a drawn stream
//	truncate   20..400 bytes on a drawn stream
//	slice      average_size 8..64, size_variation 0, delay 1..20ms, drawn stream
//	blackhole  timeout 0 (hold) on a drawn stream
//	reset      timeout 0 on a drawn stream
//	slow_close delay 50..500ms, both streams
//	cut_at     a drawn unit, index 1..2, on a drawn stream
//	refuse     the link down for the sub-fault's span
//	cycle      the link flapping (down 20..100ms, up 20..100ms) within its span
//
// Every draw comes from the scenario's rng, Toxiproxy's randomness is never
// used (slice's size_variation is 0). Sub-faults never conflict: each toxic
// has a name of its own (f<fault>.<part>-<kind>-<stream>), and the down
// spans of refuse and cycle parts are merged per link, so an enable never
// brings up a link that another part still holds down. Each toggle carries
// its part's link and kind as Link and Type. Everything is undone by the
// storm's end; the toggles at the last offset are marked Heal.
type storm struct{}

func (storm) Name() string { return "storm" }

// stormPart is one planned sub-fault.
type stormPart struct {
	sub         int
	kind, link  string
	start, stop time.Duration
	toxics      []toxi.Toxic       // added at start, removed at stop
	downs       [][2]time.Duration // spans the link is down, within [start, stop)
}

// stormPartGen draws a sub-fault's parameters into p.
type stormPartGen func(p *stormPart, idx int, rng *rand.Rand)

// between draws a uniform integer in [lo, hi].
func between(rng *rand.Rand, lo, hi int64) int64 { return lo + rng.Int64N(hi-lo+1) }

// drawStreams draws up, down or both and maps it to Toxiproxy's streams.
func drawStreams(rng *rand.Rand) []string {
	return streams([]string{"up", "down", "both"}[rng.IntN(3)])
}

// toxicPart returns a generator of a one-toxic-per-stream part.
func toxicPart(toxicType string, all bool, attrs func(rng *rand.Rand) map[string]any) stormPartGen {
	return func(p *stormPart, idx int, rng *rand.Rand) {
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
				Name: fmt.Sprintf("f%d.%d-%s-%s", idx, p.sub, p.kind, st), Type: toxicType, Stream: st, Attributes: m})
		}
	}
}

var stormGens = map[string]stormPartGen{
	"latency": toxicPart("latency", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"latency": between(rng, 20, 300), "jitter": 0}
	}),
	"bandwidth": toxicPart("bandwidth", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"rate": between(rng, 8, 128)}
	}),
	"truncate": toxicPart("limit_data", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"bytes": between(rng, 20, 400)}
	}),
	"slice": toxicPart("slicer", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"average_size": between(rng, 8, 64), "size_variation": 0,
			"delay": micros(time.Duration(between(rng, 1, 20)) * time.Millisecond)}
	}),
	"blackhole": toxicPart("timeout", false, func(*rand.Rand) map[string]any {
		return map[string]any{"timeout": 0}
	}),
	"reset": toxicPart("reset_peer", false, func(*rand.Rand) map[string]any {
		return map[string]any{"timeout": 0}
	}),
	"slow_close": toxicPart("slow_close", true, func(rng *rand.Rand) map[string]any {
		return map[string]any{"delay": between(rng, 50, 500)}
	}),
	"cut_at": toxicPart("cut_at", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"unit": stormUnits[rng.IntN(len(stormUnits))], "index": between(rng, 1, 2)}
	}),
	"refuse": func(p *stormPart, _ int, _ *rand.Rand) {
		p.downs = append(p.downs, [2]time.Duration{p.start, p.stop})
	},
	"cycle": func(p *stormPart, _ int, rng *rand.Rand) {
		for t := p.start; t < p.stop; {
			down := time.Duration(between(rng, 20, 100)) * time.Millisecond
			up := time.Duration(between(rng, 20, 100)) * time.Millisecond
			p.downs = append(p.downs, [2]time.Duration{t, min(t+down, p.stop)})
			t += down + up
		}
	},
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
		kinds = DefaultStormKinds
	}
	for _, k := range kinds {
		if _, ok := stormGens[k]; !ok {
			return nil, fmt.Errorf("storm cannot mix kind %q (it mixes %v)", k, stormKindNames())
		}
	}
	links := s.Params.Strings("links")
	if len(links) == 0 && s.Link != "" {
		links = []string{s.Link}
	}
	if len(links) == 0 {
		return nil, errors.New("storm needs links (or a link)")
	}

	var parts []stormPart
	for t, sub := s.At, 0; t < end; sub++ {
		p := stormPart{sub: sub, kind: kinds[rng.IntN(len(kinds))], link: links[rng.IntN(len(links))], start: t}
		d := time.Duration(between(rng, int64(StormPartMin/time.Millisecond), int64(StormPartMax/time.Millisecond))) * time.Millisecond
		p.stop = min(t+d, end)
		stormGens[p.kind](&p, s.Index, rng)
		parts = append(parts, p)
		gap := rng.ExpFloat64() / rate // seconds
		if gap >= (end - t).Seconds() {
			break
		}
		t += time.Duration(gap * float64(time.Second)).Round(time.Millisecond)
	}
	return parts, nil
}

func stormKindNames() []string {
	out := make([]string, 0, len(stormGens))
	for k := range stormGens {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
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

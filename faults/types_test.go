package faults

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// tp is a Params backed by one map; values are time.Duration, int64, int,
// float64, string or []string, read back by the accessor of their kind.
type tp map[string]any

func (p tp) Has(k string) bool { _, ok := p[k]; return ok }
func (p tp) Duration(k string) time.Duration {
	d, _ := p[k].(time.Duration)
	return d
}
func (p tp) Int(k string) int64 {
	switch v := p[k].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}
func (p tp) Float(k string) float64 {
	f, _ := p[k].(float64)
	return f
}
func (p tp) Size(k string) int64 { return p.Int(k) }
func (p tp) Text(k string) string {
	s, _ := p[k].(string)
	return s
}
func (p tp) Strings(k string) []string {
	s, _ := p[k].([]string)
	return s
}

// tpSpec is a spec of typ on link A->B.
func tpSpec(idx int, typ string, at, until time.Duration, p tp) Spec {
	return Spec{Index: idx, At: at, Until: until, Link: "A->B", Type: typ, Params: p}
}

// tpExpand expands specs through the schedule (so toggles are stamped).
func tpExpand(t *testing.T, seed int64, specs ...Spec) []Toggle {
	t.Helper()
	s, err := Expand("types", seed, specs)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return s.Toggles
}

// tpNum reads a numeric toxic attribute.
func tpNum(t *testing.T, v any) int64 {
	t.Helper()
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	}
	t.Fatalf("attribute %v (%T) is not a number", v, v)
	return 0
}

// tpToxicCase checks a one-toxic-per-stream type.
type tpToxicCase struct {
	typ, toxic string
	params     tp
	attrs      map[string]any // expected attribute values (numbers as int64)
}

func TestToxicTypesExpand(t *testing.T) {
	cases := []tpToxicCase{
		{"bandwidth", "bandwidth", tp{"rate": int64(64)}, map[string]any{"rate": int64(64)}},
		{"blackhole", "timeout", tp{"timeout": time.Duration(0)}, map[string]any{"timeout": int64(0)}},
		{"blackhole", "timeout", tp{"timeout": 1500 * time.Millisecond}, map[string]any{"timeout": int64(1500)}},
		// A sub-millisecond timeout must not become 0 (= hold forever).
		{"blackhole", "timeout", tp{"timeout": 300 * time.Microsecond}, map[string]any{"timeout": int64(1)}},
		{"reset", "reset_peer", tp{"timeout": 20 * time.Millisecond}, map[string]any{"timeout": int64(20)}},
		{"reset", "reset_peer", tp{}, map[string]any{"timeout": int64(0)}},
		{"truncate", "limit_data", tp{"bytes": int64(137)}, map[string]any{"bytes": int64(137)}},
		// slicer's delay is in MICROseconds.
		{"slice", "slicer", tp{"average_size": int64(10), "size_variation": int64(3), "delay": 15 * time.Millisecond},
			map[string]any{"average_size": int64(10), "size_variation": int64(3), "delay": int64(15000)}},
		{"slice", "slicer", tp{"delay": 2500 * time.Nanosecond},
			map[string]any{"average_size": int64(DefaultSliceAverage), "size_variation": int64(DefaultSliceVariation), "delay": int64(3)}},
		{"slow_close", "slow_close", tp{"delay": 250 * time.Millisecond}, map[string]any{"delay": int64(250)}},
		{"cut_at", "cut_at", tp{"unit": "BIND", "index": int64(2)}, map[string]any{"unit": "BIND", "index": int64(2)}},
		{"cut_at", "cut_at", tp{"unit": "CR"}, map[string]any{"unit": "CR", "index": int64(1)}},
	}
	for _, c := range cases {
		for _, stream := range []string{"up", "down", "both", ""} {
			p := tp{}
			for k, v := range c.params {
				p[k] = v
			}
			if stream != "" {
				p["stream"] = stream
			}
			want := map[string][]string{"up": {"upstream"}, "down": {"downstream"}, "both": {"upstream", "downstream"}, "": {"upstream", "downstream"}}[stream]
			if c.typ == "slow_close" && stream != "" {
				continue // no stream key; checked with the default only
			}
			ts := tpExpand(t, 1, tpSpec(4, c.typ, 500*ms, 2*time.Second, p))
			if len(ts) != 2*len(want) {
				t.Fatalf("%s %s: %d toggles, want %d: %+v", c.typ, stream, len(ts), 2*len(want), ts)
			}
			for i, st := range want {
				add, rm := ts[i], ts[len(want)+i]
				name := toxicName(4, c.typ, st)
				if add.Action != ActAddToxic || add.Offset != 500*ms || add.Heal || add.Link != "A->B" || add.Type != c.typ || add.Fault != 4 {
					t.Errorf("%s %s: add = %+v", c.typ, stream, add)
				}
				if add.Toxic.Name != name || add.Toxic.Type != c.toxic || add.Toxic.Stream != st {
					t.Errorf("%s %s: toxic = %+v, want %s %s on %s", c.typ, stream, add.Toxic, name, c.toxic, st)
				}
				if len(add.Toxic.Attributes) != len(c.attrs) {
					t.Errorf("%s: attributes %v, want %v", c.typ, add.Toxic.Attributes, c.attrs)
				}
				for k, w := range c.attrs {
					got := add.Toxic.Attributes[k]
					if ws, ok := w.(string); ok {
						if got != ws {
							t.Errorf("%s: %s = %v, want %v", c.typ, k, got, w)
						}
					} else if tpNum(t, got) != w.(int64) {
						t.Errorf("%s: %s = %v, want %v", c.typ, k, got, w)
					}
				}
				if rm.Action != ActRemoveToxic || rm.Offset != 2*time.Second || !rm.Heal || rm.Toxic.Name != name {
					t.Errorf("%s %s: remove = %+v", c.typ, stream, rm)
				}
			}
			// Each toggle has an attribute map of its own.
			if len(want) == 2 && reflect.ValueOf(ts[0].Toxic.Attributes).UnsafePointer() == reflect.ValueOf(ts[1].Toxic.Attributes).UnsafePointer() {
				t.Errorf("%s: streams share one attribute map", c.typ)
			}
		}
		// Without until: added, never removed, nothing marked heal.
		ts := tpExpand(t, 1, tpSpec(0, c.typ, time.Second, 0, c.params))
		for _, g := range ts {
			if g.Action != ActAddToxic || g.Heal {
				t.Errorf("%s without until: %+v", c.typ, g)
			}
		}
	}
}

func TestToxicTypesBadParams(t *testing.T) {
	for _, sp := range []Spec{
		tpSpec(0, "bandwidth", 0, 0, tp{"rate": int64(0)}),
		tpSpec(0, "blackhole", 0, 0, tp{"timeout": -time.Second}),
		tpSpec(0, "reset", 0, 0, tp{"timeout": -time.Second}),
		tpSpec(0, "truncate", 0, 0, tp{"bytes": int64(-1)}),
		tpSpec(0, "slice", 0, 0, tp{"average_size": int64(0)}),
		tpSpec(0, "slice", 0, 0, tp{"average_size": int64(4), "size_variation": int64(5)}),
		tpSpec(0, "slice", 0, 0, tp{"delay": -time.Millisecond}),
		tpSpec(0, "slow_close", 0, 0, tp{"delay": -time.Millisecond}),
		tpSpec(0, "cut_at", 0, 0, tp{}),
		tpSpec(0, "cut_at", 0, 0, tp{"unit": "BIND", "index": int64(0)}),
		tpSpec(0, "truncate", time.Second, time.Second, tp{"bytes": int64(10)}),
		tpSpec(0, "swizzle", 0, 0, tp{"links": []string{"A->B"}}),
		tpSpec(0, "swizzle", 0, 0, tp{"step": time.Second}),
		tpSpec(0, "swizzle", 0, 0, tp{"links": []string{"A->B", "A->B"}, "step": time.Second}),
		tpSpec(0, "storm", 0, 0, tp{}),
		tpSpec(0, "storm", 0, time.Second, tp{"rate": -1.0}),
		tpSpec(0, "storm", 0, time.Second, tp{"kinds": []string{"storm"}}),
		tpSpec(0, "storm", 0, time.Hour, tp{"rate": 1000.0}),
		{Type: "storm", Until: time.Second, Params: tp{}}, // no links, no link
	} {
		if _, err := Expand("bad", 1, []Spec{sp}); err == nil {
			t.Errorf("Expand(%s %v) succeeded, want an error", sp.Type, sp.Params)
		} else if !strings.Contains(err.Error(), sp.Type) {
			t.Errorf("error %q does not name the type", err)
		}
	}
}

func TestAllTypesRegistered(t *testing.T) {
	want := []string{"bandwidth", "blackhole", "cut_at", "cycle", "latency", "refuse", "reset", "slice", "slow_close", "storm", "swizzle", "truncate"}
	if got := Types(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Types() = %v, want %v", got, want)
	}
}

// ---- swizzle ----

func swizzleSpec(at, until, step time.Duration, links ...string) Spec {
	return Spec{Index: 2, At: at, Until: until, Type: "swizzle", Params: tp{"links": links, "step": step}}
}

func TestSwizzleOrder(t *testing.T) {
	links := []string{"A->B", "B->C", "C->D", "D->A", "A->C"}
	at, step := time.Second, 200*ms
	ts := tpExpand(t, 11, swizzleSpec(at, 0, step, links...))
	if len(ts) != 2*len(links) {
		t.Fatalf("toggles = %+v", ts)
	}
	for i, l := range links {
		g := ts[i]
		if g.Action != ActDisable || g.Link != l || g.Offset != at+time.Duration(i)*step || g.Heal || g.Type != "swizzle" || g.Fault != 2 {
			t.Errorf("clog %d = %+v, want disable %s at %v", i, g, l, at+time.Duration(i)*step)
		}
	}
	var order []string
	for i, g := range ts[len(links):] {
		want := at + time.Duration(len(links)+i)*step
		if g.Action != ActEnable || g.Offset != want || g.Heal != (i == len(links)-1) {
			t.Errorf("unclog %d = %+v, want enable at %v", i, g, want)
		}
		order = append(order, g.Link)
	}
	sorted := slices.Clone(order)
	slices.Sort(sorted)
	wantSorted := slices.Clone(links)
	slices.Sort(wantSorted)
	if !slices.Equal(sorted, wantSorted) {
		t.Fatalf("unclog order %v is not a permutation of %v", order, links)
	}
	// Same seed, same order; some seed gives another order.
	again := tpExpand(t, 11, swizzleSpec(at, 0, step, links...))
	if !reflect.DeepEqual(ts, again) {
		t.Fatalf("same seed, different swizzle:\n%+v\n%+v", ts, again)
	}
	orders := map[string]bool{}
	for seed := int64(0); seed < 50; seed++ {
		var o []string
		for _, g := range tpExpand(t, seed, swizzleSpec(at, 0, step, links...)) {
			if g.Action == ActEnable {
				o = append(o, g.Link)
			}
		}
		orders[strings.Join(o, " ")] = true
	}
	if len(orders) < 10 {
		t.Errorf("50 seeds gave only %d unclog orders", len(orders))
	}
}

func TestSwizzleUntilCutsShort(t *testing.T) {
	links := []string{"A->B", "B->C", "C->D"}
	// Clogs at 1.0, 1.1 (1.2 is cut); everything still down comes up at 1.15.
	ts := tpExpand(t, 5, swizzleSpec(time.Second, 1150*ms, 100*ms, links...))
	if len(ts) != 4 {
		t.Fatalf("toggles = %+v", ts)
	}
	up := map[string]bool{}
	for i, g := range ts[2:] {
		if g.Action != ActEnable || g.Offset != 1150*ms || g.Heal != (i == 1) {
			t.Errorf("unclog = %+v", g)
		}
		up[g.Link] = true
	}
	if !up["A->B"] || !up["B->C"] {
		t.Errorf("unclogged %v, want A->B and B->C", up)
	}
}

// ---- storm ----

func stormSpec(at, until time.Duration, p tp) Spec {
	if p == nil {
		p = tp{}
	}
	if _, ok := p["links"]; !ok {
		p["links"] = []string{"A->B", "B->A", "B->C"}
	}
	return Spec{Index: 1, At: at, Until: until, Type: "storm", Params: p}
}

func TestStormDeterministic(t *testing.T) {
	sp := stormSpec(time.Second, 6*time.Second, tp{"rate": 4.0})
	js := func(seed int64) string {
		b, err := json.Marshal(tpExpand(t, seed, sp))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b, c := js(152877), js(152877), js(152878)
	if a != b {
		t.Fatalf("same seed, different storms:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("different seeds gave the same storm: %s", a)
	}
}

func TestStormShape(t *testing.T) {
	at, end := time.Second, 11*time.Second
	kinds := map[string]bool{}
	links := map[string]bool{}
	for seed := int64(0); seed < 20; seed++ {
		ts := tpExpand(t, seed, stormSpec(at, end, nil))
		if len(ts) == 0 {
			t.Fatal("empty storm")
		}
		if ts[0].Offset != at {
			t.Errorf("seed %d: first toggle at %v, want the storm's start %v", seed, ts[0].Offset, at)
		}
		last := ts[len(ts)-1]
		if !last.Heal || last.Offset > end {
			t.Errorf("seed %d: last toggle = %+v, want a heal by %v", seed, last, end)
		}
		for _, g := range ts {
			if g.Offset < at || g.Offset > end {
				t.Errorf("seed %d: toggle outside the storm: %+v", seed, g)
			}
			if g.Heal && g.Offset != last.Offset {
				t.Errorf("seed %d: heal before the end: %+v", seed, g)
			}
			if g.Fault != 1 || g.Link == "" || g.Type == "storm" || g.Type == "" {
				t.Errorf("seed %d: toggle not stamped with its part: %+v", seed, g)
			}
			kinds[g.Type] = true
			links[g.Link] = true
			if g.Toxic != nil && g.Action == ActAddToxic {
				checkStormToxic(t, g)
			}
		}
		// Poisson at 2/s over 10s: about 20 parts (a part has ≥2 toggles).
		if n := len(ts); n < 10 {
			t.Errorf("seed %d: only %d toggles", seed, n)
		}
	}
	for _, k := range DefaultStormKinds() {
		if !kinds[k] {
			t.Errorf("20 storms never drew kind %s (drew %v)", k, kinds)
		}
	}
	if len(links) != 3 {
		t.Errorf("links drawn = %v", links)
	}
}

// checkStormToxic checks a storm part's toxic parameters are in range.
func checkStormToxic(t *testing.T, g Toggle) {
	t.Helper()
	a := g.Toxic.Attributes
	in := func(k string, lo, hi int64) {
		if v := tpNum(t, a[k]); v < lo || v > hi {
			t.Errorf("%s %s = %d, want %d..%d", g.Type, k, v, lo, hi)
		}
	}
	want := map[string]string{"latency": "latency", "bandwidth": "bandwidth", "truncate": "limit_data", "slice": "slicer",
		"blackhole": "timeout", "reset": "reset_peer", "slow_close": "slow_close", "cut_at": "cut_at"}[g.Type]
	if g.Toxic.Type != want {
		t.Errorf("storm %s part adds toxic type %q, want %q", g.Type, g.Toxic.Type, want)
	}
	if !strings.HasPrefix(g.Toxic.Name, "f1.") || !strings.Contains(g.Toxic.Name, "-"+g.Type+"-"+g.Toxic.Stream) {
		t.Errorf("storm toxic name %q", g.Toxic.Name)
	}
	switch g.Type {
	case "latency":
		in("latency", 20, 300)
		in("jitter", 0, 0)
	case "bandwidth":
		in("rate", 8, 128)
	case "truncate":
		in("bytes", 20, 400)
	case "slice":
		in("average_size", 8, 64)
		in("size_variation", 0, 0)
		in("delay", 1000, 20000) // µs
	case "blackhole", "reset":
		in("timeout", 0, 0)
	}
}

// stormDownAt reports whether the toggles leave link down just after x
// (all toggles at offsets ≤ x applied in order).
func stormDownAt(ts []Toggle, link string, x time.Duration) bool {
	down := false
	for _, g := range ts {
		if g.Offset > x {
			break
		}
		if g.Link == link {
			switch g.Action {
			case ActDisable:
				down = true
			case ActEnable:
				down = false
			}
		}
	}
	return down
}

// TestStormNeverEnablesAHeldLink: over 200 seeds, with refuse and cycle parts
// overlapping on few links, the link is down exactly when some part holds it
// down, disables and enables alternate, toxic names are unique and every
// toxic is removed by the storm's end.
func TestStormNeverEnablesAHeldLink(t *testing.T) {
	at, end := 500*ms, 8*time.Second
	for seed := int64(0); seed < 200; seed++ {
		sp := stormSpec(at, end, tp{"rate": 6.0, "links": []string{"A->B", "B->A"},
			"kinds": []string{"refuse", "cycle", "refuse", "latency", "truncate"}})
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		parts, err := stormPlan(sp, rng)
		if err != nil {
			t.Fatal(err)
		}
		rng = rand.New(rand.NewPCG(uint64(seed), 99))
		ts, err := storm{}.Expand(sp, rng)
		if err != nil {
			t.Fatal(err)
		}
		if !sort.SliceIsSorted(ts, func(i, j int) bool { return ts[i].Offset < ts[j].Offset }) {
			t.Fatalf("seed %d: toggles not ordered", seed)
		}
		// Change points: every part boundary and toggle offset.
		var points []time.Duration
		overlaps := 0
		for _, p := range parts {
			for _, d := range p.downs {
				points = append(points, d[0], d[1])
			}
		}
		for _, g := range ts {
			points = append(points, g.Offset)
		}
		for _, link := range []string{"A->B", "B->A"} {
			for _, x := range points {
				held := 0
				for _, p := range parts {
					for _, d := range p.downs {
						if p.link == link && d[0] <= x && x < d[1] {
							held++
						}
					}
				}
				if held > 1 {
					overlaps++
				}
				if got := stormDownAt(ts, link, x); got != (held > 0) {
					t.Fatalf("seed %d: %s just after %v: toggles say down=%v, %d parts hold it down", seed, link, x, got, held)
				}
			}
			down := false
			for _, g := range ts {
				if g.Link != link || (g.Action != ActDisable && g.Action != ActEnable) {
					continue
				}
				if (g.Action == ActDisable) == down {
					t.Fatalf("seed %d: %s %s while already in that state at %v", seed, link, g.Action, g.Offset)
				}
				down = g.Action == ActDisable
			}
			if down {
				t.Fatalf("seed %d: %s left down", seed, link)
			}
		}
		if seed == 0 && overlaps == 0 {
			t.Fatalf("seed 0: no overlapping down spans; the test does not exercise merging")
		}
		added := map[string]time.Duration{}
		for _, g := range ts {
			switch g.Action {
			case ActAddToxic:
				if _, dup := added[g.Toxic.Name]; dup {
					t.Fatalf("seed %d: toxic %s added twice", seed, g.Toxic.Name)
				}
				added[g.Toxic.Name] = g.Offset
			case ActRemoveToxic:
				from, ok := added[g.Toxic.Name]
				if !ok || g.Offset <= from {
					t.Fatalf("seed %d: remove of %s at %v without an earlier add", seed, g.Toxic.Name, g.Offset)
				}
				delete(added, g.Toxic.Name)
			}
			if g.Offset > end {
				t.Fatalf("seed %d: toggle after the storm's end: %+v", seed, g)
			}
		}
		if len(added) != 0 {
			t.Fatalf("seed %d: toxics never removed: %v", seed, added)
		}
	}
}

func TestStormDefaultsAndOwnLink(t *testing.T) {
	// No links: the fault's own link; rate 2/s default; duration key.
	sp := Spec{Index: 0, At: 0, Link: "X->Y", Type: "storm", Params: tp{"duration": 30 * time.Second}}
	ts := tpExpand(t, 3, sp)
	parts := map[string]bool{}
	for _, g := range ts {
		if g.Link != "X->Y" {
			t.Fatalf("toggle on %s, want the fault's own link", g.Link)
		}
		if g.Offset > 30*time.Second {
			t.Fatalf("toggle after the duration: %+v", g)
		}
		if g.Toxic != nil && g.Action == ActAddToxic {
			parts[strings.SplitN(g.Toxic.Name, "-", 2)[0]] = true
		}
	}
	// About 60 parts at 2/s over 30s; the toxic kinds are 6 of 7 defaults.
	if n := len(parts); n < 25 || n > 80 {
		t.Errorf("%d toxic parts over 30s at the default rate", n)
	}
}

func TestStormToxicsDoNotShareMaps(t *testing.T) {
	ts := tpExpand(t, 9, stormSpec(0, 5*time.Second, tp{"kinds": []string{"latency"}}))
	seen := map[uintptr]bool{}
	for _, g := range ts {
		if g.Action != ActAddToxic {
			continue
		}
		p := uintptr(reflect.ValueOf(g.Toxic.Attributes).UnsafePointer())
		if seen[p] {
			t.Fatalf("two toxics share one attribute map")
		}
		seen[p] = true
	}
}

// TestStormNeverStacksAClosingToxic: over 200 seeds of a dense storm on two
// links mixing every toxic kind, no toxic that closes its side (reset,
// truncate, blackhole, cut_at) is active on a stream of a link while any other
// toxic is (Toxiproxy v2.12.0 deadlocks there), every kept part lies within
// the storm, and the storm still mixes closing and other parts.
func TestStormNeverStacksAClosingToxic(t *testing.T) {
	at, end := 500*ms, 6*time.Second
	closingParts, otherParts := 0, 0
	for seed := int64(0); seed < 200; seed++ {
		sp := stormSpec(at, end, tp{"rate": 8.0, "links": []string{"A->B", "B->A"},
			"kinds": []string{"latency", "reset", "truncate", "blackhole", "slice", "bandwidth", "cut_at"}})
		parts, err := stormPlan(sp, rand.New(rand.NewPCG(uint64(seed), 7)))
		if err != nil {
			t.Fatal(err)
		}
		type act struct {
			from, to time.Duration
			closing  bool
			name     string
		}
		on := map[[2]string][]act{}
		for _, p := range parts {
			if p.start < at || p.stop > end || p.stop <= p.start {
				t.Fatalf("seed %d: part %d %s [%v, %v) outside the storm [%v, %v)", seed, p.sub, p.kind, p.start, p.stop, at, end)
			}
			for _, tx := range p.toxics {
				c := closingToxics[tx.Type]
				if c {
					closingParts++
				} else {
					otherParts++
				}
				k := [2]string{p.link, tx.Stream}
				for _, o := range on[k] {
					if (c || o.closing) && p.start < o.to && o.from < p.stop {
						t.Fatalf("seed %d: %s [%v, %v) overlaps %s [%v, %v) on %s %s", seed, tx.Name, p.start, p.stop, o.name, o.from, o.to, p.link, tx.Stream)
					}
				}
				on[k] = append(on[k], act{p.start, p.stop, c, tx.Name})
			}
		}
	}
	if closingParts == 0 || otherParts == 0 {
		t.Fatalf("the storms drew %d closing and %d other toxics: the test judges nothing", closingParts, otherParts)
	}
}

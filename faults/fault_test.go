package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const ms = time.Millisecond

// params is a Params backed by plain maps.
type params struct {
	durs  map[string]time.Duration
	ints  map[string]int64
	texts map[string]string
}

func (p params) Has(k string) bool {
	_, d := p.durs[k]
	_, i := p.ints[k]
	_, t := p.texts[k]
	return d || i || t
}
func (p params) Duration(k string) time.Duration { return p.durs[k] }
func (p params) Int(k string) int64              { return p.ints[k] }
func (p params) Float(string) float64            { return 0 }
func (p params) Size(string) int64               { return 0 }
func (p params) Text(k string) string            { return p.texts[k] }
func (p params) Strings(string) []string         { return nil }

func cycleSpec(idx int, at, until, down, up, jitter time.Duration, count int64) Spec {
	return Spec{Index: idx, At: at, Until: until, Link: "A->B", Type: "cycle", Params: params{
		durs: map[string]time.Duration{"down": down, "up": up, "jitter": jitter},
		ints: map[string]int64{"count": count},
	}}
}

func latencySpec(idx int, at, until, lat, jitter time.Duration, stream string) Spec {
	return Spec{Index: idx, At: at, Until: until, Link: "A->B", Type: "latency", Params: params{
		durs:  map[string]time.Duration{"latency": lat, "jitter": jitter},
		texts: map[string]string{"stream": stream},
	}}
}

func mustExpand(t *testing.T, seed int64, specs ...Spec) *Schedule {
	t.Helper()
	s, err := Expand("test", seed, specs)
	if err != nil {
		t.Fatalf("Expand: %v", err)
	}
	return s
}

func TestExpandDeterministic(t *testing.T) {
	specs := []Spec{
		cycleSpec(0, 500*ms, 0, 150*ms, 250*ms, 50*ms, 8),
		latencySpec(1, 500*ms, 4*time.Second, 120*ms, 40*ms, "both"),
	}
	a := mustExpand(t, 152877, specs...)
	b := mustExpand(t, 152877, specs...)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed gave different schedules:\n%+v\n%+v", a.Toggles, b.Toggles)
	}
	c := mustExpand(t, 152878, specs...)
	if reflect.DeepEqual(a.Toggles, c.Toggles) {
		t.Fatalf("different seeds with jitter gave identical schedules")
	}
	if a.Seed != 152877 || a.Scenario != "test" {
		t.Fatalf("schedule header = %q/%d", a.Scenario, a.Seed)
	}
	for i := 1; i < len(a.Toggles); i++ {
		if a.Toggles[i].Offset < a.Toggles[i-1].Offset {
			t.Fatalf("toggles not ordered by offset at %d: %v < %v", i, a.Toggles[i].Offset, a.Toggles[i-1].Offset)
		}
	}
	for _, g := range a.Toggles {
		if g.Link != "A->B" || g.At != g.Offset.String() {
			t.Fatalf("toggle not stamped: %+v", g)
		}
		if (g.Fault == 0) != (g.Type == "cycle") {
			t.Fatalf("toggle fault/type mismatch: %+v", g)
		}
	}
}

func TestExpandTiesKeepSpecOrder(t *testing.T) {
	s := mustExpand(t, 1,
		Spec{Index: 0, At: time.Second, Until: 2 * time.Second, Link: "A->B", Type: "refuse", Params: params{}},
		latencySpec(1, time.Second, 0, 10*ms, 0, "up"),
	)
	if len(s.Toggles) != 3 {
		t.Fatalf("toggles = %+v", s.Toggles)
	}
	if s.Toggles[0].Fault != 0 || s.Toggles[1].Fault != 1 {
		t.Fatalf("tie at 1s did not keep spec order: %+v", s.Toggles[:2])
	}
}

func TestCycleCount(t *testing.T) {
	const n = 5
	at, down, up := 500*ms, 150*ms, 250*ms
	s := mustExpand(t, 7, cycleSpec(3, at, 0, down, up, 0, n))
	if len(s.Toggles) != 2*n {
		t.Fatalf("got %d toggles, want %d: %+v", len(s.Toggles), 2*n, s.Toggles)
	}
	for i := 0; i < n; i++ {
		dis, en := s.Toggles[2*i], s.Toggles[2*i+1]
		wantDis := at + time.Duration(i)*(down+up)
		if dis.Action != ActDisable || dis.Offset != wantDis || dis.Heal {
			t.Errorf("toggle %d = %+v, want disable at %v", 2*i, dis, wantDis)
		}
		if en.Action != ActEnable || en.Offset != wantDis+down {
			t.Errorf("toggle %d = %+v, want enable at %v", 2*i+1, en, wantDis+down)
		}
		if en.Heal != (i == n-1) {
			t.Errorf("toggle %d heal = %v, want %v", 2*i+1, en.Heal, i == n-1)
		}
		if dis.Fault != 3 || dis.Type != "cycle" {
			t.Errorf("toggle %d fault/type = %d/%s", 2*i, dis.Fault, dis.Type)
		}
	}
	if got, want := s.LastHeal(), at+time.Duration(n-1)*(down+up)+down; got != want {
		t.Errorf("LastHeal = %v, want %v", got, want)
	}
	if first, ok := s.First(); !ok || first != at {
		t.Errorf("First = %v, %v", first, ok)
	}
}

func TestCycleUntilCutsShort(t *testing.T) {
	// Cycles of 400ms from 500ms: disables at 0.5, 0.9, 1.3, ...; until 1.35s
	// falls inside the third down phase.
	s := mustExpand(t, 7, cycleSpec(0, 500*ms, 1350*ms, 150*ms, 250*ms, 0, 8))
	want := []struct {
		off    time.Duration
		action string
	}{
		{500 * ms, ActDisable}, {650 * ms, ActEnable},
		{900 * ms, ActDisable}, {1050 * ms, ActEnable},
		{1300 * ms, ActDisable}, {1350 * ms, ActEnable},
	}
	if len(s.Toggles) != len(want) {
		t.Fatalf("got %d toggles, want %d: %+v", len(s.Toggles), len(want), s.Toggles)
	}
	for i, w := range want {
		if g := s.Toggles[i]; g.Offset != w.off || g.Action != w.action {
			t.Errorf("toggle %d = %s at %v, want %s at %v", i, g.Action, g.Offset, w.action, w.off)
		}
	}
	last := s.Toggles[len(s.Toggles)-1]
	if last.Action != ActEnable || !last.Heal {
		t.Fatalf("last toggle = %+v, want a healing enable", last)
	}
	for _, g := range s.Toggles[:len(s.Toggles)-1] {
		if g.Heal {
			t.Errorf("toggle before the last marked heal: %+v", g)
		}
		if g.Offset > 1350*ms {
			t.Errorf("toggle after until: %+v", g)
		}
	}

	// until inside an up phase: the train ends with the enable before it.
	s = mustExpand(t, 7, cycleSpec(0, 500*ms, 1100*ms, 150*ms, 250*ms, 0, 8))
	if len(s.Toggles) != 4 {
		t.Fatalf("until in an up phase: got %+v", s.Toggles)
	}
	if last := s.Toggles[3]; last.Action != ActEnable || !last.Heal || last.Offset != 1050*ms {
		t.Fatalf("until in an up phase: last = %+v", last)
	}
}

func TestCycleJitterWithinBounds(t *testing.T) {
	at, down, up, j := 500*ms, 150*ms, 250*ms, 50*ms
	s := mustExpand(t, 99, cycleSpec(0, at, 0, down, up, j, 20))
	if len(s.Toggles) != 40 {
		t.Fatalf("got %d toggles", len(s.Toggles))
	}
	for i := 0; i < 40; i += 2 {
		d := s.Toggles[i+1].Offset - s.Toggles[i].Offset
		if d < down-j || d > down+j {
			t.Errorf("down phase %d = %v, want %v±%v", i/2, d, down, j)
		}
		if i+2 < 40 {
			u := s.Toggles[i+2].Offset - s.Toggles[i+1].Offset
			if u < up-j || u > up+j {
				t.Errorf("up phase %d = %v, want %v±%v", i/2, u, up, j)
			}
		}
	}
}

func TestCycleBadParams(t *testing.T) {
	for _, sp := range []Spec{
		cycleSpec(0, 0, 0, 0, 250*ms, 0, 3),
		cycleSpec(0, 0, 0, 150*ms, 0, 0, 3),
		cycleSpec(0, 0, 0, 150*ms, 250*ms, 0, 0),
		// until not after at: the loader refuses it, Expand must not panic.
		cycleSpec(0, time.Second, time.Second, 150*ms, 250*ms, 0, 3),
	} {
		if _, err := Expand("test", 1, []Spec{sp}); err == nil {
			t.Errorf("Expand(%+v) succeeded, want an error", sp.Params)
		} else if !strings.Contains(err.Error(), "cycle") {
			t.Errorf("error %q does not name the type", err)
		}
	}
}

func TestLatencyBoth(t *testing.T) {
	s := mustExpand(t, 1,
		latencySpec(0, 500*ms, 4*time.Second, 120*ms, 0, "both"),
		latencySpec(1, 600*ms, 3*time.Second, 80*ms, 0, "both"),
	)
	adds, removes := map[string]*toxi.Toxic{}, map[string]time.Duration{}
	for _, g := range s.Toggles {
		if g.Toxic == nil {
			t.Fatalf("latency toggle without a toxic: %+v", g)
		}
		switch g.Action {
		case ActAddToxic:
			if _, dup := adds[g.Toxic.Name]; dup {
				t.Fatalf("toxic name %q added twice", g.Toxic.Name)
			}
			adds[g.Toxic.Name] = g.Toxic
			if g.Heal {
				t.Errorf("add marked heal: %+v", g)
			}
		case ActRemoveToxic:
			removes[g.Toxic.Name] = g.Offset
			if !g.Heal {
				t.Errorf("remove not marked heal: %+v", g)
			}
		default:
			t.Fatalf("unexpected action without jitter: %+v", g)
		}
	}
	if len(adds) != 4 || len(removes) != 4 {
		t.Fatalf("adds %d, removes %d, want 4 and 4: %+v", len(adds), len(removes), s.Toggles)
	}
	for name, tx := range adds {
		if _, ok := removes[name]; !ok {
			t.Errorf("toxic %q added but never removed", name)
		}
		if tx.Type != "latency" {
			t.Errorf("%s type = %q", name, tx.Type)
		}
		wantMS := int64(120)
		if strings.HasPrefix(name, "f1-") {
			wantMS = 80
		}
		if got := attrInt(t, tx.Attributes["latency"]); got != wantMS {
			t.Errorf("%s latency = %d ms, want %d", name, got, wantMS)
		}
		if got := attrInt(t, tx.Attributes["jitter"]); got != 0 {
			t.Errorf("%s Toxiproxy jitter = %d, want 0", name, got)
		}
	}
	streams := map[string]int{}
	for _, tx := range adds {
		streams[tx.Stream]++
	}
	if streams["upstream"] != 2 || streams["downstream"] != 2 {
		t.Errorf("streams = %v", streams)
	}
	if removes["f0-latency-upstream"] != 4*time.Second || removes["f1-latency-downstream"] != 3*time.Second {
		t.Errorf("remove offsets = %v", removes)
	}
}

func TestLatencyOneStream(t *testing.T) {
	for stream, want := range map[string]string{"up": "upstream", "down": "downstream"} {
		s := mustExpand(t, 1, latencySpec(0, 0, time.Second, 10*ms, 0, stream))
		if len(s.Toggles) != 2 || s.Toggles[0].Toxic.Stream != want {
			t.Errorf("stream %s: %+v", stream, s.Toggles)
		}
	}
	// No until: added once, never removed, nothing marked heal.
	s := mustExpand(t, 1, latencySpec(0, 0, 0, 10*ms, 30*ms, "up"))
	if len(s.Toggles) != 1 || s.Toggles[0].Action != ActAddToxic || s.LastHeal() != 0 {
		t.Errorf("latency without until: %+v", s.Toggles)
	}
}

func TestLatencyJitterSteps(t *testing.T) {
	at, until, lat, j := 500*ms, 1500*ms, 120*ms, 40*ms
	s := mustExpand(t, 42, latencySpec(2, at, until, lat, j, "up"))
	var updates []Toggle
	distinct := map[int64]bool{}
	for _, g := range s.Toggles {
		if g.Action == ActAddToxic || g.Action == ActUpdateToxic {
			v := attrInt(t, g.Toxic.Attributes["latency"])
			if v < (lat-j).Milliseconds() || v > (lat+j).Milliseconds() {
				t.Errorf("%s at %v: latency %d ms outside %v±%v", g.Action, g.Offset, v, lat, j)
			}
			if jt := attrInt(t, g.Toxic.Attributes["jitter"]); jt != 0 {
				t.Errorf("%s at %v: Toxiproxy jitter %d, want 0", g.Action, g.Offset, jt)
			}
			if g.Toxic.Name != "f2-latency-upstream" {
				t.Errorf("toxic name %q", g.Toxic.Name)
			}
			distinct[v] = true
		}
		if g.Action == ActUpdateToxic {
			updates = append(updates, g)
		}
	}
	// Steps at 0.6, 0.7, ..., 1.4s: strictly before until.
	if len(updates) != 9 {
		t.Fatalf("got %d update steps, want 9: %+v", len(updates), s.Toggles)
	}
	for i, g := range updates {
		if want := at + time.Duration(i+1)*JitterStep; g.Offset != want {
			t.Errorf("update %d at %v, want %v", i, g.Offset, want)
		}
	}
	if len(distinct) < 2 {
		t.Errorf("jitter drew a single value for every step: %v", distinct)
	}
	if s.Toggles[0].Action != ActAddToxic || s.Toggles[len(s.Toggles)-1].Action != ActRemoveToxic {
		t.Errorf("schedule does not start with add and end with remove: %+v", s.Toggles)
	}
}

func TestRefuse(t *testing.T) {
	s := mustExpand(t, 1, Spec{Index: 0, At: time.Second, Until: 3 * time.Second, Link: "A->B", Type: "refuse", Params: params{}})
	if len(s.Toggles) != 2 {
		t.Fatalf("toggles = %+v", s.Toggles)
	}
	if g := s.Toggles[0]; g.Action != ActDisable || g.Offset != time.Second || g.Heal {
		t.Errorf("first = %+v", g)
	}
	if g := s.Toggles[1]; g.Action != ActEnable || g.Offset != 3*time.Second || !g.Heal {
		t.Errorf("second = %+v", g)
	}
	// Without until the run end heals it.
	s = mustExpand(t, 1, Spec{At: time.Second, Link: "A->B", Type: "refuse", Params: params{}})
	if len(s.Toggles) != 1 || s.Toggles[0].Action != ActDisable {
		t.Errorf("refuse without until: %+v", s.Toggles)
	}
}

func TestUnknownType(t *testing.T) {
	_, err := Expand("test", 1, []Spec{{Index: 4, Link: "A->B", Type: "earthquake", Params: params{}}})
	if err == nil {
		t.Fatal("Expand with an unknown type succeeded")
	}
	if !strings.Contains(err.Error(), `"earthquake"`) {
		t.Errorf("error %q does not name the type", err)
	}
	if _, ok := Lookup("earthquake"); ok {
		t.Error("Lookup found an unregistered type")
	}
	for _, name := range []string{"cycle", "latency", "refuse"} {
		if _, ok := Lookup(name); !ok {
			t.Errorf("type %s not registered", name)
		}
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering cycle twice did not panic")
		}
	}()
	Register(cycle{})
}

func attrInt(t *testing.T, v any) int64 {
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

// ---- Apply and Heal against an embedded Toxiproxy ----

func proxyInfo(t *testing.T, ctx context.Context, b toxi.Backend, name string) toxi.ProxyInfo {
	t.Helper()
	ps, err := b.Proxies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("proxy %s not found in %+v", name, ps)
	return toxi.ProxyInfo{}
}

func TestApplyHeal(t *testing.T) {
	ctx := testkit.Context(t)
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Close(cctx); err != nil {
			t.Error(err)
		}
	})
	const proxy = toxi.ProxyPrefix + "test-A-B"
	listen, err := b.CreateProxy(ctx, proxy, testkit.Serve(t, testkit.Hold))
	if err != nil {
		t.Fatal(err)
	}

	specs := []Spec{
		latencySpec(0, 0, time.Second, 120*ms, 20*ms, "both"),
		cycleSpec(1, 0, 0, 150*ms, 250*ms, 0, 2),
	}
	s := mustExpand(t, 3, specs...)
	// Apply everything up to (not including) the first heal of each kind:
	// the two adds, one update per stream and the first disable.
	applied := 0
	for _, g := range s.Toggles {
		if g.Heal || g.Action == ActRemoveToxic || g.Action == ActEnable {
			continue
		}
		if g.Action == ActUpdateToxic && g.Offset > JitterStep {
			continue
		}
		if err := Apply(ctx, b, proxy, g); err != nil {
			t.Fatalf("Apply(%+v): %v", g, err)
		}
		applied++
	}
	if applied < 5 {
		t.Fatalf("applied only %d toggles", applied)
	}
	p := proxyInfo(t, ctx, b, proxy)
	if p.Enabled {
		t.Error("proxy still enabled after a disable toggle")
	}
	if len(p.Toxics) != 2 {
		t.Errorf("toxics = %+v, want the two latency toxics", p.Toxics)
	}
	for _, tx := range p.Toxics {
		if tx.Type != "latency" || !strings.HasPrefix(tx.Name, "f0-latency-") {
			t.Errorf("unexpected toxic %+v", tx)
		}
	}
	if c, err := net.DialTimeout("tcp", listen, 5*time.Second); err == nil {
		c.Close()
		t.Error("dial through a disabled proxy succeeded")
	}

	if err := Heal(ctx, b, proxy); err != nil {
		t.Fatalf("Heal: %v", err)
	}
	p = proxyInfo(t, ctx, b, proxy)
	if !p.Enabled || len(p.Toxics) != 0 {
		t.Fatalf("after Heal: enabled %v, toxics %+v", p.Enabled, p.Toxics)
	}
	if p.Listen != listen {
		t.Errorf("listen moved from %s to %s", listen, p.Listen)
	}
	c, err := net.DialTimeout("tcp", listen, 5*time.Second)
	if err != nil {
		t.Fatalf("dial after Heal: %v", err)
	}
	c.Close()
	// Healing a healthy proxy is a no-op.
	if err := Heal(ctx, b, proxy); err != nil {
		t.Fatalf("second Heal: %v", err)
	}
}

func TestApplyErrorNamesToggle(t *testing.T) {
	ctx := testkit.Context(t)
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Close(cctx)
	})
	g := Toggle{Offset: time.Second, At: "1s", Link: "A->B", Type: "refuse", Action: ActDisable}
	err = Apply(ctx, b, toxi.ProxyPrefix+"missing", g)
	if err == nil {
		t.Fatal("Apply on a missing proxy succeeded")
	}
	if !errors.Is(err, toxi.ErrNotFound) {
		t.Errorf("error %v is not ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "refuse A->B at 1s") {
		t.Errorf("error %q does not name the toggle", err)
	}
	g.Action = "explode"
	if err := Apply(ctx, b, toxi.ProxyPrefix+"missing", g); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", "explode")) {
		t.Errorf("unknown action: %v", err)
	}
}

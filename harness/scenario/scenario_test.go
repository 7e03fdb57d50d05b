package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults"
)

func intp(n int) *int { return &n }

func TestLoadExample(t *testing.T) {
	s, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile("testdata/example.yaml")
	timers := DefaultTimers()
	def := MTASpec{Build: "4.0", Mode: "sp0", KCBs: 4, Org: "ORG", Site: "SITE", Timers: timers, LeakProbability: 1, Window: 4, Line: 5}
	a, b := def, def
	a.Name, a.Line = "A", 12
	b.Name, b.Line = "B", 13
	want := &Scenario{
		Version:     1,
		Name:        "q152877-sp0",
		Description: "Link cycling between two sites with an MTA built before SP2.",
		Seed:        152877,
		Defaults:    def,
		MTAs:        []MTASpec{a, b},
		Links:       []Link{{From: "A", To: "B", Line: 16}},
		Traffic:     []Traffic{{From: "A", To: "B", Messages: 200, Size: 1024, Rate: 100, Start: 0, Line: 18}},
		Faults: []Fault{
			{At: 500 * time.Millisecond, Until: 4 * time.Second, Link: "A->B", From: "A", To: "B", Type: "latency", Line: 20,
				Params: map[string]Value{
					"stream":  {Raw: "both", Line: 20, Col: 52},
					"latency": {Raw: "120ms", Duration: 120 * time.Millisecond, Line: 20, Col: 67},
				}},
			{At: 500 * time.Millisecond, Link: "A->B", From: "A", To: "B", Type: "cycle", Line: 21,
				Params: map[string]Value{
					"down":   {Raw: "150ms", Duration: 150 * time.Millisecond, Line: 21, Col: 48},
					"up":     {Raw: "250ms", Duration: 250 * time.Millisecond, Line: 21, Col: 59},
					"count":  {Raw: "8", Int: 8, Line: 21, Col: 73},
					"jitter": {Raw: "0s"},
				}},
		},
		Actions: []Action{{At: 6 * time.Second, Op: "restart", MTA: "B", Line: 23}},
		Expect: Expect{
			Events: []EventExpect{
				{MTA: "B", ID: 1277, Min: intp(1), Line: 26},
				{MTA: "*", ID: 1198, Max: intp(0), Line: 27},
			},
			Leaked:   []LeakExpect{{MTA: "B", Min: intp(1), Line: 29}},
			Recovery: &Recovery{Within: 3 * time.Second, Delivered: "all", KCBs: "baseline", Line: 30},
		},
		Duration: 10 * time.Second,
		File:     "testdata/example.yaml",
		Raw:      raw,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Load:\n got %+v\nwant %+v", s, want)
	}
	if got := s.MTAs[1].DN(); got != "/O=ORG/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=B/CN=MICROSOFT MTA" {
		t.Errorf("DN = %q", got)
	}
	if !s.HasLink("A", "B") || s.HasLink("B", "A") {
		t.Error("HasLink wrong")
	}
	if f := s.Faults[1]; f.Duration("down") != 150*time.Millisecond || f.Int("count") != 8 || f.Stream() != "both" {
		t.Errorf("fault accessors wrong: %+v", f)
	}
}

const base = `version: 1
name: t
mtas:
  - name: A
  - name: B
links:
  - {from: A, to: B}
`

func TestBuiltinDefaultsAndTimerOverride(t *testing.T) {
	src := base + `traffic:
  - {from: A, to: B, messages: 3}
defaults:
  timers: {transfer: 2s}
`
	src = strings.Replace(src, "  - name: B\n", "  - name: B\n    timers: {open: 1s}\n    kcbs: 16\n    admin: http://127.0.0.1:8474\n", 1)
	s, err := LoadBytes("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	wantA := DefaultTimers()
	wantA.Transfer = 2 * time.Second
	wantB := wantA
	wantB.Open = time.Second
	if s.MTAs[0].Timers != wantA {
		t.Errorf("A timers = %+v, want %+v", s.MTAs[0].Timers, wantA)
	}
	if s.MTAs[1].Timers != wantB {
		t.Errorf("B timers = %+v, want %+v", s.MTAs[1].Timers, wantB)
	}
	if m := s.MTAs[0]; m.Mode != "sp2" || m.KCBs != 8 || m.Org != "ORG" || m.Site != "SITE" || m.LeakProbability != 1 || m.Window != 4 || m.ExtendedEvents || m.Admin != "" {
		t.Errorf("A not built-in defaults: %+v", m)
	}
	if m := s.MTAs[1]; m.KCBs != 16 || m.Admin != "http://127.0.0.1:8474" {
		t.Errorf("B overrides lost: %+v", m)
	}
	if s.Duration != 10*time.Second || s.Traffic[0].Size != 1024 || s.Traffic[0].Rate != 0 {
		t.Errorf("defaults wrong: duration %v traffic %+v", s.Duration, s.Traffic[0])
	}
	if s.Expect.Recovery != nil {
		t.Errorf("recovery should be nil")
	}
}

func TestFaultTypes(t *testing.T) {
	src := base + `  - {from: B, to: A}
faults:
  - {at: 0s, link: A->B, type: refuse, duration: 1s}
  - {at: 1s, link: A->B, type: latency, latency: 50ms, jitter: 5ms, stream: UP}
  - {at: 1s, link: A->B, type: bandwidth, rate: 64}
  - {at: 1s, link: A->B, type: blackhole, stream: down}
  - {at: 1s, link: A->B, type: reset, timeout: 0}
  - {at: 1s, link: A->B, type: truncate, bytes: 41}
  - {at: 1s, link: A->B, type: truncate, bytes: 2KiB}
  - {at: 1s, link: A->B, type: slice, average_size: 8, size_variation: 2, delay: 400ms}
  - {at: 1s, link: B->A, type: slow_close, delay: 1s}
  - {at: 1s, type: storm, duration: 3s, rate: 2/s, kinds: [refuse, latency], links: [A->B, B->A]}
  - {at: 1s, type: storm, until: 3s, rate: 0.5}
  - {at: 1s, type: swizzle, links: [A->B, B->A], step: 200ms}
  - {at: 1s, link: A->B, type: cut_at, unit: bind_accept}
  - {at: 1s, link: A->B, type: cut_at, unit: BIND, index: 3, stream: up}
`
	s, err := LoadBytes("f.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	f := s.Faults
	checks := []struct {
		name string
		ok   bool
	}{
		{"refuse until", f[0].Until == time.Second && len(f[0].Params) == 0},
		{"latency", f[1].Duration("latency") == 50*time.Millisecond && f[1].Duration("jitter") == 5*time.Millisecond && f[1].Stream() == "up"},
		{"bandwidth", f[2].Int("rate") == 64 && f[2].Stream() == "both"},
		{"blackhole", f[3].Has("timeout") && f[3].Duration("timeout") == 0 && f[3].Stream() == "down"},
		{"reset", f[4].Has("timeout") && f[4].Duration("timeout") == 0},
		{"truncate int", f[5].Size("bytes") == 41},
		{"truncate size", f[6].Size("bytes") == 2048},
		{"slice", f[7].Int("average_size") == 8 && f[7].Int("size_variation") == 2 && f[7].Duration("delay") == 400*time.Millisecond},
		{"slow_close", f[8].From == "B" && f[8].To == "A" && f[8].Duration("delay") == time.Second},
		{"storm", f[9].Until == 4*time.Second && f[9].Float("rate") == 2 && reflect.DeepEqual(f[9].Strings("kinds"), []string{"refuse", "latency"}) && reflect.DeepEqual(f[9].Strings("links"), []string{"A->B", "B->A"}) && f[9].Link == ""},
		{"storm bare rate", f[10].Until == 3*time.Second && f[10].Float("rate") == 0.5 && !f[10].Has("links")},
		{"swizzle", f[11].Duration("step") == 200*time.Millisecond && len(f[11].Strings("links")) == 2},
		{"cut_at default index", f[12].Text("unit") == "BIND-ACCEPT" && f[12].Int("index") == 1},
		{"cut_at", f[13].Text("unit") == "BIND" && f[13].Int("index") == 3 && f[13].Stream() == "up"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: wrong: %+v", c.name, f)
		}
	}
	// Round trip of every fault type.
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LoadBytes("f2.yaml", out)
	if err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(normalize(s), normalize(s2)) {
		t.Errorf("round trip differs:\n%s", out)
	}
}

// normalize clears what Marshal does not preserve: positions, Raw text of
// typed values, and the file.
func normalize(s *Scenario) *Scenario {
	c := *s
	c.File, c.Raw = "", nil
	c.Defaults.Line = 0
	c.MTAs = nil
	for _, m := range s.MTAs {
		m.Line = 0
		c.MTAs = append(c.MTAs, m)
	}
	c.Links = nil
	for _, l := range s.Links {
		l.Line = 0
		c.Links = append(c.Links, l)
	}
	c.Traffic = nil
	for _, x := range s.Traffic {
		x.Line = 0
		c.Traffic = append(c.Traffic, x)
	}
	c.Actions = nil
	for _, x := range s.Actions {
		x.Line = 0
		c.Actions = append(c.Actions, x)
	}
	c.Faults = nil
	for _, f := range s.Faults {
		f.Line = 0
		ps := map[string]Value{}
		spec, _ := faults.Describe(f.Type)
		for k, v := range f.Params {
			v.Line, v.Col = 0, 0
			if p, _ := spec.Param(k); p.Kind != faults.ParamStream && p.Kind != faults.ParamUnit {
				v.Raw = ""
			}
			ps[k] = v
		}
		f.Params = ps
		c.Faults = append(c.Faults, f)
	}
	x := Expect{}
	for _, e := range s.Expect.Events {
		e.Line = 0
		x.Events = append(x.Events, e)
	}
	for _, e := range s.Expect.Leaked {
		e.Line = 0
		x.Leaked = append(x.Leaked, e)
	}
	if r := s.Expect.Recovery; r != nil {
		rc := *r
		rc.Line = 0
		x.Recovery = &rc
	}
	c.Expect = x
	return &c
}

func TestMarshalRoundTrip(t *testing.T) {
	files := map[string]string{"example": ""}
	files["overrides"] = base + `description: |
  two lines
  of text
seed: -7
defaults: {mode: sp2, leak_probability: 0.25, extended_events: true, window: 9}
traffic:
  - {from: A, to: B, messages: 5, size: 1536, rate: 2.5/s, start: 1s, priority: 2}
actions:
  - {at: 2s, stop: A}
  - {at: 3s, start: A}
expect:
  events:
    - {mta: A, id: 1004, count: 2}
    - {mta: "*", id: 9299, min: 1, max: 3}
  leaked:
    - {mta: "*", max: 0}
  recovery: {within: 1.5s, delivered: 5}
  delivered: {min: 1, max: 4}
capture: true
duration: 1m
`
	files["overrides"] = strings.Replace(files["overrides"], "  - name: A\n", "  - name: A\n    mode: sp0\n    org: ACME\n    site: EAST\n    timers: {lifetime: 5s}\n    leak_probability: 1\n    extended_events: false\n", 1)
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			var s1 *Scenario
			var err error
			if src == "" {
				s1, err = Load("testdata/example.yaml")
			} else {
				s1, err = LoadBytes(name, []byte(src))
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := Marshal(s1)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := LoadBytes("out.yaml", out)
			if err != nil {
				t.Fatalf("reload: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(normalize(s1), normalize(s2)) {
				t.Errorf("round trip differs:\n got %+v\nwant %+v\n%s", normalize(s2), normalize(s1), out)
			}
			out2, err := Marshal(s2)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(out2) {
				t.Errorf("Marshal not stable:\n%s\n---\n%s", out, out2)
			}
		})
	}
}

// mtas builds resolved specs from the built-in defaults; the last is sp0.
func mtas(names ...string) []MTASpec {
	var out []MTASpec
	for _, n := range names {
		m := BuiltinDefaults()
		m.Name = n
		out = append(out, m)
	}
	out[len(out)-1].Build, out[len(out)-1].Mode = "4.0", "sp0"
	return out
}

func TestMarshalFromCode(t *testing.T) {
	s := &Scenario{
		Name:  "built",
		MTAs:  mtas("A", "B"),
		Links: []Link{{From: "A", To: "B"}},
		Faults: []Fault{{At: time.Second, From: "A", To: "B", Type: "cycle", Params: map[string]Value{
			"down": DurationValue(100 * time.Millisecond), "up": DurationValue(time.Second), "count": IntValue(3),
		}}},
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := LoadBytes("built.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.MTAs[0].Mode != "sp2" || got.MTAs[1].Mode != "sp0" || got.MTAs[0].LeakProbability != 1 || got.Faults[0].Link != "A->B" || got.Faults[0].Int("count") != 3 {
		t.Errorf("unexpected: %+v\n%s", got, out)
	}
	s.Faults[0].Params["bogus"] = IntValue(1)
	if _, err := Marshal(s); err == nil || !strings.Contains(err.Error(), `no parameter "bogus"`) {
		t.Errorf("Marshal with bogus param: %v", err)
	}
}

func TestBroken(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // substrings of the error, each "q.yaml:line:col: key: msg"
	}{
		{"empty", "", []string{"q.yaml: empty scenario"}},
		{"comments only", "# nothing\n", []string{"q.yaml: empty scenario"}},
		// yaml reports the line where the flow sequence opened, 0-based; kept as is.
		{"syntax flow", "version: 1\nname: [a\n", []string{"q.yaml:1: syntax error: did not find expected ',' or ']'"}},
		{"syntax tab", "version: 1\n\tname: t\n", []string{"q.yaml:2: syntax error: found a tab character that violates indentation"}},
		{"not a mapping", "- 1\n- 2\n", []string{"q.yaml:1:1: want a mapping, got a list"}},
		{"two documents", base + "---\nversion: 1\n", []string{"q.yaml:8:1: more than one YAML document"}},
		{"unknown top key", "version: 1\nname: t\nsede: 3\nmtas: [{name: A}]\n", []string{`q.yaml:3:1: unknown key "sede" (did you mean "seed"?)`}},
		{"duplicate key", base + "name: u\n", []string{`q.yaml:8:1: duplicate key "name" (first at line 2)`}},
		{"missing keys", "description: x\n", []string{
			`q.yaml:1:1: missing required key "version"`, `q.yaml:1:1: missing required key "name"`, `q.yaml:1:1: missing required key "mtas"`}},
		{"version", strings.Replace(base, "version: 1", "version: 2", 1), []string{"q.yaml:1:10: version: unsupported version 2 (want 1)"}},
		{"bad name", strings.Replace(base, "name: t", "name: Q 1", 1), []string{`q.yaml:2:7: name: invalid name "Q 1"`}},
		{"seed not int", base + "seed: abc\n", []string{`q.yaml:8:7: seed: invalid integer "abc"`}},
		{"duration bare number", base + "duration: 10\n", []string{`q.yaml:8:11: duration: invalid duration "10" (want e.g. 150ms)`}},
		{"defaults unknown key", base + "defaults:\n  kcb: 4\n", []string{`q.yaml:9:3: defaults: unknown key "kcb" (did you mean "kcbs"?)`}},
		{"defaults admin", base + "defaults:\n  admin: http://h:1\n", []string{`q.yaml:9:3: defaults: admin can only be set per MTA`}},
		{"mode", base + "defaults: {mode: sp1}\n", []string{`q.yaml:8:18: defaults.mode: invalid mode "sp1" (want sp0 or sp2)`}},
		{"kcbs range", base + "defaults: {kcbs: 1}\n", []string{`q.yaml:8:18: defaults.kcbs: must be between 2 and 4096, got 1`}},
		{"timers key", base + "defaults:\n  timers: {opne: 1s}\n", []string{`q.yaml:9:12: defaults.timers: unknown key "opne" (did you mean "open"?)`}},
		{"timer value", base + "defaults:\n  timers: {open: fast}\n", []string{`q.yaml:9:18: defaults.timers.open: invalid duration "fast" (want e.g. 150ms)`}},
		{"timers not a map", base + "defaults:\n  timers: [1s]\n", []string{`q.yaml:9:11: defaults.timers: want a mapping, got a list`}},
		{"leak probability", base + "defaults: {leak_probability: 1.5}\n", []string{`q.yaml:8:30: defaults.leak_probability: must be between 0 and 1, got 1.5`}},
		{"window", base + "defaults: {window: 0}\n", []string{`q.yaml:8:20: defaults.window: must be between 1 and 255, got 0`}},
		{"bool", base + "defaults: {extended_events: yes}\n", []string{`q.yaml:8:29: defaults.extended_events: invalid boolean "yes" (want true or false)`}},
		{"capture", base + "capture: on\n", []string{`q.yaml:8:10: capture: invalid boolean "on" (want true or false)`}},
		{"capture not scalar", base + "capture: {links: [A->B]}\n", []string{`q.yaml:8:10: capture: want a single value, got a mapping`}},
		{"mtas map", "version: 1\nname: t\nmtas: {name: A}\n", []string{`q.yaml:3:7: mtas: want a list, got a mapping`}},
		{"mtas empty", "version: 1\nname: t\nmtas: []\n", []string{`q.yaml:3:7: mtas: at least one MTA is required`}},
		{"mta duplicate", strings.Replace(base, "name: B", "name: A", 1), []string{
			`q.yaml:5:11: mtas[1].name: duplicate MTA name "A" (first at line 4)`}},
		{"mta bad name and admin", strings.Replace(base, "  - name: B\n", "  - name: B.1\n    admin: localhost:99\n", 1), []string{
			`q.yaml:5:11: mtas[1].name: invalid MTA name "B.1"`,
			`q.yaml:6:12: mtas[1].admin: invalid admin URL "localhost:99" (want http://HOST:PORT)`}},
		{"mta name missing", strings.Replace(base, "  - name: B\n", "  - mode: sp0\n", 1), []string{`q.yaml:5:5: mtas[1]: missing required key "name"`}},
		{"mta scalar where map", strings.Replace(base, "  - name: B\n", "  - B\n", 1), []string{`q.yaml:5:5: mtas[1]: want a mapping, got "B"`}},
		{"link unknown mta", base + "  - {from: A, to: C}\n", []string{`q.yaml:8:19: links[1].to: unknown MTA "C" (declared: A, B)`}},
		{"link self", base + "  - {from: A, to: A}\n", []string{`q.yaml:8:19: links[1].to: link from A to itself`}},
		{"link duplicate", base + "  - {from: A, to: B}\n", []string{`q.yaml:8:5: links[1]: duplicate link A->B (first at line 7)`}},
		{"traffic no link", base + "traffic:\n  - {from: B, to: A, messages: 1}\n", []string{`q.yaml:9:5: traffic[0]: no link B->A declared in links`}},
		{"traffic values", base + "traffic:\n  - {from: A, to: B, messages: 0, size: 1KB, rate: 100, start: 11s}\n", []string{
			`q.yaml:9:32: traffic[0].messages: must be at least 1, got 0`,
			`q.yaml:9:41: traffic[0].size: invalid size "1KB" (want e.g. 1KiB, 512B)`,
			`q.yaml:9:52: traffic[0].rate: invalid rate "100" (want e.g. 100/s)`,
			`q.yaml:9:64: traffic[0].start: start 11s is after the run duration 10s`}},
		{"fault bad duration", base + "faults:\n  - at: 1s\n    link: A->B\n    type: cycle\n    down: 150\n    up: 1s\n    count: 2\n", []string{
			`q.yaml:12:11: faults[0].down: invalid duration "150" (want e.g. 150ms)`}},
		{"fault unknown type", base + "faults:\n  - {at: 1s, link: A->B, type: cycel}\n", []string{
			`q.yaml:9:32: faults[0].type: unknown fault type "cycel" (did you mean "cycle"?)`}},
		{"fault unknown key", base + "faults:\n  - {at: 1s, link: A->B, type: latency, latency: 1s, jiter: 1ms}\n", []string{
			`q.yaml:9:54: faults[0]: unknown key "jiter" for fault type latency (did you mean "jitter"?)`}},
		{"fault missing params", base + "faults:\n  - {at: 1s, type: cycle}\n", []string{
			`q.yaml:9:5: faults[0]: missing required key "link"`,
			`q.yaml:9:5: faults[0]: missing required key "down" for fault type cycle`,
			`q.yaml:9:5: faults[0]: missing required key "count" for fault type cycle`}},
		{"fault link undeclared", base + "faults:\n  - {at: 1s, link: B->A, type: refuse}\n", []string{
			`q.yaml:9:20: faults[0].link: link B->A is not declared in links`}},
		{"fault link syntax", base + "faults:\n  - {at: 1s, link: AB, type: refuse}\n", []string{
			`q.yaml:9:20: faults[0].link: invalid link "AB" (want A->B)`}},
		{"fault until before at", base + "faults:\n  - {at: 2s, link: A->B, type: refuse, until: 1s}\n", []string{
			`q.yaml:9:47: faults[0].until: until 1s is not after at 2s`}},
		{"fault until and duration", base + "faults:\n  - {at: 2s, link: A->B, type: refuse, until: 3s, duration: 1s}\n", []string{
			`q.yaml:9:51: faults[0]: set until or duration, not both`}},
		{"fault after end", base + "faults:\n  - {at: 20s, link: A->B, type: refuse}\n", []string{
			`q.yaml:9:10: faults[0].at: at 20s is after the run duration 10s`}},
		{"fault counts", base + "faults:\n  - {at: 1s, link: A->B, type: cycle, down: 1s, up: 1s, count: 0}\n", []string{
			`q.yaml:9:64: faults[0].count: must be at least 1, got 0`}},
		{"fault stream", base + "faults:\n  - {at: 1s, link: A->B, type: reset, stream: sideways}\n", []string{
			`q.yaml:9:47: faults[0].stream: invalid stream "sideways" (want up, down or both)`}},
		{"cut_at unit", base + "faults:\n  - {at: 1s, link: A->B, type: cut_at, unit: BINDD}\n", []string{
			`q.yaml:9:46: faults[0].unit: unknown unit "BINDD"`}},
		{"storm", base + "faults:\n  - {at: 1s, type: storm, kinds: [refuse, storm], links: A->B}\n", []string{
			`q.yaml:9:5: faults[0]: missing required key "duration" (or until) for fault type storm`,
			`q.yaml:9:43: faults[0].kinds[1]: invalid fault kind "storm"`,
			`q.yaml:9:58: faults[0].links: want a list, got "A->B"`}},
		{"swizzle", base + "faults:\n  - {at: 1s, type: swizzle, links: [A->B, B->A], step: 0s}\n", []string{
			`q.yaml:9:43: faults[0].links[1]: link B->A is not declared in links`,
			`q.yaml:9:56: faults[0].step: must be greater than 0`}},
		{"fault param not scalar", base + "faults:\n  - {at: 1s, link: A->B, type: slow_close, delay: {x: 1}}\n", []string{
			`q.yaml:9:51: faults[0].delay: want a single value, got a mapping`}},
		{"actions", base + "actions:\n  - {at: 1s, restart: C}\n  - {at: 1s, stop: A, start: A}\n  - {at: 1s}\n  - {restart: A}\n", []string{
			`q.yaml:9:23: actions[0].restart: unknown MTA "C" (declared: A, B)`,
			`q.yaml:10:23: actions[1]: only one of restart, stop, start per action (got stop and start)`,
			`q.yaml:11:5: actions[2]: missing operation: one of restart, stop, start`,
			`q.yaml:12:5: actions[3]: missing required key "at"`}},
		{"expect events", base + "expect:\n  events:\n    - {mta: \"*\", id: 1005, min: 1}\n    - {mta: X, id: 1004, count: 1, min: 1}\n    - {mta: A, id: 1004, min: 3, max: 1}\n    - {mta: A, id: 1004}\n", []string{
			`q.yaml:10:22: expect.events[0].id: unknown event id 1005 (want one of 1004, 1008`,
			`q.yaml:11:13: expect.events[1].mta: unknown MTA "X"`,
			`q.yaml:11:26: expect.events[1].count: count can't be combined with min or max`,
			`q.yaml:12:39: expect.events[2].max: max 1 is less than min 3`,
			`q.yaml:13:7: expect.events[3]: missing bound: one of min, max or count`}},
		{"expect leaked and recovery", base + "expect:\n  leaked: {mta: B}\n  recovery: {delivered: most, kcbs: zero}\n", []string{
			`q.yaml:9:11: expect.leaked: want a list, got a mapping`,
			`q.yaml:10:13: expect.recovery: missing required key "within"`,
			`q.yaml:10:25: expect.recovery.delivered: invalid delivered "most" (want all or a count)`,
			`q.yaml:10:37: expect.recovery.kcbs: invalid kcbs "zero" (want baseline)`}},
		{"expect delivered", base + "traffic: [{from: A, to: B, messages: 5}]\nexpect:\n  delivered: {min: 6, maxi: 1}\n", []string{
			`q.yaml:10:23: expect.delivered: unknown key "maxi" (did you mean "max"?)`,
			`q.yaml:10:20: expect.delivered.min: 6 is more than the 5 messages the traffic declares`}},
		{"expect delivered bounds", base + "expect:\n  delivered: {count: 1, max: 2}\n", []string{
			`expect.delivered.count: count can't be combined with min or max`}},
		{"expect delivered not a mapping", base + "expect:\n  delivered: 3\n", []string{
			`q.yaml:9:14: expect.delivered: want a mapping`}},
		{"expect delivered empty", base + "expect:\n  delivered: {}\n", []string{
			`expect.delivered: missing bound: one of min, max or count`}},
		{"expect unknown", base + "expect:\n  event: []\n", []string{`q.yaml:9:3: expect: unknown key "event" (did you mean "events"?)`}},
		{"null value", base + "description:\nseed:\n", []string{`q.yaml:9:6: seed: missing value`}},
		{"merge key", base + "defaults:\n  <<: {mode: sp0}\n", []string{`q.yaml:9:3: defaults: merge keys (<<) are not supported`}},
	}
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadBytes("q.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("loaded without error: %+v", s)
			}
			var se *Error
			if !errors.As(err, &se) || se.File != "q.yaml" || len(se.Problems) == 0 {
				t.Fatalf("error %T %v is not a *Error for q.yaml", err, err)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q; got:\n%s", w, msg)
				}
			}
			if n := len(strings.Split(msg, "\n")); n != len(se.Problems) {
				t.Errorf("%d lines for %d problems", n, len(se.Problems))
			}
		})
	}
}

func TestCollectsAllProblemsInOrder(t *testing.T) {
	src := "version: 3\nname: t\nsede: 1\nmtas:\n  - {name: A, kcbs: 1, mode: x}\nduration: 5\n"
	_, err := LoadBytes("q.yaml", []byte(src))
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("got %v", err)
	}
	var lines []int
	for _, p := range se.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{1, 3, 5, 5, 6}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problem lines = %v, want %v:\n%v", lines, want, err)
	}
	if p := se.Problems[2]; p.Key != "mtas[0].kcbs" || p.Col != 21 {
		t.Errorf("problem 2 = %+v", p)
	}
}

func TestLoadFileErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err := LoadBytes("", []byte("version: 1\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "1:1: missing required key") {
		t.Errorf("unnamed: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  bool
	}{
		{"0", 0, false},
		{"512", 512, false},
		{"512B", 512, false},
		{"1KiB", 1024, false},
		{"3 KiB", 3072, false},
		{"2MiB", 2 << 20, false},
		{"1GiB", 1 << 30, false},
		{"", 0, true},
		{"KiB", 0, true},
		{"1KB", 0, true},
		{"1kib", 0, true},
		{"1.5KiB", 0, true},
		{"-1", 0, true},
		{"+1", 0, true},
		{"abc", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999999GiB", 0, true},
	}
	for _, c := range cases {
		got, err := ParseSize(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, err %v", c.in, got, err, c.want, c.err)
		}
		if err == nil {
			if back, err := ParseSize(FormatSize(got)); err != nil || back != got {
				t.Errorf("FormatSize(%d) = %q does not parse back", got, FormatSize(got))
			}
		}
	}
}

func TestParseRate(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		err  bool
	}{
		{"100/s", 100, false},
		{"2.5/s", 2.5, false},
		{"0/s", 0, false},
		{" 7 /s", 7, false},
		{"100", 0, true},
		{"100/m", 0, true},
		{"/s", 0, true},
		{"-1/s", 0, true},
		{"inf/s", 0, true},
		{"NaN/s", 0, true},
		{"fast/s", 0, true},
	}
	for _, c := range cases {
		got, err := ParseRate(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v, err %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"150ms", 150 * time.Millisecond, false},
		{"1m30s", 90 * time.Second, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"150", 0, true},
		{"1.5", 0, true},
		{"-1s", 0, true},
		{"", 0, true},
		{"soon", 0, true},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err %v", c.in, got, err, c.want, c.err)
		}
	}
}

// TestFaultDefaultsParse parses every default a fault type declares, as
// the loader does when the key is absent.
func TestFaultDefaultsParse(t *testing.T) {
	defaults := 0
	for _, typ := range faults.Types() {
		spec, ok := faults.Describe(typ)
		if !ok {
			t.Fatalf("faults.Describe(%q) failed", typ)
		}
		for _, p := range spec.Params {
			if p.Default == "" {
				continue
			}
			defaults++
			if _, err := parseParamText(p, p.Default); err != nil {
				t.Errorf("%s.%s default %q: %v", typ, p.Key, p.Default, err)
			}
		}
	}
	if defaults == 0 {
		t.Fatal("no fault type declares a default")
	}
}

func TestBuildsAndDefects(t *testing.T) {
	src := `version: 1
name: t
defaults: {build: 5.5-sp2}
mtas:
  - name: A
  - {name: B, mode: sp0}
  - {name: C, build: sp2}
  - {name: D, build: 5.5-SP3, mode: sp2, defects: []}
  - {name: E, defects: [Q247419, q152877]}
`
	src = strings.Replace(src, "mode: sp2, defects: []", "defects: []", 1) // D: build alone
	s, err := LoadBytes("b.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		build, mode string
		defects     []string
	}{
		"A": {"5.5-sp2", "5.5-sp2", []string{"Q229643", "Q232602"}},
		"B": {"4.0", "sp0", []string{"Q152877"}},
		"C": {"4.0-sp2", "sp2", []string{}},
		"D": {"5.5-sp3", "5.5-sp3", []string{}},
		"E": {"5.5-sp2", "5.5-sp2", []string{"Q152877", "Q247419"}},
	}
	for _, m := range s.MTAs {
		w := want[m.Name]
		if m.Build != w.build || m.Mode != w.mode || m.BuildName() != w.build || !slices.Equal(m.DefectSet(), w.defects) {
			t.Errorf("%s: build %q mode %q defects %v; want %q %q %v", m.Name, m.Build, m.Mode, m.DefectSet(), w.build, w.mode, w.defects)
		}
	}
	// Marshal keeps them: the round trip gives the same specs.
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LoadBytes("b2.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for i, m := range s2.MTAs {
		if m.BuildName() != s.MTAs[i].BuildName() || !slices.Equal(m.DefectSet(), s.MTAs[i].DefectSet()) {
			t.Errorf("round trip %s: %s %v, want %s %v\n%s", m.Name, m.BuildName(), m.DefectSet(), s.MTAs[i].BuildName(), s.MTAs[i].DefectSet(), out)
		}
	}
	// A spec built in code with only the old Mode resolves too.
	if got := (MTASpec{Mode: "sp0"}).BuildName(); got != "4.0" {
		t.Errorf("Mode sp0 resolves to %q", got)
	}
	if got := (MTASpec{}).DefectSet(); len(got) != 0 {
		t.Errorf("default build has defects %v", got)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct{ name, mtas, want string }{
		{"unknown build", "  - {name: A, build: 5.0}", `b.yaml:4:22: mtas[0].build: unknown build "5.0" (want one of 4.0 (sp0), 4.0-sp2 (sp2), 5.5-sp2, 5.5-sp3, 5.5-sp4)`},
		{"mode not an alias", "  - {name: A, mode: 5.5-sp2}", `b.yaml:4:21: mtas[0].mode: invalid mode "5.5-sp2" (want sp0 or sp2; write build: 5.5-sp2)`},
		{"disagree", "  - {name: A, mode: sp0,\n     build: 5.5-sp2}", `b.yaml:5:13: mtas[0].build: build "5.5-sp2" disagrees with mode sp0 on line 4 (mode sp0 is build 4.0)`},
		{"unknown defect", "  - {name: A, defects: [Q229643, Q1]}", `b.yaml:4:34: mtas[0].defects[1]: unknown defect "Q1" (want one of Q152877, Q229643, Q232602, Q247419)`},
		{"defect twice", "  - {name: A, defects: [Q229643, q229643]}", `mtas[0].defects[1]: defect Q229643 listed twice`},
		{"defects not a list", "  - {name: A, defects: Q229643}", `mtas[0].defects: want a list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes("b.yaml", []byte("version: 1\nname: t\nmtas:\n"+tc.mtas+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
	// Agreeing build and mode are fine.
	if _, err := LoadBytes("b.yaml", []byte("version: 1\nname: t\nmtas:\n  - {name: A, mode: sp0, build: '4.0'}\n")); err != nil {
		t.Errorf("agreeing mode and build: %v", err)
	}
}

func TestCaptureKey(t *testing.T) {
	s, err := LoadBytes("q.yaml", []byte(base+"capture: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Capture {
		t.Fatal("capture: true loaded as false")
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "capture: true\n") {
		t.Errorf("Marshal lost capture: true:\n%s", out)
	}
	s, err = LoadBytes("q.yaml", []byte(base+"capture: false\n"))
	if err != nil || s.Capture {
		t.Fatalf("capture: false: %v, %v", s.Capture, err)
	}
	out, err = Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "capture") {
		t.Errorf("Marshal wrote capture for a scenario without it:\n%s", out)
	}
}

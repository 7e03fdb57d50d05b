package scenario

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func loadTopo(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := LoadBytes("topo.yaml", []byte(src))
	if err != nil {
		t.Fatalf("load:\n%v", err)
	}
	return s
}

func names(ms []MTASpec) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

func linkSet(ls []Link) map[string]bool {
	out := map[string]bool{}
	for _, l := range ls {
		out[l.String()] = true
	}
	return out
}

func TestTopologyHubAndSpokes(t *testing.T) {
	s := loadTopo(t, `version: 1
name: hs
defaults: {kcbs: 4, window: 2}
topology:
  shape: hub-and-spokes
  count: 5
  name: "spoke-%03d"
  hub: {name: HUB, kcbs: 64, build: 4.0-sp2}
  each: {window: 8}
  builds: [sp0, 4.0-sp2]
  traffic: {messages: 3, size: 2KiB, rate: 10/s, start: 1s}
  faults:
    - {at: 1s, duration: 2s, type: storm, rate: 1/s}
    - {at: 4s, type: refuse, until: 5s}
mtas:
  - {name: X}
links:
  - {from: X, to: HUB}
traffic:
  - {from: X, to: HUB, messages: 1}
expect:
  leaked:
    - {mta: "*", build: 4.0-sp2, max: 0}
`)
	if got, want := strings.Join(names(s.MTAs), ","), "HUB,spoke-001,spoke-002,spoke-003,spoke-004,spoke-005,X"; got != want {
		t.Fatalf("MTAs %s, want %s", got, want)
	}
	hub, _ := s.MTA("HUB")
	if hub.KCBs != 64 || hub.Window != 2 || hub.BuildName() != "4.0-sp2" || hub.Line != 4 {
		t.Errorf("hub %+v", hub)
	}
	for i, n := range []string{"spoke-001", "spoke-002", "spoke-003"} {
		m, _ := s.MTA(n)
		want := []string{"4.0", "4.0-sp2"}[i%2]
		if m.BuildName() != want || m.KCBs != 4 || m.Window != 8 {
			t.Errorf("%s: build %s kcbs %d window %d, want build %s kcbs 4 window 8", n, m.BuildName(), m.KCBs, m.Window, want)
		}
	}
	if len(s.Links) != 11 {
		t.Fatalf("%d links, want 10 generated + 1: %v", len(s.Links), s.Links)
	}
	ls := linkSet(s.Links)
	for i := 1; i <= 5; i++ {
		sp := fmt.Sprintf("spoke-%03d", i)
		if !ls[sp+"->HUB"] || !ls["HUB->"+sp] {
			t.Errorf("no link each way between %s and HUB", sp)
		}
	}
	if len(s.Traffic) != 6 {
		t.Fatalf("%d traffic items, want 5 + 1", len(s.Traffic))
	}
	for _, tr := range s.Traffic[:5] {
		if tr.To != "HUB" || tr.Messages != 3 || tr.Size != 2048 || tr.Rate != 10 || tr.Start != time.Second || tr.Line != 11 {
			t.Errorf("traffic %+v", tr)
		}
	}
	if len(s.Faults) != 20 {
		t.Fatalf("%d faults, want 2 per link × 10", len(s.Faults))
	}
	if f := s.Faults[0]; f.Type != "storm" || f.Link != "spoke-001->HUB" || f.Until != 3*time.Second || f.Line != 13 {
		t.Errorf("fault 0 %+v", f)
	}
	if f := s.Faults[3]; f.Type != "refuse" || f.Link != "HUB->spoke-001" || f.Until != 5*time.Second {
		t.Errorf("fault 3 %+v", f)
	}
	if tp := s.Topology; tp == nil || tp.Shape != ShapeHubAndSpokes || tp.Count != 5 || tp.Hub != "HUB" || len(tp.Names) != 5 {
		t.Errorf("topology %+v", tp)
	}
	if l := s.Expect.Leaked[0]; l.Build != "4.0-sp2" {
		t.Errorf("leaked build %q", l.Build)
	}
	var sel []string
	for _, m := range s.MTAs {
		if Selects("*", "4.0-sp2", m) {
			sel = append(sel, m.Name)
		}
	}
	if got := strings.Join(sel, ","); got != "HUB,spoke-002,spoke-004,X" {
		t.Errorf("build 4.0-sp2 selects %s", got)
	}
	// The schedule of a hub-and-spokes storm expands from the seed like any other.
	raw, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadBytes("again.yaml", raw)
	if err != nil {
		t.Fatalf("the long form does not load:\n%v\n%s", err, raw)
	}
	if len(again.MTAs) != len(s.MTAs) || len(again.Links) != len(s.Links) || len(again.Faults) != len(s.Faults) {
		t.Errorf("long form: %d MTAs, %d links, %d faults", len(again.MTAs), len(again.Links), len(again.Faults))
	}
}

func TestTopologyRingAndMesh(t *testing.T) {
	ring := loadTopo(t, "version: 1\nname: r\ntopology: {shape: ring, count: 4, name: \"r%d\", traffic: {messages: 1}}\n")
	if got := strings.Join(names(ring.MTAs), ","); got != "r1,r2,r3,r4" {
		t.Errorf("ring MTAs %s", got)
	}
	ls := linkSet(ring.Links)
	for _, l := range []string{"r1->r2", "r2->r1", "r2->r3", "r3->r2", "r3->r4", "r4->r3", "r4->r1", "r1->r4"} {
		if !ls[l] {
			t.Errorf("ring lacks %s", l)
		}
	}
	if len(ring.Links) != 8 || len(ring.Traffic) != 4 || ring.Traffic[3].From != "r4" || ring.Traffic[3].To != "r1" {
		t.Errorf("ring: %d links, traffic %+v", len(ring.Links), ring.Traffic)
	}
	mesh := loadTopo(t, "version: 1\nname: m\ntopology: {shape: mesh, count: 4, name: \"m-%x\", traffic: {messages: 1}}\n")
	if len(mesh.Links) != 12 || len(mesh.Traffic) != 12 {
		t.Errorf("mesh of 4: %d links, %d traffic items; want 12 and 12", len(mesh.Links), len(mesh.Traffic))
	}
	if l := linkSet(mesh.Links); !l["m-1->m-4"] || !l["m-4->m-1"] || l["m-1->m-1"] {
		t.Errorf("mesh links %v", mesh.Links)
	}
	if mesh.Topology.Hub != "" {
		t.Errorf("mesh has a hub %q", mesh.Topology.Hub)
	}
}

func TestTopologyErrors(t *testing.T) {
	const head = "version: 1\nname: t\n"
	cases := []struct {
		name, src string
		want      []string
	}{
		{"unknown shape", head + "topology: {shape: star, count: 3, name: \"s%d\"}\n",
			[]string{`topo.yaml:3:19: topology.shape: unknown shape "star" (want hub-and-spokes, ring, mesh)`}},
		{"shape typo", head + "topology: {shape: rign, count: 3, name: \"s%d\"}\n",
			[]string{`topology.shape: unknown shape "rign" (want hub-and-spokes, ring, mesh) (did you mean "ring"?)`}},
		{"count zero", head + "topology: {shape: hub-and-spokes, count: 0, name: \"s%d\"}\n",
			[]string{`topo.yaml:3:42: topology.count: must be between 1 and 1000, got 0`}},
		{"ring of two", head + "topology: {shape: ring, count: 2, name: \"s%d\"}\n",
			[]string{`topology.count: must be between 3 and 1000, got 2`}},
		{"mesh too big", head + "topology: {shape: mesh, count: 65, name: \"s%d\"}\n",
			[]string{`topology.count: must be between 2 and 64, got 65`}},
		{"count not int", head + "topology: {shape: mesh, count: many, name: \"s%d\"}\n",
			[]string{`topology.count: invalid integer "many"`}},
		{"no verb", head + "topology: {shape: ring, count: 3, name: spoke}\n",
			[]string{`topo.yaml:3:41: topology.name: invalid name pattern "spoke": no integer verb`}},
		{"two verbs", head + "topology: {shape: ring, count: 3, name: \"s%d-%d\"}\n",
			[]string{`topology.name: invalid name pattern "s%d-%d": 2 verbs, want one`}},
		{"string verb", head + "topology: {shape: ring, count: 3, name: \"s%s\"}\n",
			[]string{`topology.name: invalid name pattern "s%s": only one integer verb`}},
		{"bad generated name", head + "topology: {shape: ring, count: 3, name: \"s %d\"}\n",
			[]string{`topology.name: pattern "s %d" names MTA 1 "s 1", an invalid MTA name`}},
		{"precision verb", head + "topology: {shape: ring, count: 12, name: \"s%1.1d\"}\n",
			[]string{`invalid name pattern`}},
		{"missing keys", head + "topology: {shape: ring}\n",
			[]string{`topo.yaml:3:11: topology: missing required key "count"`, `topology: missing required key "name"`}},
		{"missing mtas and topology", head,
			[]string{`missing required key "mtas" (or topology)`}},
		{"unknown key", head + "topology: {shape: ring, count: 3, name: \"s%d\", spokes: 3}\n",
			[]string{`topology: unknown key "spokes"`}},
		{"hub on a ring", head + "topology: {shape: ring, count: 3, name: \"s%d\", hub: {name: H}}\n",
			[]string{`topology: hub is only for shape hub-and-spokes, not ring`}},
		{"hub collides with a spoke", head + "topology: {shape: hub-and-spokes, count: 3, name: \"s%d\", hub: {name: s2}}\n",
			[]string{`topology.name: the topology generates MTA name "s2" twice (first at line 3)`}},
		{"explicit MTA collides", head + "topology: {shape: hub-and-spokes, count: 3, name: \"s%d\"}\nmtas:\n  - {name: s3}\n  - {name: hub}\n",
			[]string{`topo.yaml:5:12: mtas[0].name: MTA name "s3" is one the topology generates (topology at line 3)`,
				`topo.yaml:6:12: mtas[1].name: MTA name "hub" is one the topology generates (topology at line 3)`}},
		{"explicit link duplicates", head + "topology: {shape: ring, count: 3, name: \"s%d\"}\nlinks:\n  - {from: s1, to: s2}\n",
			[]string{`topo.yaml:5:5: links[0]: duplicate link s1->s2: the topology declares it (topology at line 3)`}},
		{"builds and each.build", head + "topology: {shape: ring, count: 3, name: \"s%d\", each: {build: \"4.0\"}, builds: [sp0]}\n",
			[]string{`topology: set builds or each.build (line 3), not both`}},
		{"unknown build", head + "topology: {shape: ring, count: 3, name: \"s%d\", builds: [sp0, sp9]}\n",
			[]string{`topology.builds[1]: unknown build "sp9"`}},
		{"each admin", head + "topology: {shape: ring, count: 3, name: \"s%d\", each: {admin: \"http://h:1\"}}\n",
			[]string{`topology.each: unknown key "admin"`}},
		{"each bad value", head + "topology: {shape: ring, count: 3, name: \"s%d\", each: {kcbs: 1}}\n",
			[]string{`topology.each.kcbs: must be between 2 and 4096, got 1`}},
		{"traffic template from", head + "topology: {shape: ring, count: 3, name: \"s%d\", traffic: {from: s1, messages: 1}}\n",
			[]string{`topology.traffic: unknown key "from"`}},
		{"traffic template value", head + "topology: {shape: ring, count: 3, name: \"s%d\", traffic: {messages: 0}}\n",
			[]string{`topology.traffic.messages: must be at least 1, got 0`}},
		{"traffic template missing messages", head + "topology: {shape: ring, count: 3, name: \"s%d\", traffic: {size: 1KiB}}\n",
			[]string{`topology.traffic: missing required key "messages"`}},
		{"fault template link", head + "topology:\n  shape: ring\n  count: 3\n  name: \"s%d\"\n  faults:\n    - {at: 1s, link: s1->s2, type: refuse}\n",
			[]string{`topo.yaml:8:16: topology.faults[0]: link is set per link by the topology: leave it out of a fault template`}},
		{"fault template bad type", head + "topology:\n  shape: ring\n  count: 3\n  name: \"s%d\"\n  faults:\n    - {at: 1s, type: refus}\n",
			[]string{`topo.yaml:8:22: topology.faults[0].type: unknown fault type "refus" (did you mean "refuse"?)`}},
		{"fault template not a list", head + "topology: {shape: ring, count: 3, name: \"s%d\", faults: {at: 1s}}\n",
			[]string{`topology.faults: want a list, got a mapping`}},
		{"expect build none", head + "topology: {shape: ring, count: 3, name: \"s%d\", builds: [sp2]}\nexpect:\n  leaked: [{mta: \"*\", build: sp0, max: 0}]\n",
			[]string{`expect.leaked[0].build: no MTA runs build 4.0`}},
		{"expect build of a named MTA", head + "topology: {shape: ring, count: 3, name: \"s%d\", builds: [sp2]}\nexpect:\n  events: [{mta: s1, build: sp0, id: 1004, max: 0}]\n",
			[]string{`expect.events[0].build: MTA s1 runs build 4.0-sp2, not 4.0`}},
		{"expect names a generated MTA", head + "topology: {shape: ring, count: 3, name: \"s%d\"}\nexpect:\n  leaked: [{mta: s4, max: 0}]\n",
			[]string{`expect.leaked[0].mta: unknown MTA "s4"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := LoadBytes("topo.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("loaded without error: %d MTAs", len(s.MTAs))
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v is not a *Error", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
		})
	}
}

func TestTopologyExplicitReferences(t *testing.T) {
	// Explicit traffic, faults, actions and expectations may name what the
	// topology generates.
	s := loadTopo(t, `version: 1
name: refs
topology: {shape: hub-and-spokes, count: 2, name: "s%d"}
traffic:
  - {from: hub, to: s2, messages: 4}
faults:
  - {at: 1s, link: s1->hub, type: refuse, until: 2s}
actions:
  - {at: 3s, restart: s1}
expect:
  events: [{mta: s2, id: 1198, max: 0}]
`)
	if len(s.Traffic) != 1 || len(s.Faults) != 1 || len(s.Actions) != 1 || len(s.Expect.Events) != 1 {
		t.Errorf("traffic %v faults %v actions %v", s.Traffic, s.Faults, s.Actions)
	}
}

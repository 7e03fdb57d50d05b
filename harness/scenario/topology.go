package scenario

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Topology shapes (`topology.shape`).
const (
	ShapeHubAndSpokes = "hub-and-spokes"
	ShapeRing         = "ring"
	ShapeMesh         = "mesh"
)

// Shapes are the shapes `topology.shape` accepts.
var Shapes = []string{ShapeHubAndSpokes, ShapeRing, ShapeMesh}

// Topology bounds: how many MTAs `count` may generate per shape. A mesh
// has count×(count−1) links, so it stays small.
const (
	MaxTopologyCount = 1000
	MaxMeshCount     = 64
	MinRingCount     = 3
	MinMeshCount     = 2
)

// DefaultHubName is the hub's name when `topology.hub` names none.
const DefaultHubName = "hub"

// Topology is the `topology:` shorthand as written (DESIGN.md section 8): a
// shape over Count generated MTAs named by Pattern, expanded by the loader
// into the scenario's MTAs, Links (one each way), Traffic and Faults.
//
//	topology:
//	  shape: hub-and-spokes      # hub-and-spokes | ring | mesh
//	  count: 199                 # MTAs the pattern names (the hub is extra)
//	  name: "spoke-%03d"         # one integer verb; indexes 1..count
//	  hub: {name: hub, kcbs: 512}          # hub-and-spokes only: any MTA key
//	  each: {kcbs: 8, window: 4}           # MTA keys for every generated MTA
//	  builds: [4.0, 4.0-sp2, 4.0-sp2]      # cycled: MTA i runs builds[(i-1) mod len]
//	  traffic: {messages: 50, rate: 5/s}   # from every generated MTA (see Shape)
//	  faults:                               # copied onto every link
//	    - {at: 1s, duration: 10s, type: storm, rate: 1/s}
//
// Links: hub-and-spokes links each spoke and the hub both ways; ring links
// MTA i and i+1 (and the last and the first) both ways; mesh links every
// ordered pair. Traffic goes from every generated MTA: to the hub
// (hub-and-spokes), to the next MTA of the ring, to every other MTA of the
// mesh. The expansion comes first in MTAs, Links, Traffic and Faults; what
// the file declares explicitly follows it.
type Topology struct {
	// Shape is one of Shapes.
	Shape string
	// Count is the number of MTAs Pattern names.
	Count int
	// Pattern is the name pattern: a Go format with one integer verb.
	Pattern string
	// Hub is the hub's name (hub-and-spokes only).
	Hub string
	// Builds are cycled over the generated MTAs (empty: each's or the
	// defaults' build); catalogue names.
	Builds []string
	// Names are the generated MTAs' names, in index order.
	Names []string
	// Line is where `topology:` is.
	Line int
}

// Build returns the build the generated MTA with 0-based index i runs, or
// "" when Builds is empty.
func (t *Topology) Build(i int) string {
	if len(t.Builds) == 0 {
		return ""
	}
	return t.Builds[i%len(t.Builds)]
}

var (
	topologyKeys = []string{"shape", "count", "name", "hub", "each", "builds", "traffic", "faults"}
	eachKeys     = []string{"build", "mode", "defects", "kcbs", "org", "site", "timers", "leak_probability", "extended_events", "window"}
	templateKeys = []string{"messages", "size", "rate", "start", "priority"}
	// patternVerbRE is one integer verb of a name pattern.
	patternVerbRE = regexp.MustCompile(`%[-+ #0]*[0-9]*[dboxX]`)
)

// topoState is a topology being expanded.
type topoState struct {
	t     *Topology
	line  int
	names map[string]bool // generated names, hub included
	// traffic and faults are the template nodes (nil when absent).
	traffic, faults *entry
}

func (ts *topoState) generated(name string) bool { return ts != nil && ts.names[name] }

// checkPattern validates a name pattern: exactly one integer verb, any
// other '%' doubled.
func checkPattern(p string) error {
	verbs := patternVerbRE.FindAllStringIndex(p, -1)
	rest := patternVerbRE.ReplaceAllString(p, "")
	if strings.Count(strings.ReplaceAll(rest, "%%", ""), "%") > 0 {
		return fmt.Errorf("invalid name pattern %q: only one integer verb such as %%03d (write %%%% for a percent sign)", p)
	}
	switch len(verbs) {
	case 0:
		return fmt.Errorf("invalid name pattern %q: no integer verb (want e.g. \"spoke-%%03d\")", p)
	case 1:
		return nil
	}
	return fmt.Errorf("invalid name pattern %q: %d verbs, want one (e.g. \"spoke-%%03d\")", p, len(verbs))
}

// topology reads `topology:` and appends its MTAs and links to s; its
// traffic and faults templates are expanded later (topoTraffic,
// topoFaults), once the explicit links are known.
func (d *decoder) topology(e entry, s *Scenario) {
	const path = "topology"
	m, ok := d.mapping(e.val, path, topologyKeys)
	if !ok {
		return
	}
	if m.node.Kind != yaml.MappingNode {
		m.node = e.key
	}
	t := &Topology{Line: e.key.Line}
	ts := &topoState{t: t, line: e.key.Line, names: map[string]bool{}}
	good := d.require(m, "shape", "count", "name")
	if se, ok := m.get("shape"); ok {
		if v, ok := d.str(se.val, join(path, "shape")); ok {
			if slices.Contains(Shapes, v) {
				t.Shape = v
			} else {
				d.add(se.val, join(path, "shape"), "unknown shape %q (want %s)%s", v, strings.Join(Shapes, ", "), suggest(v, Shapes))
				good = false
			}
		} else {
			good = false
		}
	}
	if ce, ok := m.get("count"); ok {
		lo, hi := int64(1), int64(MaxTopologyCount)
		switch t.Shape {
		case ShapeRing:
			lo = MinRingCount
		case ShapeMesh:
			lo, hi = MinMeshCount, MaxMeshCount
		case "":
			hi = maxInt // unknown shape: no bound to judge against
		}
		v, ok := d.integer(ce.val, join(path, "count"), lo, hi)
		if ok && t.Shape != "" {
			t.Count = int(v)
		} else {
			good = false
		}
	}
	if ne, ok := m.get("name"); ok {
		if v, ok := d.str(ne.val, join(path, "name")); ok {
			if err := checkPattern(v); err != nil {
				d.add(ne.val, join(path, "name"), "%v", err)
				good = false
			} else {
				t.Pattern = v
			}
		} else {
			good = false
		}
	}
	hubSpec := s.Defaults
	if he, ok := m.get("hub"); ok {
		if t.Shape != "" && t.Shape != ShapeHubAndSpokes {
			d.add(he.key, path, "hub is only for shape %s, not %s", ShapeHubAndSpokes, t.Shape)
		} else if hm, ok := d.mapping(he.val, join(path, "hub"), mtaKeys); ok {
			t.Hub = DefaultHubName
			if ne, ok := hm.get("name"); ok {
				if v, ok := d.str(ne.val, join(path, "hub.name")); ok {
					if !mtaNameRE.MatchString(v) {
						d.add(ne.val, join(path, "hub.name"), "invalid MTA name %q (want letters, digits, '_', '-')", v)
					}
					t.Hub = v
				}
			}
			d.mtaFields(&hubSpec, hm)
		}
	} else if t.Shape == ShapeHubAndSpokes {
		t.Hub = DefaultHubName
	}
	each := s.Defaults
	var eachBuild *entry
	if ee, ok := m.get("each"); ok {
		if em, ok := d.mapping(ee.val, join(path, "each"), eachKeys); ok {
			d.mtaFields(&each, em)
			for _, k := range []string{"build", "mode"} {
				if b, ok := em.get(k); ok {
					eachBuild = &b
				}
			}
		}
	}
	if be, ok := m.get("builds"); ok {
		bp := join(path, "builds")
		if eachBuild != nil {
			d.add(be.key, path, "set builds or each.%s (line %d), not both", eachBuild.key.Value, eachBuild.key.Line)
		} else if items, ok := d.sequence(be.val, bp); ok {
			if len(items) == 0 {
				d.add(be.val, bp, "empty list")
			}
			for i, n := range items {
				v, ok := d.str(n, index(bp, i))
				if !ok {
					continue
				}
				b, ok := kernel.LookupBuild(v)
				if !ok {
					d.add(n, index(bp, i), "unknown build %q (want one of %s)", v, strings.Join(BuildNames(), ", "))
					continue
				}
				t.Builds = append(t.Builds, b.Name)
			}
		}
	}
	if te, ok := m.get("traffic"); ok {
		ts.traffic = &te
	}
	if fe, ok := m.get("faults"); ok {
		ts.faults = &fe
	}
	d.topo = ts
	if d.mtaLines == nil {
		d.mtaLines = map[string]int{}
	}
	if d.links == nil {
		d.links = map[string]bool{}
	}
	s.Topology = t
	if !good {
		return
	}
	// The MTAs: the hub first, then the pattern's names.
	add := func(spec MTASpec, n *yaml.Node, key string) bool {
		if first, dup := d.mtaLines[spec.Name]; dup {
			d.add(n, key, "the topology generates MTA name %q twice (first at line %d)", spec.Name, first)
			return false
		}
		spec.Line = e.key.Line
		d.mtaLines[spec.Name] = e.key.Line
		d.mtaNames = append(d.mtaNames, spec.Name)
		ts.names[spec.Name] = true
		s.MTAs = append(s.MTAs, spec)
		return true
	}
	if t.Hub != "" {
		hubSpec.Name = t.Hub
		add(hubSpec, e.key, path)
	}
	ne, _ := m.get("name")
	for i := range t.Count {
		name := fmt.Sprintf(t.Pattern, i+1)
		if !mtaNameRE.MatchString(name) {
			d.add(ne.val, join(path, "name"), "pattern %q names MTA %d %q, an invalid MTA name (want letters, digits, '_', '-')", t.Pattern, i+1, name)
			return
		}
		spec := each
		spec.Name = name
		if b := t.Build(i); b != "" {
			bi, _ := kernel.LookupBuild(b)
			spec.Build, spec.Mode = bi.Name, modeOf(bi)
		}
		if !add(spec, ne.val, join(path, "name")) {
			return
		}
		t.Names = append(t.Names, name)
	}
	for _, l := range t.links() {
		l.Line = e.key.Line
		d.links[l.String()] = true
		s.Links = append(s.Links, l)
	}
}

// links returns the shape's links, each pair both ways.
func (t *Topology) links() []Link {
	var out []Link
	both := func(a, b string) { out = append(out, Link{From: a, To: b}, Link{From: b, To: a}) }
	switch t.Shape {
	case ShapeHubAndSpokes:
		for _, n := range t.Names {
			both(n, t.Hub)
		}
	case ShapeRing:
		for i, n := range t.Names {
			both(n, t.Names[(i+1)%len(t.Names)])
		}
	case ShapeMesh:
		for i, a := range t.Names {
			for _, b := range t.Names[i+1:] {
				both(a, b)
			}
		}
	}
	return out
}

// flows returns the (from, to) pairs the traffic template is sent over.
func (t *Topology) flows() [][2]string {
	var out [][2]string
	for i, n := range t.Names {
		switch t.Shape {
		case ShapeHubAndSpokes:
			out = append(out, [2]string{n, t.Hub})
		case ShapeRing:
			out = append(out, [2]string{n, t.Names[(i+1)%len(t.Names)]})
		case ShapeMesh:
			for _, b := range t.Names {
				if b != n {
					out = append(out, [2]string{n, b})
				}
			}
		}
	}
	return out
}

// topoTraffic expands the topology's traffic template.
func (d *decoder) topoTraffic(s *Scenario) []Traffic {
	ts := d.topo
	if ts.traffic == nil {
		return s.Traffic
	}
	const path = "topology.traffic"
	m, ok := d.mapping(ts.traffic.val, path, templateKeys)
	if !ok {
		return s.Traffic
	}
	if m.node.Kind != yaml.MappingNode {
		m.node = ts.traffic.key
	}
	if !d.require(m, "messages") {
		return s.Traffic
	}
	tpl := Traffic{Size: DefaultTrafficSize, Line: ts.traffic.key.Line}
	before := len(d.probs)
	d.trafficFields(&tpl, m, path)
	if len(d.probs) > before {
		return s.Traffic
	}
	out := s.Traffic
	for _, f := range ts.t.flows() {
		t := tpl
		t.From, t.To = f[0], f[1]
		out = append(out, t)
	}
	return out
}

// topoFaults expands the topology's fault templates: each onto every link
// the topology generated, in link order.
func (d *decoder) topoFaults(s *Scenario) []Fault {
	ts := d.topo
	if ts.faults == nil {
		return s.Faults
	}
	const path = "topology.faults"
	items, ok := d.sequence(ts.faults.val, path)
	if !ok {
		return s.Faults
	}
	links := ts.t.links()
	probe := Link{From: "?", To: "?"}
	if len(links) > 0 {
		probe = links[0]
	}
	out := s.Faults
	var tpls []Fault
	for i, n := range items {
		p := index(path, i)
		if m, ok := d.mapping(n, p, nil); ok {
			for _, k := range []string{"link", "links"} {
				if e, ok := m.get(k); ok {
					d.add(e.key, p, "%s is set per link by the topology: leave it out of a fault template", k)
				}
			}
		}
		d.faultLink = &probe
		f, ok := d.fault(n, p)
		d.faultLink = nil
		if ok {
			tpls = append(tpls, f)
		}
	}
	for _, l := range links {
		for _, tpl := range tpls {
			f := tpl
			f.Link, f.From, f.To = l.String(), l.From, l.To
			f.Params = maps.Clone(tpl.Params)
			out = append(out, f)
		}
	}
	return out
}

// selectBuild reads `build:` of an expectation: it narrows the MTAs mta
// selects to those of one build, which must select at least one.
func (d *decoder) selectBuild(m *mapping, path, mta string) string {
	e, ok := m.get("build")
	if !ok {
		return ""
	}
	v, ok := d.str(e.val, join(path, "build"))
	if !ok {
		return ""
	}
	b, ok := kernel.LookupBuild(v)
	if !ok {
		d.add(e.val, join(path, "build"), "unknown build %q (want one of %s)", v, strings.Join(BuildNames(), ", "))
		return ""
	}
	switch got, known := d.mtaBuild[mta]; {
	case mta == "*":
		n := 0
		for _, bn := range d.mtaBuild {
			if bn == b.Name {
				n++
			}
		}
		if n == 0 && len(d.mtaBuild) > 0 {
			d.add(e.val, join(path, "build"), "no MTA runs build %s", b.Name)
		}
	case known && got != b.Name:
		d.add(e.val, join(path, "build"), "MTA %s runs build %s, not %s", mta, got, b.Name)
	}
	return b.Name
}

// Selects reports whether the expectation selector (mta, build) selects
// the MTA m: mta is its name or "*", and build (when set) its build.
func Selects(mta, build string, m MTASpec) bool {
	return (mta == "*" || mta == m.Name) && (build == "" || build == m.BuildName())
}

// Expansion is a scenario with a topology as the loader resolved it: every
// MTA, link, traffic item and fault, the topology's and the file's own.
// A bundle's schedule.json records it beside the toggles (key "topology"),
// while its scenario.yaml keeps the short form.
type Expansion struct {
	Shape   string            `json:"shape"`
	Count   int               `json:"count"`
	Pattern string            `json:"name"`
	Hub     string            `json:"hub,omitempty"`
	MTAs    []ExpandedMTA     `json:"mtas"`
	Links   []string          `json:"links"`
	Traffic []ExpandedTraffic `json:"traffic,omitempty"`
	Faults  []ExpandedFault   `json:"faults,omitempty"`
}

// ExpandedMTA is one MTA of an Expansion.
type ExpandedMTA struct {
	Name   string `json:"name"`
	Build  string `json:"build"`
	KCBs   int    `json:"kcbs"`
	Window int    `json:"window"`
}

// ExpandedTraffic is one traffic item of an Expansion.
type ExpandedTraffic struct {
	From     string  `json:"from"`
	To       string  `json:"to"`
	Messages int     `json:"messages"`
	Size     int     `json:"size"`
	Rate     float64 `json:"rate,omitempty"`
	Start    string  `json:"start"`
}

// ExpandedFault is one fault of an Expansion: Index is its place in the
// schedule's toggles' "fault".
type ExpandedFault struct {
	Index int    `json:"index"`
	Link  string `json:"link,omitempty"`
	Type  string `json:"type"`
	At    string `json:"at"`
	Until string `json:"until,omitempty"`
}

// Expansion returns what the scenario's topology expanded into, or nil
// when it has none.
func (s *Scenario) Expansion() *Expansion {
	t := s.Topology
	if t == nil {
		return nil
	}
	x := &Expansion{Shape: t.Shape, Count: t.Count, Pattern: t.Pattern, Hub: t.Hub, Links: []string{}}
	for _, m := range s.MTAs {
		x.MTAs = append(x.MTAs, ExpandedMTA{Name: m.Name, Build: m.BuildName(), KCBs: m.KCBs, Window: m.Window})
	}
	for _, l := range s.Links {
		x.Links = append(x.Links, l.String())
	}
	for _, tr := range s.Traffic {
		x.Traffic = append(x.Traffic, ExpandedTraffic{From: tr.From, To: tr.To, Messages: tr.Messages, Size: tr.Size, Rate: tr.Rate, Start: tr.Start.String()})
	}
	for i, f := range s.Faults {
		ef := ExpandedFault{Index: i, Link: f.Link, Type: f.Type, At: f.At.String()}
		if f.Until > 0 {
			ef.Until = f.Until.String()
		}
		x.Faults = append(x.Faults, ef)
	}
	return x
}

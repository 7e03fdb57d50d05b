package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Load reads and validates the scenario file at path. Problems in the file
// are returned as one [*Error]; a file that cannot be read gives a wrapped
// I/O error.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadBytes validates a scenario held in memory; name is used in problems
// and as Scenario.File.
func LoadBytes(name string, data []byte) (*Scenario, error) {
	d := &decoder{}
	s := d.load(data)
	if len(d.probs) > 0 {
		e := &Error{File: name, Problems: d.probs}
		e.sort()
		return nil, e
	}
	s.File = name
	s.Raw = bytes.Clone(data)
	return s, nil
}

// Key sets of the mappings in a scenario file.
var (
	topKeys           = []string{"version", "name", "description", "seed", "defaults", "mtas", "links", "traffic", "faults", "actions", "expect", "duration", "capture", "topology"}
	defaultsKeys      = []string{"build", "mode", "defects", "kcbs", "org", "site", "timers", "leak_probability", "extended_events", "window", "admin"}
	mtaKeys           = []string{"name", "build", "mode", "defects", "kcbs", "org", "site", "timers", "leak_probability", "extended_events", "window", "admin"}
	linkKeys          = []string{"from", "to"}
	trafficKeys       = []string{"from", "to", "messages", "size", "rate", "start", "priority"}
	actionKeys        = []string{"at", "restart", "stop", "start"}
	expectKeys        = []string{"events", "leaked", "recovery", "delivered"}
	deliveredKeys     = []string{"min", "max", "count"}
	deliveredPairKeys = []string{"from", "to", "min", "max", "count"}
	eventKeys         = []string{"mta", "build", "id", "min", "max", "count"}
	leakKeys          = []string{"mta", "build", "min", "max", "count"}
	recoveryKeys      = []string{"within", "delivered", "kcbs"}
)

var (
	scenarioNameRE = regexp.MustCompile(`^[a-z0-9._-]+$`)
	mtaNameRE      = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	syntaxLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
)

// decoder walks a yaml.Node tree and collects problems.
type decoder struct {
	probs []Problem

	duration   time.Duration
	durationOK bool
	mtaLines   map[string]int  // declared MTA name -> line
	mtaNames   []string        // declared MTA names, in order
	links      map[string]bool // declared "A->B"
	// topo is the topology: shorthand being expanded (nil: none); the
	// names and links it generated are in mtaLines and links too.
	topo *topoState
	// mtaBuild is each declared MTA's build (for expect's build:).
	mtaBuild map[string]string
	// faultLink, when set, is the link a fault template is read for (a
	// topology's faults: list, which names no link of its own).
	faultLink *Link
}

func (d *decoder) add(n *yaml.Node, key, format string, args ...any) {
	p := Problem{Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	d.probs = append(d.probs, p)
}

func (d *decoder) load(data []byte) *Scenario {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.add(nil, "", "empty scenario")
		} else {
			d.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.add(&extra, "", "more than one YAML document")
		return nil
	case !errors.Is(err, io.EOF):
		d.syntax(err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		d.add(nil, "", "empty scenario")
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		d.add(nil, "", "empty scenario")
		return nil
	}
	return d.scenario(root)
}

func (d *decoder) syntax(err error) {
	msg := err.Error()
	if m := syntaxLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		d.probs = append(d.probs, Problem{Line: line, Msg: "syntax error: " + m[2]})
		return
	}
	d.probs = append(d.probs, Problem{Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")})
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// entry is one key: value pair of a mapping.
type entry struct {
	key, val *yaml.Node
}

// mapping is a checked mapping node: keys unique and (when a key set was
// given) known.
type mapping struct {
	node    *yaml.Node
	path    string
	entries map[string]entry
	order   []string
}

func (m *mapping) get(key string) (entry, bool) {
	e, ok := m.entries[key]
	return e, ok
}

func (m *mapping) has(key string) bool {
	_, ok := m.entries[key]
	return ok
}

// mapping checks that n is a mapping (null counts as empty), reports
// duplicate keys and, when allowed is not nil, unknown keys.
func (d *decoder) mapping(n *yaml.Node, path string, allowed []string) (*mapping, bool) {
	n = deref(n)
	m := &mapping{node: n, path: path, entries: map[string]entry{}}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return m, true
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "want a mapping, got %s", kindName(n))
		return nil, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.add(k, path, "mapping key must be a plain name, got %s", kindName(k))
			continue
		}
		name := k.Value
		if name == "<<" {
			d.add(k, path, "merge keys (<<) are not supported")
			continue
		}
		if prev, dup := m.entries[name]; dup {
			d.add(k, path, "duplicate key %q (first at line %d)", name, prev.key.Line)
			continue
		}
		if allowed != nil && !slices.Contains(allowed, name) {
			d.add(k, path, "unknown key %q%s", name, suggest(name, allowed))
			continue
		}
		m.entries[name] = entry{key: k, val: v}
		m.order = append(m.order, name)
	}
	return m, true
}

// require reports each missing key.
func (d *decoder) require(m *mapping, keys ...string) bool {
	ok := true
	for _, k := range keys {
		if !m.has(k) {
			d.add(m.node, m.path, "missing required key %q", k)
			ok = false
		}
	}
	return ok
}

// sequence checks that n is a list (null counts as empty).
func (d *decoder) sequence(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.add(n, path, "want a list, got %s", kindName(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// scalar returns the text of a single-value node.
func (d *decoder) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.add(n, path, "want a single value, got %s", kindName(n))
		return "", false
	}
	if n.Tag == "!!null" {
		d.add(n, path, "missing value")
		return "", false
	}
	return n.Value, true
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	s, ok := d.scalar(n, path)
	if ok && strings.TrimSpace(s) == "" {
		d.add(n, path, "empty value")
		return "", false
	}
	return s, ok
}

func (d *decoder) integer(n *yaml.Node, path string, lo, hi int64) (int64, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		d.add(n, path, "invalid integer %q", s)
		return 0, false
	}
	if v < lo || v > hi {
		d.add(n, path, "%s", rangeMsg(v, lo, hi))
		return 0, false
	}
	return v, true
}

func rangeMsg(v, lo, hi int64) string {
	switch hi {
	case maxInt:
		return fmt.Sprintf("must be at least %d, got %d", lo, v)
	default:
		return fmt.Sprintf("must be between %d and %d, got %d", lo, hi, v)
	}
}

const maxInt = int64(^uint64(0) >> 1)

func (d *decoder) float(n *yaml.Node, path string) (float64, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f != f {
		d.add(n, path, "invalid number %q", s)
		return 0, false
	}
	return f, true
}

func (d *decoder) boolean(n *yaml.Node, path string) (bool, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.add(n, path, "invalid boolean %q (want true or false)", s)
	return false, false
}

// dur parses a duration; positive requires > 0.
func (d *decoder) dur(n *yaml.Node, path string, positive bool) (time.Duration, bool) {
	s, ok := d.scalar(n, path)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.add(n, path, "%v", err)
		return 0, false
	}
	if positive && v == 0 {
		d.add(n, path, "must be greater than 0")
		return 0, false
	}
	return v, true
}

// notAfterEnd reports a start offset beyond the run duration.
func (d *decoder) notAfterEnd(n *yaml.Node, path, what string, at time.Duration) {
	if d.durationOK && at > d.duration {
		d.add(n, path, "%s %v is after the run duration %v", what, at, d.duration)
	}
}

// mtaRef checks a reference to a declared MTA; star allows "*".
func (d *decoder) mtaRef(n *yaml.Node, path string, star bool) (string, bool) {
	s, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	if star && s == "*" {
		return s, true
	}
	if _, ok := d.mtaLines[s]; !ok {
		if d.mtaLines != nil { // only when mtas itself was readable
			d.add(n, path, "unknown MTA %q%s", s, d.declared(s))
		}
		return s, false
	}
	return s, true
}

func (d *decoder) declared(s string) string {
	if h := suggest(s, d.mtaNames); h != "" {
		return h
	}
	if len(d.mtaNames) > 0 && len(d.mtaNames) <= 8 {
		return " (declared: " + strings.Join(d.mtaNames, ", ") + ")"
	}
	return ""
}

func (d *decoder) scenario(root *yaml.Node) *Scenario {
	s := &Scenario{Duration: DefaultDuration, Defaults: BuiltinDefaults()}
	top, ok := d.mapping(root, "", topKeys)
	if !ok {
		return nil
	}
	if top.node.Kind != yaml.MappingNode {
		d.add(nil, "", "empty scenario")
		return nil
	}
	d.require(top, "version", "name")
	if !top.has("mtas") && !top.has("topology") {
		d.add(top.node, "", "missing required key %q (or topology)", "mtas")
	}

	if e, ok := top.get("version"); ok {
		if v, ok := d.integer(e.val, "version", 0, maxInt); ok {
			if v != 1 {
				d.add(e.val, "version", "unsupported version %d (want 1)", v)
			}
			s.Version = int(v)
		}
	}
	if e, ok := top.get("name"); ok {
		if v, ok := d.str(e.val, "name"); ok {
			switch {
			case !scenarioNameRE.MatchString(v):
				d.add(e.val, "name", "invalid name %q (want lower-case letters, digits, '.', '_', '-')", v)
			case strings.Trim(v, ".") == "":
				// The name names bundle folders: "." or ".." would be a path.
				d.add(e.val, "name", "invalid name %q (want at least one letter, digit, '_' or '-')", v)
			}
			s.Name = v
		}
	}
	if e, ok := top.get("description"); ok {
		if v, ok := d.scalar(e.val, "description"); ok {
			s.Description = v
		}
	}
	if e, ok := top.get("seed"); ok {
		if v, ok := d.integer(e.val, "seed", -maxInt-1, maxInt); ok {
			s.Seed = v
		}
	}
	d.duration, d.durationOK = s.Duration, true
	if e, ok := top.get("duration"); ok {
		v, ok := d.dur(e.val, "duration", true)
		if ok {
			s.Duration = v
		}
		d.duration, d.durationOK = s.Duration, ok
	}
	if e, ok := top.get("defaults"); ok {
		if m, ok := d.mapping(e.val, "defaults", defaultsKeys); ok {
			if a, ok := m.get("admin"); ok {
				d.add(a.key, "defaults", "admin can only be set per MTA")
				delete(m.entries, "admin")
			}
			d.mtaFields(&s.Defaults, m)
			s.Defaults.Line = e.key.Line
		}
	}
	if e, ok := top.get("topology"); ok {
		d.topology(e, s)
	}
	if e, ok := top.get("mtas"); ok {
		s.MTAs = append(s.MTAs, d.mtas(e, s.Defaults)...)
	}
	d.mtaBuild = map[string]string{}
	for _, m := range s.MTAs {
		d.mtaBuild[m.Name] = m.BuildName()
	}
	if e, ok := top.get("links"); ok {
		s.Links = append(s.Links, d.linkList(e.val)...)
	}
	if d.topo != nil {
		s.Traffic = d.topoTraffic(s)
	}
	if e, ok := top.get("traffic"); ok {
		s.Traffic = append(s.Traffic, d.traffic(e.val)...)
	}
	if d.topo != nil {
		s.Faults = d.topoFaults(s)
	}
	if e, ok := top.get("faults"); ok {
		s.Faults = append(s.Faults, d.faults(e.val)...)
	}
	if e, ok := top.get("actions"); ok {
		s.Actions = d.actions(e.val)
	}
	if e, ok := top.get("expect"); ok {
		s.Expect = d.expect(e.val, s.Traffic)
	}
	if e, ok := top.get("capture"); ok {
		s.Capture, _ = d.boolean(e.val, "capture")
	}
	return s
}

// mtaFields applies the MTA keys present in m over spec.
func (d *decoder) mtaFields(spec *MTASpec, m *mapping) {
	p := m.path
	d.build(spec, m)
	if e, ok := m.get("kcbs"); ok {
		if v, ok := d.integer(e.val, join(p, "kcbs"), MinKCBs, MaxKCBs); ok {
			spec.KCBs = int(v)
		}
	}
	for _, k := range []string{"org", "site"} {
		e, ok := m.get(k)
		if !ok {
			continue
		}
		v, ok := d.str(e.val, join(p, k))
		if !ok {
			continue
		}
		if strings.ContainsAny(v, "/=") {
			d.add(e.val, join(p, k), "invalid %s %q (no '/' or '=')", k, v)
			continue
		}
		if k == "org" {
			spec.Org = v
		} else {
			spec.Site = v
		}
	}
	if e, ok := m.get("timers"); ok {
		tp := join(p, "timers")
		if tm, ok := d.mapping(e.val, tp, kernel.TimerKeys); ok {
			for _, k := range kernel.TimerKeys {
				if te, ok := tm.get(k); ok {
					if v, ok := d.dur(te.val, join(tp, k), true); ok {
						*spec.Timers.Field(k) = v
					}
				}
			}
		}
	}
	if e, ok := m.get("leak_probability"); ok {
		if v, ok := d.float(e.val, join(p, "leak_probability")); ok {
			if v < 0 || v > 1 {
				d.add(e.val, join(p, "leak_probability"), "must be between 0 and 1, got %v", v)
			} else {
				spec.LeakProbability = v
			}
		}
	}
	if e, ok := m.get("extended_events"); ok {
		if v, ok := d.boolean(e.val, join(p, "extended_events")); ok {
			spec.ExtendedEvents = v
		}
	}
	if e, ok := m.get("window"); ok {
		if v, ok := d.integer(e.val, join(p, "window"), 1, MaxWindow); ok {
			spec.Window = int(v)
		}
	}
	if e, ok := m.get("admin"); ok {
		if v, ok := d.str(e.val, join(p, "admin")); ok {
			if err := checkAdmin(v); err != nil {
				d.add(e.val, join(p, "admin"), "%v", err)
			} else {
				spec.Admin = v
			}
		}
	}
}

// build reads `build:`, its alias `mode:` and `defects:` over spec. Both
// build and mode given and naming different builds is an error; so is an
// unknown build, mode or KB id, or a KB id listed twice.
func (d *decoder) build(spec *MTASpec, m *mapping) {
	p := m.path
	var fromMode, fromBuild *kernel.BuildInfo
	if e, ok := m.get("mode"); ok {
		if v, ok := d.str(e.val, join(p, "mode")); ok {
			if b, ok := kernel.LookupBuild(v); ok && slices.Contains(Modes, v) {
				fromMode = &b
			} else {
				if b, ok := kernel.LookupBuild(v); ok {
					d.add(e.val, join(p, "mode"), "invalid mode %q (want sp0 or sp2; write build: %s)", v, b.Name)
				} else {
					d.add(e.val, join(p, "mode"), "invalid mode %q (want sp0 or sp2)", v)
				}
			}
		}
	}
	if e, ok := m.get("build"); ok {
		if v, ok := d.str(e.val, join(p, "build")); ok {
			if b, ok := kernel.LookupBuild(v); ok {
				fromBuild = &b
				if fromMode != nil && fromMode.Name != b.Name {
					me, _ := m.get("mode")
					d.add(e.val, join(p, "build"), "build %q disagrees with mode %s on line %d (mode %s is build %s)", v, fromMode.Alias, me.key.Line, fromMode.Alias, fromMode.Name)
				}
			} else {
				d.add(e.val, join(p, "build"), "unknown build %q (want one of %s)", v, strings.Join(BuildNames(), ", "))
			}
		}
	}
	switch {
	case fromBuild != nil:
		spec.Build, spec.Mode = fromBuild.Name, modeOf(*fromBuild)
	case fromMode != nil:
		spec.Build, spec.Mode = fromMode.Name, modeOf(*fromMode)
	}
	if e, ok := m.get("defects"); ok {
		path := join(p, "defects")
		items, ok := d.sequence(e.val, path)
		if !ok {
			return
		}
		set := []string{}
		for i, n := range items {
			v, ok := d.str(n, index(path, i))
			if !ok {
				continue
			}
			def, ok := kernel.LookupDefect(v)
			switch {
			case !ok:
				d.add(n, index(path, i), "unknown defect %q (want one of %s)", v, strings.Join(DefectKBs(), ", "))
			case slices.Contains(set, def.KB):
				d.add(n, index(path, i), "defect %s listed twice", def.KB)
			default:
				set = append(set, def.KB)
			}
		}
		spec.Defects, spec.OverrideDefects = set, true
	}
}

// BuildNames lists the builds a scenario may name, with their aliases.
func BuildNames() []string {
	var out []string
	for _, b := range kernel.Builds() {
		if b.Alias != "" {
			out = append(out, b.Name+" ("+b.Alias+")")
		} else {
			out = append(out, b.Name)
		}
	}
	return out
}

// DefectKBs lists the KB ids of the defects a scenario may name.
func DefectKBs() []string {
	var out []string
	for _, d := range kernel.Defects() {
		out = append(out, d.KB)
	}
	return out
}

// checkAdmin validates an "http://HOST:PORT" URL.
func checkAdmin(s string) error {
	bad := fmt.Errorf("invalid admin URL %q (want http://HOST:PORT)", s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return bad
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > 65535 {
		return bad
	}
	return nil
}

func (d *decoder) mtas(e entry, defaults MTASpec) []MTASpec {
	items, ok := d.sequence(e.val, "mtas")
	if !ok {
		return nil
	}
	if d.mtaLines == nil {
		d.mtaLines = map[string]int{}
	}
	if len(items) == 0 && d.topo == nil {
		d.add(e.val, "mtas", "at least one MTA is required")
		if e.val.Kind != yaml.SequenceNode {
			d.probs[len(d.probs)-1].Line, d.probs[len(d.probs)-1].Col = e.key.Line, e.key.Column
		}
		return nil
	}
	var out []MTASpec
	for i, n := range items {
		path := index("mtas", i)
		m, ok := d.mapping(n, path, mtaKeys)
		if !ok {
			continue
		}
		spec := defaults
		spec.Line = n.Line
		if d.require(m, "name") {
			ne, _ := m.get("name")
			if v, ok := d.str(ne.val, join(path, "name")); ok {
				if !mtaNameRE.MatchString(v) {
					d.add(ne.val, join(path, "name"), "invalid MTA name %q (want letters, digits, '_', '-')", v)
				}
				if first, dup := d.mtaLines[v]; dup && d.topo.generated(v) {
					d.add(ne.val, join(path, "name"), "MTA name %q is one the topology generates (topology at line %d)", v, first)
				} else if dup {
					d.add(ne.val, join(path, "name"), "duplicate MTA name %q (first at line %d)", v, first)
				} else {
					d.mtaLines[v] = ne.val.Line
					d.mtaNames = append(d.mtaNames, v)
				}
				spec.Name = v
			}
		}
		d.mtaFields(&spec, m)
		out = append(out, spec)
	}
	return out
}

func (d *decoder) linkList(n *yaml.Node) []Link {
	items, ok := d.sequence(n, "links")
	if !ok {
		return nil
	}
	if d.links == nil {
		d.links = map[string]bool{}
	}
	seen := map[string]int{}
	var out []Link
	for i, n := range items {
		path := index("links", i)
		m, ok := d.mapping(n, path, linkKeys)
		if !ok || !d.require(m, "from", "to") {
			continue
		}
		fe, _ := m.get("from")
		te, _ := m.get("to")
		from, ok1 := d.mtaRef(fe.val, join(path, "from"), false)
		to, ok2 := d.mtaRef(te.val, join(path, "to"), false)
		if from == "" || to == "" {
			continue
		}
		l := Link{From: from, To: to, Line: n.Line}
		if from == to {
			d.add(te.val, join(path, "to"), "link from %s to itself", from)
			continue
		}
		if first, dup := seen[l.String()]; dup {
			d.add(n, path, "duplicate link %s (first at line %d)", l, first)
			continue
		}
		if d.links[l.String()] {
			d.add(n, path, "duplicate link %s: the topology declares it (topology at line %d)", l, d.topo.line)
			continue
		}
		seen[l.String()] = n.Line
		d.links[l.String()] = true
		if ok1 && ok2 {
			out = append(out, l)
		}
	}
	return out
}

// linkRef checks a reference "A->B" to a declared link.
func (d *decoder) linkRef(n *yaml.Node, path string) (raw, from, to string, ok bool) {
	raw, ok = d.str(n, path)
	if !ok {
		return "", "", "", false
	}
	from, to, ok = ParseLink(raw)
	if !ok {
		d.add(n, path, "invalid link %q (want A->B)", raw)
		return raw, "", "", false
	}
	if !d.links[from+"->"+to] {
		d.add(n, path, "link %s->%s is not declared in links", from, to)
		return raw, from, to, false
	}
	return raw, from, to, true
}

func (d *decoder) traffic(n *yaml.Node) []Traffic {
	items, ok := d.sequence(n, "traffic")
	if !ok {
		return nil
	}
	var out []Traffic
	for i, n := range items {
		path := index("traffic", i)
		m, ok := d.mapping(n, path, trafficKeys)
		if !ok {
			continue
		}
		d.require(m, "from", "to", "messages")
		t := Traffic{Size: DefaultTrafficSize, Line: n.Line}
		var fromOK, toOK bool
		if e, ok := m.get("from"); ok {
			t.From, fromOK = d.mtaRef(e.val, join(path, "from"), false)
		}
		if e, ok := m.get("to"); ok {
			t.To, toOK = d.mtaRef(e.val, join(path, "to"), false)
		}
		if fromOK && toOK && !d.links[t.From+"->"+t.To] {
			d.add(n, path, "no link %s->%s declared in links", t.From, t.To)
		}
		d.trafficFields(&t, m, path)
		out = append(out, t)
	}
	return out
}

// trafficFields reads the keys of a traffic item but from and to over t.
func (d *decoder) trafficFields(t *Traffic, m *mapping, path string) {
	if e, ok := m.get("messages"); ok {
		if v, ok := d.integer(e.val, join(path, "messages"), 1, maxInt); ok {
			t.Messages = int(v)
		}
	}
	if e, ok := m.get("size"); ok {
		if s, ok := d.scalar(e.val, join(path, "size")); ok {
			v, err := ParseSize(s)
			switch {
			case err != nil:
				d.add(e.val, join(path, "size"), "%v", err)
			case v < 1:
				d.add(e.val, join(path, "size"), "must be at least 1B")
			default:
				t.Size = int(v)
			}
		}
	}
	if e, ok := m.get("rate"); ok {
		if s, ok := d.scalar(e.val, join(path, "rate")); ok {
			if v, err := ParseRate(s); err != nil {
				d.add(e.val, join(path, "rate"), "%v", err)
			} else {
				t.Rate = v
			}
		}
	}
	if e, ok := m.get("start"); ok {
		if v, ok := d.dur(e.val, join(path, "start"), false); ok {
			t.Start = v
			d.notAfterEnd(e.val, join(path, "start"), "start", v)
		}
	}
	if e, ok := m.get("priority"); ok {
		if v, ok := d.integer(e.val, join(path, "priority"), 0, maxInt); ok {
			t.Priority = int(v)
		}
	}
}

func (d *decoder) faults(n *yaml.Node) []Fault {
	items, ok := d.sequence(n, "faults")
	if !ok {
		return nil
	}
	var out []Fault
	for i, n := range items {
		if f, ok := d.fault(n, index("faults", i)); ok {
			out = append(out, f)
		}
	}
	return out
}

func (d *decoder) fault(n *yaml.Node, path string) (Fault, bool) {
	m, ok := d.mapping(n, path, nil)
	if !ok {
		return Fault{}, false
	}
	f := Fault{Line: n.Line, Params: map[string]Value{}}
	d.require(m, "at", "type")
	var spec faults.Keys
	known := false
	if e, ok := m.get("type"); ok {
		if v, ok := d.str(e.val, join(path, "type")); ok {
			f.Type = v
			spec, known = faults.Describe(v)
			if !known {
				d.add(e.val, join(path, "type"), "unknown fault type %q%s", v, suggest(v, faults.Types()))
			}
		}
	}
	if known {
		allowed := slices.Clone(faults.CommonKeys)
		for _, p := range spec.Params {
			allowed = append(allowed, p.Key)
		}
		for _, k := range m.order {
			if !slices.Contains(allowed, k) {
				e := m.entries[k]
				d.add(e.key, path, "unknown key %q for fault type %s%s", k, f.Type, suggest(k, allowed))
			}
		}
	}
	atOK := false
	if e, ok := m.get("at"); ok {
		f.At, atOK = d.dur(e.val, join(path, "at"), false)
		if atOK {
			d.notAfterEnd(e.val, join(path, "at"), "at", f.At)
		}
	}
	ue, hasUntil := m.get("until")
	de, hasDur := m.get("duration")
	switch {
	case hasUntil && hasDur:
		d.add(de.key, path, "set until or duration, not both")
	case hasUntil:
		if v, ok := d.dur(ue.val, join(path, "until"), false); ok {
			if atOK && v <= f.At {
				d.add(ue.val, join(path, "until"), "until %v is not after at %v", v, f.At)
			} else {
				f.Until = v
			}
		}
	case hasDur:
		if v, ok := d.dur(de.val, join(path, "duration"), true); ok && atOK {
			f.Until = f.At + v
		}
	}
	if known && spec.MustEnd && !hasUntil && !hasDur {
		d.add(m.node, path, "missing required key \"duration\" (or until) for fault type %s", f.Type)
	}
	if e, ok := m.get("link"); ok {
		f.Link, f.From, f.To, _ = d.linkRef(e.val, join(path, "link"))
	} else if d.faultLink != nil {
		f.Link, f.From, f.To = d.faultLink.String(), d.faultLink.From, d.faultLink.To
	} else if known && !spec.NoLink {
		d.add(m.node, path, "missing required key \"link\"")
	}
	if !known {
		return f, false
	}
	for _, ps := range spec.Params {
		kp := join(path, ps.Key)
		e, ok := m.get(ps.Key)
		if !ok {
			switch {
			case ps.Required:
				d.add(m.node, path, "missing required key %q for fault type %s", ps.Key, f.Type)
			case ps.Default != "":
				v, err := parseParamText(ps, ps.Default)
				if err != nil { // a bug in the fault type's file (TestFaultDefaultsParse)
					panic(fmt.Sprintf("scenario: fault type %s: bad default for %s: %v", f.Type, ps.Key, err))
				}
				f.Params[ps.Key] = v
			}
			continue
		}
		if v, ok := d.param(ps, e.val, kp); ok {
			f.Params[ps.Key] = v
		}
	}
	return f, true
}

// param parses one fault parameter value.
func (d *decoder) param(ps faults.Param, n *yaml.Node, path string) (Value, bool) {
	switch ps.Kind {
	case faults.ParamTypeList, faults.ParamLinkList:
		items, ok := d.sequence(n, path)
		if !ok {
			return Value{}, false
		}
		if len(items) == 0 {
			d.add(n, path, "empty list")
			return Value{}, false
		}
		v := Value{Line: n.Line, Col: n.Column}
		good := true
		seen := map[string]bool{}
		for i, it := range items {
			ip := index(path, i)
			s, ok := d.str(it, ip)
			if !ok {
				good = false
				continue
			}
			if ps.Kind == faults.ParamTypeList {
				if kinds := faults.StormKinds(); !slices.Contains(kinds, s) {
					d.add(it, ip, "invalid fault kind %q (want one of %s)", s, strings.Join(kinds, ", "))
					good = false
					continue
				}
			} else {
				_, from, to, ok := d.linkRef(it, ip)
				if !ok {
					good = false
					continue
				}
				s = from + "->" + to
			}
			if seen[s] {
				d.add(it, ip, "duplicate %q", s)
				good = false
				continue
			}
			seen[s] = true
			v.Strings = append(v.Strings, s)
		}
		return v, good
	}
	s, ok := d.scalar(n, path)
	if !ok {
		return Value{}, false
	}
	v, err := parseParamText(ps, s)
	if err != nil {
		d.add(n, path, "%v", err)
		return Value{}, false
	}
	v.Line, v.Col = n.Line, n.Column
	return v, true
}

// parseParamText parses the text of a scalar parameter.
func parseParamText(ps faults.Param, s string) (Value, error) {
	v := Value{Raw: s}
	t := strings.TrimSpace(s)
	switch ps.Kind {
	case faults.ParamDuration:
		dv, err := ParseDuration(t)
		if err != nil {
			return v, err
		}
		if ps.Positive && dv == 0 {
			return v, errors.New("must be greater than 0")
		}
		if int64(dv) < ps.Min {
			return v, fmt.Errorf("must be at least %v", time.Duration(ps.Min))
		}
		v.Duration = dv
	case faults.ParamInt:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return v, fmt.Errorf("invalid integer %q", s)
		}
		if n < ps.Min {
			return v, fmt.Errorf("must be at least %d, got %d", ps.Min, n)
		}
		v.Int = n
	case faults.ParamFloat:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || f != f {
			return v, fmt.Errorf("invalid number %q", s)
		}
		if ps.Positive && f <= 0 {
			return v, errors.New("must be greater than 0")
		}
		v.Float = f
	case faults.ParamSize:
		n, err := ParseSize(t)
		if err != nil {
			return v, err
		}
		if n < ps.Min {
			return v, fmt.Errorf("must be at least %d bytes, got %d", ps.Min, n)
		}
		v.Size = n
	case faults.ParamRate:
		var f float64
		var err error
		if strings.HasSuffix(t, "/s") {
			f, err = ParseRate(t)
		} else if f, err = strconv.ParseFloat(t, 64); err != nil || f != f || f < 0 {
			err = fmt.Errorf("invalid rate %q (want e.g. 2/s)", s)
		}
		if err != nil {
			return v, err
		}
		if ps.Positive && f <= 0 {
			return v, errors.New("must be greater than 0")
		}
		v.Float = f
	case faults.ParamStream:
		l := strings.ToLower(t)
		if l != "up" && l != "down" && l != "both" {
			return v, fmt.Errorf("invalid stream %q (want up, down or both)", s)
		}
		v.Raw = l
	case faults.ParamUnit:
		u := strings.ReplaceAll(strings.ToUpper(t), "_", "-")
		if units := faults.Units(); !slices.Contains(units, u) {
			return v, fmt.Errorf("unknown unit %q (want one of %s)", s, strings.Join(units, ", "))
		}
		v.Raw = u
	default:
		return v, fmt.Errorf("parameter kind %v needs a list", ps.Kind)
	}
	return v, nil
}

func (d *decoder) actions(n *yaml.Node) []Action {
	items, ok := d.sequence(n, "actions")
	if !ok {
		return nil
	}
	var out []Action
	for i, n := range items {
		path := index("actions", i)
		m, ok := d.mapping(n, path, actionKeys)
		if !ok {
			continue
		}
		a := Action{Line: n.Line}
		good := d.require(m, "at")
		if e, ok := m.get("at"); ok {
			v, ok := d.dur(e.val, join(path, "at"), false)
			if ok {
				a.At = v
				d.notAfterEnd(e.val, join(path, "at"), "at", v)
			}
			good = good && ok
		}
		var ops []string
		for _, k := range m.order {
			if slices.Contains(ActionOps, k) {
				ops = append(ops, k)
			}
		}
		switch len(ops) {
		case 0:
			d.add(m.node, path, "missing operation: one of restart, stop, start")
			good = false
		case 1:
			e := m.entries[ops[0]]
			a.Op = ops[0]
			var ok bool
			a.MTA, ok = d.mtaRef(e.val, join(path, ops[0]), false)
			good = good && ok
		default:
			e := m.entries[ops[1]]
			d.add(e.key, path, "only one of restart, stop, start per action (got %s and %s)", ops[0], ops[1])
			good = false
		}
		if good {
			out = append(out, a)
		}
	}
	return out
}

func (d *decoder) expect(n *yaml.Node, traffic []Traffic) Expect {
	var x Expect
	m, ok := d.mapping(n, "expect", expectKeys)
	if !ok {
		return x
	}
	if e, ok := m.get("events"); ok {
		items, _ := d.sequence(e.val, "expect.events")
		for i, n := range items {
			path := index("expect.events", i)
			em, ok := d.mapping(n, path, eventKeys)
			if !ok {
				continue
			}
			ev := EventExpect{Line: n.Line}
			d.require(em, "mta", "id")
			if e, ok := em.get("mta"); ok {
				ev.MTA, _ = d.mtaRef(e.val, join(path, "mta"), true)
			}
			ev.Build = d.selectBuild(em, path, ev.MTA)
			if e, ok := em.get("id"); ok {
				if v, ok := d.integer(e.val, join(path, "id"), 0, maxInt); ok {
					if !slices.Contains(EventIDs, int(v)) {
						ids := make([]string, len(EventIDs))
						for i, id := range EventIDs {
							ids[i] = strconv.Itoa(id)
						}
						d.add(e.val, join(path, "id"), "unknown event id %d (want one of %s)", v, strings.Join(ids, ", "))
					}
					ev.ID = int(v)
				}
			}
			ev.Min, ev.Max = d.bounds(em, path)
			x.Events = append(x.Events, ev)
		}
	}
	if e, ok := m.get("leaked"); ok {
		items, _ := d.sequence(e.val, "expect.leaked")
		for i, n := range items {
			path := index("expect.leaked", i)
			lm, ok := d.mapping(n, path, leakKeys)
			if !ok {
				continue
			}
			lx := LeakExpect{Line: n.Line}
			d.require(lm, "mta")
			if e, ok := lm.get("mta"); ok {
				lx.MTA, _ = d.mtaRef(e.val, join(path, "mta"), true)
			}
			lx.Build = d.selectBuild(lm, path, lx.MTA)
			lx.Min, lx.Max = d.bounds(lm, path)
			x.Leaked = append(x.Leaked, lx)
		}
	}
	if e, ok := m.get("recovery"); ok {
		x.Recovery = d.recovery(e)
	}
	if e, ok := m.get("delivered"); ok {
		if deref(e.val).Kind == yaml.SequenceNode {
			x.DeliveredPairs = d.deliveredPairs(e, traffic)
		} else {
			x.Delivered = d.delivered(e, traffic)
		}
	}
	return x
}

// delivered reads expect.delivered: bounds on the messages delivered over
// the whole run, which declare a stall. A lower bound above the messages
// the traffic declares could never be met.
func (d *decoder) delivered(e entry, traffic []Traffic) *DeliveredExpect {
	const path = "expect.delivered"
	m, ok := d.mapping(e.val, path, deliveredKeys)
	if !ok {
		return nil
	}
	if m.node.Kind != yaml.MappingNode {
		m.node = e.key
	}
	lo, hi := d.bounds(m, path)
	if lo == nil && hi == nil {
		return nil
	}
	declared := 0
	for _, t := range traffic {
		declared += t.Messages
	}
	if lo != nil && *lo > declared {
		k := "min"
		if m.has("count") {
			k = "count"
		}
		ke, _ := m.get(k)
		d.add(ke.val, join(path, k), "%d is more than the %d messages the traffic declares", *lo, declared)
	}
	return &DeliveredExpect{Min: lo, Max: hi, Line: e.key.Line}
}

// deliveredPairs reads the list form of expect.delivered: per sender and
// receiver pair, bounds on the messages delivered over the whole run. The
// pair must carry traffic, be named once, and a lower bound may not exceed
// what its traffic declares.
func (d *decoder) deliveredPairs(e entry, traffic []Traffic) []DeliveredExpect {
	const path = "expect.delivered"
	items, _ := d.sequence(e.val, path)
	var out []DeliveredExpect
	seen := map[[2]string]int{}
	for i, n := range items {
		p := index(path, i)
		m, ok := d.mapping(n, p, deliveredPairKeys)
		if !ok {
			continue
		}
		if !d.require(m, "from", "to") {
			continue
		}
		fe, _ := m.get("from")
		te, _ := m.get("to")
		from, ok1 := d.mtaRef(fe.val, join(p, "from"), false)
		to, ok2 := d.mtaRef(te.val, join(p, "to"), false)
		lo, hi := d.bounds(m, p)
		if !ok1 || !ok2 || lo == nil && hi == nil {
			continue
		}
		declared := 0
		for _, t := range traffic {
			if t.From == from && t.To == to {
				declared += t.Messages
			}
		}
		k := [2]string{from, to}
		switch {
		case seen[k] > 0:
			d.add(n, p, "pair %s->%s already bounded on line %d", from, to, seen[k])
			continue
		case declared == 0:
			d.add(n, p, "no traffic from %s to %s to bound", from, to)
			continue
		case lo != nil && *lo > declared:
			d.add(n, p, "min %d is more than the %d messages the traffic from %s to %s declares", *lo, declared, from, to)
		}
		seen[k] = n.Line
		out = append(out, DeliveredExpect{From: from, To: to, Min: lo, Max: hi, Line: n.Line})
	}
	return out
}

// bounds reads min, max and count of an expectation.
func (d *decoder) bounds(m *mapping, path string) (lo, hi *int) {
	get := func(k string) *int {
		e, ok := m.get(k)
		if !ok {
			return nil
		}
		v, ok := d.integer(e.val, join(path, k), 0, maxInt)
		if !ok {
			return nil
		}
		n := int(v)
		return &n
	}
	if ce, ok := m.get("count"); ok {
		if m.has("min") || m.has("max") {
			d.add(ce.key, join(path, "count"), "count can't be combined with min or max")
			return nil, nil
		}
		c := get("count")
		if c == nil {
			return nil, nil
		}
		c2 := *c
		return c, &c2
	}
	if !m.has("min") && !m.has("max") {
		d.add(m.node, path, "missing bound: one of min, max or count")
		return nil, nil
	}
	lo, hi = get("min"), get("max")
	if lo != nil && hi != nil && *lo > *hi {
		e, _ := m.get("max")
		d.add(e.val, join(path, "max"), "max %d is less than min %d", *hi, *lo)
	}
	return lo, hi
}

func (d *decoder) recovery(e entry) *Recovery {
	m, ok := d.mapping(e.val, "expect.recovery", recoveryKeys)
	if !ok {
		return nil
	}
	r := &Recovery{Delivered: "all", Line: e.key.Line}
	if m.node.Kind != yaml.MappingNode {
		m.node = e.key
	}
	d.require(m, "within")
	if we, ok := m.get("within"); ok {
		if v, ok := d.dur(we.val, "expect.recovery.within", true); ok {
			r.Within = v
		}
	}
	if de, ok := m.get("delivered"); ok {
		if s, ok := d.str(de.val, "expect.recovery.delivered"); ok {
			if s == "all" {
				r.Delivered = "all"
			} else if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n >= 0 {
				r.Delivered, r.DeliveredCount = strconv.FormatInt(n, 10), int(n)
			} else {
				d.add(de.val, "expect.recovery.delivered", "invalid delivered %q (want all or a count)", s)
			}
		}
	}
	if ke, ok := m.get("kcbs"); ok {
		if s, ok := d.str(ke.val, "expect.recovery.kcbs"); ok {
			if s == "baseline" {
				r.KCBs = s
			} else {
				d.add(ke.val, "expect.recovery.kcbs", "invalid kcbs %q (want baseline)", s)
			}
		}
	}
	return r
}

package scenario

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Marshal renders s as YAML that [Load] accepts (used to write repro.yaml).
//
// It writes from the typed fields, not from Raw or the Line fields, so a
// Scenario built in code can be marshalled. The defaults block is written in
// full; each MTA lists only what differs from it (zero-valued Mode, KCBs,
// Org, Site, Window and timers count as "inherit"). Fault parameters are
// written from the Value field their kind selects; a Params key the fault
// type does not accept is an error. Version 0 is written as 1, Duration 0 is
// left out (10s). A zero Defaults stands for the built-in defaults.
func Marshal(s *Scenario) ([]byte, error) {
	root := mapNode(0)
	version := s.Version
	if version == 0 {
		version = 1
	}
	put(root, "version", intNode(int64(version)))
	put(root, "name", strNode(s.Name))
	if s.Description != "" {
		put(root, "description", strNode(s.Description))
	}
	put(root, "seed", intNode(s.Seed))

	def := BuiltinDefaults()
	if !reflect.DeepEqual(s.Defaults, MTASpec{}) {
		def = withBuiltins(s.Defaults, def)
	}
	dn := mapNode(0)
	putBuild(dn, def, MTASpec{})
	put(dn, "kcbs", intNode(int64(def.KCBs)))
	put(dn, "org", strNode(def.Org))
	put(dn, "site", strNode(def.Site))
	put(dn, "timers", timersNode(def.Timers, Timers{}))
	put(dn, "leak_probability", floatNode(def.LeakProbability))
	put(dn, "extended_events", boolNode(def.ExtendedEvents))
	put(dn, "window", intNode(int64(def.Window)))
	put(root, "defaults", dn)

	mtas := seqNode(0)
	for _, m := range s.MTAs {
		m = withBuiltins(m, def)
		mn := mapNode(0)
		put(mn, "name", strNode(m.Name))
		putBuild(mn, m, def)
		if m.KCBs != def.KCBs {
			put(mn, "kcbs", intNode(int64(m.KCBs)))
		}
		if m.Org != def.Org {
			put(mn, "org", strNode(m.Org))
		}
		if m.Site != def.Site {
			put(mn, "site", strNode(m.Site))
		}
		if m.Timers != def.Timers {
			put(mn, "timers", timersNode(m.Timers, def.Timers))
		}
		if m.LeakProbability != def.LeakProbability {
			put(mn, "leak_probability", floatNode(m.LeakProbability))
		}
		if m.ExtendedEvents != def.ExtendedEvents {
			put(mn, "extended_events", boolNode(m.ExtendedEvents))
		}
		if m.Window != def.Window {
			put(mn, "window", intNode(int64(m.Window)))
		}
		if m.Admin != "" {
			put(mn, "admin", strNode(m.Admin))
		}
		mtas.Content = append(mtas.Content, mn)
	}
	put(root, "mtas", mtas)

	if len(s.Links) > 0 {
		ln := seqNode(0)
		for _, l := range s.Links {
			n := mapNode(yaml.FlowStyle)
			put(n, "from", strNode(l.From))
			put(n, "to", strNode(l.To))
			ln.Content = append(ln.Content, n)
		}
		put(root, "links", ln)
	}

	if len(s.Traffic) > 0 {
		tn := seqNode(0)
		for _, t := range s.Traffic {
			n := mapNode(yaml.FlowStyle)
			put(n, "from", strNode(t.From))
			put(n, "to", strNode(t.To))
			put(n, "messages", intNode(int64(t.Messages)))
			if t.Size != 0 {
				put(n, "size", strNode(FormatSize(int64(t.Size))))
			}
			if t.Rate != 0 {
				put(n, "rate", strNode(FormatRate(t.Rate)))
			}
			put(n, "start", durNode(t.Start))
			if t.Priority != 0 {
				put(n, "priority", intNode(int64(t.Priority)))
			}
			tn.Content = append(tn.Content, n)
		}
		put(root, "traffic", tn)
	}

	if len(s.Faults) > 0 {
		fn := seqNode(0)
		for i, f := range s.Faults {
			n, err := faultNode(f)
			if err != nil {
				return nil, fmt.Errorf("marshal scenario: faults[%d]: %w", i, err)
			}
			fn.Content = append(fn.Content, n)
		}
		put(root, "faults", fn)
	}

	if len(s.Actions) > 0 {
		an := seqNode(0)
		for i, a := range s.Actions {
			if a.Op != "restart" && a.Op != "stop" && a.Op != "start" {
				return nil, fmt.Errorf("marshal scenario: actions[%d]: unknown op %q", i, a.Op)
			}
			n := mapNode(yaml.FlowStyle)
			put(n, "at", durNode(a.At))
			put(n, a.Op, strNode(a.MTA))
			an.Content = append(an.Content, n)
		}
		put(root, "actions", an)
	}

	x := s.Expect
	if len(x.Events) > 0 || len(x.Leaked) > 0 || x.Recovery != nil || x.Delivered != nil || len(x.DeliveredPairs) > 0 {
		xn := mapNode(0)
		if len(x.Events) > 0 {
			en := seqNode(0)
			for _, e := range x.Events {
				n := mapNode(yaml.FlowStyle)
				put(n, "mta", strNode(e.MTA))
				if e.Build != "" {
					put(n, "build", strNode(e.Build))
				}
				put(n, "id", intNode(int64(e.ID)))
				putBounds(n, e.Min, e.Max)
				en.Content = append(en.Content, n)
			}
			put(xn, "events", en)
		}
		if len(x.Leaked) > 0 {
			ln := seqNode(0)
			for _, e := range x.Leaked {
				n := mapNode(yaml.FlowStyle)
				put(n, "mta", strNode(e.MTA))
				if e.Build != "" {
					put(n, "build", strNode(e.Build))
				}
				putBounds(n, e.Min, e.Max)
				ln.Content = append(ln.Content, n)
			}
			put(xn, "leaked", ln)
		}
		if r := x.Recovery; r != nil {
			n := mapNode(yaml.FlowStyle)
			put(n, "within", durNode(r.Within))
			if r.All() {
				put(n, "delivered", strNode("all"))
			} else {
				put(n, "delivered", intNode(int64(r.DeliveredCount)))
			}
			if r.KCBs != "" {
				put(n, "kcbs", strNode(r.KCBs))
			}
			put(xn, "recovery", n)
		}
		if dx := x.Delivered; dx != nil {
			n := mapNode(yaml.FlowStyle)
			putBounds(n, dx.Min, dx.Max)
			put(xn, "delivered", n)
		}
		if len(x.DeliveredPairs) > 0 {
			ln := seqNode(0)
			for _, dx := range x.DeliveredPairs {
				n := mapNode(yaml.FlowStyle)
				put(n, "from", strNode(dx.From))
				put(n, "to", strNode(dx.To))
				putBounds(n, dx.Min, dx.Max)
				ln.Content = append(ln.Content, n)
			}
			put(xn, "delivered", ln)
		}
		put(root, "expect", xn)
	}
	if s.Capture {
		put(root, "capture", boolNode(true))
	}
	if s.Duration != 0 {
		put(root, "duration", durNode(s.Duration))
	}

	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("marshal scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal scenario: %w", err)
	}
	return buf.Bytes(), nil
}

// putBuild writes m's build (as `mode:` where it has an alias, the form
// older files use, else `build:`) and its defect override, leaving out
// what equals base.
func putBuild(n *yaml.Node, m, base MTASpec) {
	if name := m.BuildName(); base.Build == "" || name != base.BuildName() {
		if b, ok := kernel.LookupBuild(name); ok && b.Alias != "" {
			put(n, "mode", strNode(b.Alias))
		} else {
			put(n, "build", strNode(name))
		}
	}
	if m.OverrideDefects && (!base.OverrideDefects || !slices.Equal(m.Defects, base.Defects)) {
		dn := seqNode(yaml.FlowStyle)
		for _, kb := range m.Defects {
			dn.Content = append(dn.Content, strNode(kb))
		}
		put(n, "defects", dn)
	}
}

// withBuiltins fills the zero-valued fields of m from def ("inherit").
func withBuiltins(m, def MTASpec) MTASpec {
	if m.Build == "" && m.Mode == "" {
		m.Build, m.Mode = def.BuildName(), def.Mode
	} else {
		m.Build = m.BuildName()
	}
	if !m.OverrideDefects && def.OverrideDefects {
		m.Defects, m.OverrideDefects = def.Defects, true
	}
	if m.KCBs == 0 {
		m.KCBs = def.KCBs
	}
	if m.Org == "" {
		m.Org = def.Org
	}
	if m.Site == "" {
		m.Site = def.Site
	}
	if m.Window == 0 {
		m.Window = def.Window
	}
	for _, k := range kernel.TimerKeys {
		if p := m.Timers.Field(k); *p == 0 {
			*p = *def.Timers.Field(k)
		}
	}
	return m
}

func faultNode(f Fault) (*yaml.Node, error) {
	spec, ok := faults.Describe(f.Type)
	if !ok {
		return nil, fmt.Errorf("unknown fault type %q", f.Type)
	}
	for k := range f.Params {
		if _, ok := spec.Param(k); !ok && k != "duration" {
			return nil, fmt.Errorf("fault type %s has no parameter %q", f.Type, k)
		}
	}
	n := mapNode(yaml.FlowStyle)
	put(n, "at", durNode(f.At))
	link := f.Link
	if link == "" && f.From != "" && f.To != "" {
		link = f.From + "->" + f.To
	}
	if link != "" {
		put(n, "link", strNode(link))
	}
	put(n, "type", strNode(f.Type))
	if d, ok := f.Params["duration"]; ok {
		if f.Until != 0 {
			return nil, fmt.Errorf("both until and a duration parameter set")
		}
		put(n, "duration", durNode(d.Duration))
	}
	for _, ps := range spec.Params {
		v, ok := f.Params[ps.Key]
		if !ok {
			continue
		}
		put(n, ps.Key, valueNode(ps.Kind, v))
	}
	if f.Until != 0 {
		put(n, "until", durNode(f.Until))
	}
	return n, nil
}

func valueNode(k faults.ParamKind, v Value) *yaml.Node {
	switch k {
	case faults.ParamDuration:
		return durNode(v.Duration)
	case faults.ParamInt:
		return intNode(v.Int)
	case faults.ParamFloat:
		return floatNode(v.Float)
	case faults.ParamSize:
		return strNode(FormatSize(v.Size))
	case faults.ParamRate:
		return strNode(FormatRate(v.Float))
	case faults.ParamTypeList, faults.ParamLinkList:
		s := seqNode(yaml.FlowStyle)
		for _, x := range v.Strings {
			s.Content = append(s.Content, strNode(x))
		}
		return s
	}
	return strNode(v.Raw)
}

func putBounds(n *yaml.Node, lo, hi *int) {
	if lo != nil && hi != nil && *lo == *hi {
		put(n, "count", intNode(int64(*lo)))
		return
	}
	if lo != nil {
		put(n, "min", intNode(int64(*lo)))
	}
	if hi != nil {
		put(n, "max", intNode(int64(*hi)))
	}
}

// timersNode renders t, leaving out keys equal to base (all when base is zero).
func timersNode(t, base Timers) *yaml.Node {
	n := mapNode(yaml.FlowStyle)
	for _, k := range kernel.TimerKeys {
		v := *t.Field(k)
		if base != (Timers{}) && v == *base.Field(k) {
			continue
		}
		put(n, k, durNode(v))
	}
	return n
}

func mapNode(style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: style}
}

func seqNode(style yaml.Style) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: style}
}

func put(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, strNode(key), v)
}

func strNode(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func intNode(n int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(n, 10)}
}

func floatNode(f float64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: formatFloat(f)}
}

func boolNode(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(b)}
}

func durNode(d time.Duration) *yaml.Node { return strNode(formatDuration(d)) }

package scenario

import (
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Scenario is a loaded, validated and fully resolved scenario file.
type Scenario struct {
	// Version is the file format version; always 1.
	Version int
	// Name identifies the scenario ([a-z0-9._-]+).
	Name string
	// Description is free text.
	Description string
	// Seed drives every random choice of a run.
	Seed int64
	// Defaults is the defaults block resolved over the built-in defaults.
	Defaults MTASpec
	// MTAs are the declared MTAs, each fully resolved: built-in defaults,
	// then the defaults block, then the MTA's own keys.
	MTAs []MTASpec
	// Links are the declared links.
	Links []Link
	// Traffic is the planned traffic.
	Traffic []Traffic
	// Faults is the fault plan.
	Faults []Fault
	// Actions are the planned MTA restarts, stops and starts.
	Actions []Action
	// Expect holds the expectations the checkers judge.
	Expect Expect
	// Duration is the latest end of a run (default 10s).
	Duration time.Duration
	// Topology is the `topology:` shorthand as written (nil: none); its
	// expansion is already in MTAs, Links, Traffic and Faults.
	Topology *Topology
	// Capture asks for per-link pcapng captures in the bundle (key
	// capture; harness/capture).
	Capture bool
	// File is the path the scenario was loaded from ("" for LoadBytes with
	// an empty name).
	File string
	// Raw is the file as loaded (written to a bundle as scenario.yaml).
	Raw []byte
}

// DefaultDuration is the run duration when the file names none.
const DefaultDuration = 10 * time.Second

// MTA returns the resolved spec of the MTA called name.
func (s *Scenario) MTA(name string) (MTASpec, bool) {
	for _, m := range s.MTAs {
		if m.Name == name {
			return m, true
		}
	}
	return MTASpec{}, false
}

// HasLink reports whether the link from->to is declared.
func (s *Scenario) HasLink(from, to string) bool {
	for _, l := range s.Links {
		if l.From == from && l.To == to {
			return true
		}
	}
	return false
}

// Timers are an MTA's kernel timers (DESIGN.md section 3): the kernel's
// own type, so the scenario and the stub cannot disagree on them. Their keys
// in a file are kernel.TimerKeys.
type Timers = kernel.Timers

// DefaultTimers returns the kernel's test-scale timer defaults
// (kernel.DefaultTimers).
func DefaultTimers() Timers { return kernel.DefaultTimers() }

// Built-in MTA defaults.
const (
	DefaultMode            = "sp2"
	DefaultBuild           = kernel.DefaultBuild
	DefaultKCBs            = 8
	MinKCBs                = 2
	MaxKCBs                = 4096
	DefaultOrg             = "ORG"
	DefaultSite            = "SITE"
	DefaultLeakProbability = 1.0
	DefaultWindow          = 4
	MaxWindow              = 255
)

// Modes are the aliases `mode:` accepts: sp0 (build 4.0) and sp2 (4.0-sp2).
var Modes = []string{"sp0", "sp2"}

// MTASpec is the resolved configuration of one MTA (or of the defaults block).
type MTASpec struct {
	// Name is the MTA's name ([A-Za-z0-9_-]+); empty for the defaults block.
	Name string
	// Build is the MTA's build, by its name in kernel.Builds ("4.0",
	// "4.0-sp2", "5.5-sp2", ...; default 4.0-sp2). A file may name it by
	// `build:` or by the old alias `mode: sp0|sp2`.
	Build string
	// Mode mirrors Build for readers of the old field: the build's alias
	// (sp0, sp2), or its name when it has none. A spec built in code may
	// set Mode alone; BuildName resolves it.
	Mode string
	// Defects, when OverrideDefects is set (`defects:` in the file), is the
	// defect set instead of the build's own: KB ids, catalogue order.
	Defects []string
	// OverrideDefects is set by `defects:`, even an empty list.
	OverrideDefects bool
	// KCBs is the pool size, listener included (default 8, 2..4096).
	KCBs int
	// Org and Site form the MTA's DN (default ORG and SITE).
	Org, Site string
	// Timers are merged per key over the defaults.
	Timers Timers
	// LeakProbability is the chance an sp0 open error leaks (default 1.0, 0..1).
	LeakProbability float64
	// ExtendedEvents turns on the companion events.
	ExtendedEvents bool
	// Window is the number of unacknowledged TRANSFERs (default 4, 1..255).
	Window int
	// Admin is "http://HOST:PORT" of a standalone mtastub, or "".
	Admin string
	// Line is where the MTA (or defaults block) is declared; 0 if nowhere.
	Line int
}

// BuiltinDefaults returns the MTA defaults used when a file has no defaults block.
func BuiltinDefaults() MTASpec {
	return MTASpec{
		Build:           DefaultBuild,
		Mode:            DefaultMode,
		KCBs:            DefaultKCBs,
		Org:             DefaultOrg,
		Site:            DefaultSite,
		Timers:          DefaultTimers(),
		LeakProbability: DefaultLeakProbability,
		Window:          DefaultWindow,
	}
}

// BuildName returns the MTA's build by its catalogue name: Build, else
// the build Mode names (a spec built in code), else DefaultBuild.
func (m MTASpec) BuildName() string {
	if m.Build != "" {
		return m.Build
	}
	if b, ok := kernel.LookupBuild(m.Mode); ok {
		return b.Name
	}
	return DefaultBuild
}

// DefectSet returns the KB ids of the defects the MTA runs with: its
// build's, or exactly Defects when OverrideDefects is set.
func (m MTASpec) DefectSet() []string {
	_, d, err := kernel.ResolveBuild(m.BuildName(), m.Defects, m.OverrideDefects)
	if err != nil {
		return append([]string(nil), m.Defects...) // validated by the loader; a spec built in code keeps what it says
	}
	return d
}

// modeOf is the Mode mirror of a build: its alias, or its name.
func modeOf(b kernel.BuildInfo) string {
	if b.Alias != "" {
		return b.Alias
	}
	return b.Name
}

// DN returns the MTA's distinguished name.
func (m MTASpec) DN() string {
	return "/O=" + m.Org + "/OU=" + m.Site + "/CN=CONFIGURATION/CN=SERVERS/CN=" + m.Name + "/CN=MICROSOFT MTA"
}

// Link is a declared link: the proxy the From MTA dials to reach To.
type Link struct {
	From, To string
	Line     int
}

// String renders the link as "A->B".
func (l Link) String() string { return l.From + "->" + l.To }

// ParseLink splits "A->B" into its two names.
func ParseLink(s string) (from, to string, ok bool) {
	from, to, ok = strings.Cut(s, "->")
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if !ok || from == "" || to == "" || strings.Contains(to, "->") {
		return "", "", false
	}
	return from, to, true
}

// Traffic is a batch of messages From submits for To.
type Traffic struct {
	From, To string
	// Messages is the number of messages (≥1).
	Messages int
	// Size is the body size in bytes (default 1KiB).
	Size int
	// Rate is messages per second; 0 submits all at once.
	Rate float64
	// Start is the offset from the run start.
	Start time.Duration
	// Priority is the message priority (default 0).
	Priority int
	Line     int
}

// DefaultTrafficSize is the message size when traffic names none.
const DefaultTrafficSize = 1024

// Fault is one planned fault.
type Fault struct {
	// At is the offset from the run start.
	At time.Duration
	// Until is the heal offset; 0 = not set (the fault's own shape or the
	// run end heals it). A `duration` key is folded into Until (At+duration).
	Until time.Duration
	// Link is the link as written ("A->B"); "" for storm/swizzle without one.
	Link string
	// From and To are parsed from Link.
	From, To string
	// Type is the fault type (see faults.Types).
	Type string
	// Params holds every other key, typed as the fault type declares it
	// (faults.Describe), with declared defaults filled in for absent keys.
	Params map[string]Value
	Line   int
}

// Has reports whether the parameter key is set (or defaulted).
func (f Fault) Has(key string) bool {
	_, ok := f.Params[key]
	return ok
}

// Duration returns the duration parameter key, or 0.
func (f Fault) Duration(key string) time.Duration { return f.Params[key].Duration }

// Int returns the integer parameter key, or 0.
func (f Fault) Int(key string) int64 { return f.Params[key].Int }

// Float returns the number or rate parameter key, or 0.
func (f Fault) Float(key string) float64 { return f.Params[key].Float }

// Size returns the size parameter key in bytes, or 0.
func (f Fault) Size(key string) int64 { return f.Params[key].Size }

// Text returns the raw text of parameter key (e.g. stream, unit), or "".
func (f Fault) Text(key string) string { return f.Params[key].Raw }

// Strings returns the list parameter key, or nil.
func (f Fault) Strings(key string) []string { return f.Params[key].Strings }

// Stream returns the fault's stream parameter: "up", "down" or "both"
// ("both" when the type has none).
func (f Fault) Stream() string {
	if v, ok := f.Params["stream"]; ok && v.Raw != "" {
		return v.Raw
	}
	return "both"
}

// Value is a typed parameter value. Only the field matching the parameter's
// kind (faults.ParamKind: Duration; Int; Float for numbers and rates; Size;
// Strings for lists; Raw for streams and units) is meaningful; Raw is the text as written (or the canonical
// text for defaults and enums).
type Value struct {
	Raw      string
	Duration time.Duration
	Int      int64
	Float    float64
	Size     int64
	Strings  []string
	// Line and Col locate the value in the file (0 for defaults).
	Line, Col int
}

// DurationValue returns a Value holding d, for building faults in code.
func DurationValue(d time.Duration) Value { return Value{Raw: d.String(), Duration: d} }

// IntValue returns a Value holding n.
func IntValue(n int64) Value { return Value{Raw: formatInt(n), Int: n} }

// FloatValue returns a Value holding f (for number and rate kinds).
func FloatValue(f float64) Value { return Value{Raw: formatFloat(f), Float: f} }

// SizeValue returns a Value holding a size of n bytes.
func SizeValue(n int64) Value { return Value{Raw: FormatSize(n), Size: n} }

// StringValue returns a Value holding an enum such as a stream or unit.
func StringValue(s string) Value { return Value{Raw: s} }

// StringsValue returns a Value holding a list.
func StringsValue(s ...string) Value { return Value{Strings: s} }

// Action is a planned MTA operation, written {at: 6s, restart: B}.
type Action struct {
	At time.Duration
	// Op is restart, stop or start.
	Op   string
	MTA  string
	Line int
}

// ActionOps are the action operations.
var ActionOps = []string{"restart", "stop", "start"}

// Expect holds a scenario's expectations.
type Expect struct {
	Events   []EventExpect
	Leaked   []LeakExpect
	Recovery *Recovery
	// Delivered, when set, declares a stall: the number of messages
	// delivered over the whole run must lie in its bounds, instead of
	// every submitted message being delivered (DESIGN.md section 6).
	Delivered *DeliveredExpect
	// DeliveredPairs is the list form of expect.delivered: bounds on the
	// messages delivered over the whole run from one MTA to another, each
	// pair declaring its own stall; pairs it does not name must deliver
	// everything.
	DeliveredPairs []DeliveredExpect
}

// DeliveredExpect bounds the messages delivered over the whole run
// (expect.delivered), or from one MTA to another (its list form, with From
// and To set).
type DeliveredExpect struct {
	From, To string
	// Min and Max are nil when unbounded; `count: N` sets both to N.
	Min, Max *int
	Line     int
}

// EventIDs are the event ids an expectation may name: every id of the
// event catalogue (eventlog.IDs), ascending.
var EventIDs = eventlog.IDs()

// EventExpect bounds the count of one event id at one MTA (or every MTA, "*").
type EventExpect struct {
	MTA string
	// Build, when set (`build:`), narrows MTA to the MTAs of that build
	// (its catalogue name): `{mta: "*", build: 4.0-sp2}` is every fixed MTA.
	Build string
	ID    int
	// Min and Max are nil when unbounded; `count: N` sets both to N.
	Min, Max *int
	Line     int
}

// LeakExpect bounds the most KCBs seen leaked at once at an MTA (or "*").
type LeakExpect struct {
	MTA string
	// Build narrows MTA to the MTAs of that build, as in EventExpect.
	Build    string
	Min, Max *int
	Line     int
}

// Recovery is the recovery expectation.
type Recovery struct {
	// Within counts from the last fault healed or the last action.
	Within time.Duration
	// Delivered is "all" (the default) or the count as written; the count
	// is in DeliveredCount.
	Delivered      string
	DeliveredCount int
	// KCBs is "baseline" or "" (not checked).
	KCBs string
	Line int
}

// All reports whether every submitted message must be delivered.
func (r *Recovery) All() bool { return r.Delivered == "" || r.Delivered == "all" }

package scenario

import "sort"

// ParamKind says how a fault parameter's value is written and parsed.
type ParamKind int

// Parameter kinds. Each decides which field of [Value] carries the parsed
// value.
const (
	// KindDuration is a Go duration ("150ms"); bare "0" is accepted. Value.Duration.
	KindDuration ParamKind = iota
	// KindInt is an integer. Value.Int.
	KindInt
	// KindFloat is a number. Value.Float.
	KindFloat
	// KindSize is a byte size ("1KiB", "512B" or a bare integer). Value.Size.
	KindSize
	// KindRate is a rate per second, "N/s" or a bare number. Value.Float.
	KindRate
	// KindStream is one of up, down, both. Value.Raw.
	KindStream
	// KindUnit is a MiniP1 unit name (see [Units]), stored upper-case. Value.Raw.
	KindUnit
	// KindTypeList is a list of fault type names. Value.Strings.
	KindTypeList
	// KindLinkList is a list of declared links written "A->B". Value.Strings.
	KindLinkList
)

// String names the kind as it appears in messages.
func (k ParamKind) String() string {
	switch k {
	case KindDuration:
		return "duration"
	case KindInt:
		return "integer"
	case KindFloat:
		return "number"
	case KindSize:
		return "size"
	case KindRate:
		return "rate"
	case KindStream:
		return "stream"
	case KindUnit:
		return "unit"
	case KindTypeList:
		return "list of fault types"
	case KindLinkList:
		return "list of links"
	}
	return "unknown"
}

// ParamSpec describes one parameter key of a fault type.
type ParamSpec struct {
	Key      string
	Kind     ParamKind
	Required bool
	// Default, when not empty, is the value (as it would be written) filled
	// into Fault.Params when the key is absent.
	Default string
	// Min is the smallest allowed value for KindInt and KindSize, and (in
	// nanoseconds) for KindDuration. Durations and sizes are never negative.
	Min int64
	// Positive requires a value greater than zero (durations, rates).
	Positive bool
}

// FaultSpec describes one fault type: its parameter keys besides the keys
// every fault accepts (at, until, duration, link, type).
type FaultSpec struct {
	Type string
	// NeedsLink is true when the fault must name a declared link.
	NeedsLink bool
	// NeedsEnd is true when the fault must say when it ends (until or duration).
	NeedsEnd bool
	Params   []ParamSpec
}

// Param returns the spec of key, if the type accepts it.
func (f FaultSpec) Param(key string) (ParamSpec, bool) {
	for _, p := range f.Params {
		if p.Key == key {
			return p, true
		}
	}
	return ParamSpec{}, false
}

// commonFaultKeys are accepted by every fault type.
var commonFaultKeys = []string{"at", "until", "duration", "link", "type"}

var stream = ParamSpec{Key: "stream", Kind: KindStream, Default: "both"}

// faultSpecs is the only table of fault types and their parameter keys.
var faultSpecs = []FaultSpec{
	{Type: "refuse", NeedsLink: true},
	{Type: "cycle", NeedsLink: true, Params: []ParamSpec{
		{Key: "down", Kind: KindDuration, Required: true, Positive: true},
		{Key: "up", Kind: KindDuration, Required: true, Positive: true},
		{Key: "count", Kind: KindInt, Required: true, Min: 1},
		{Key: "jitter", Kind: KindDuration, Default: "0s"},
	}},
	{Type: "latency", NeedsLink: true, Params: []ParamSpec{
		{Key: "latency", Kind: KindDuration, Required: true},
		{Key: "jitter", Kind: KindDuration},
		stream,
	}},
	{Type: "bandwidth", NeedsLink: true, Params: []ParamSpec{
		{Key: "rate", Kind: KindInt, Required: true, Min: 0},
		stream,
	}},
	{Type: "blackhole", NeedsLink: true, Params: []ParamSpec{
		{Key: "timeout", Kind: KindDuration, Default: "0s"},
		stream,
	}},
	{Type: "reset", NeedsLink: true, Params: []ParamSpec{
		{Key: "timeout", Kind: KindDuration},
		stream,
	}},
	{Type: "truncate", NeedsLink: true, Params: []ParamSpec{
		{Key: "bytes", Kind: KindSize, Required: true},
		stream,
	}},
	{Type: "slice", NeedsLink: true, Params: []ParamSpec{
		{Key: "average_size", Kind: KindInt, Min: 1},
		{Key: "size_variation", Kind: KindInt, Min: 0},
		{Key: "delay", Kind: KindDuration},
		stream,
	}},
	{Type: "slow_close", NeedsLink: true, Params: []ParamSpec{
		{Key: "delay", Kind: KindDuration, Required: true},
	}},
	{Type: "storm", NeedsEnd: true, Params: []ParamSpec{
		{Key: "rate", Kind: KindRate, Positive: true},
		{Key: "kinds", Kind: KindTypeList},
		{Key: "links", Kind: KindLinkList},
	}},
	{Type: "swizzle", Params: []ParamSpec{
		{Key: "links", Kind: KindLinkList, Required: true},
		{Key: "step", Kind: KindDuration, Required: true, Positive: true},
	}},
	{Type: "cut_at", NeedsLink: true, Params: []ParamSpec{
		{Key: "unit", Kind: KindUnit, Required: true},
		{Key: "index", Kind: KindInt, Default: "1", Min: 1},
		stream,
	}},
}

// Units lists the MiniP1 unit names a cut_at fault may name.
var Units = []string{"CR", "CC", "DR", "ER", "BIND", "BIND-ACCEPT", "BIND-REFUSE",
	"TRANSFER", "ACK", "RELEASE", "RELEASE-CONFIRM", "ABORT"}

// stormExcluded are the fault types a storm may not mix in (kinds).
var stormExcluded = map[string]bool{"storm": true, "swizzle": true}

// LookupFault returns the spec of a fault type.
func LookupFault(typ string) (FaultSpec, bool) {
	for _, s := range faultSpecs {
		if s.Type == typ {
			return s, true
		}
	}
	return FaultSpec{}, false
}

// FaultTypes returns every fault type name, sorted.
func FaultTypes() []string {
	out := make([]string, 0, len(faultSpecs))
	for _, s := range faultSpecs {
		out = append(out, s.Type)
	}
	sort.Strings(out)
	return out
}

package faults

import (
	"cmp"
	"slices"

	"github.com/mtastorm/mtastorm/minip1"
)

// ParamKind says how a fault parameter's value is written and parsed (the
// scenario loader parses it; package scenario's Value carries it).
type ParamKind int

// Parameter kinds.
const (
	// ParamDuration is a Go duration ("150ms"); bare "0" is accepted.
	ParamDuration ParamKind = iota
	// ParamInt is an integer.
	ParamInt
	// ParamFloat is a number.
	ParamFloat
	// ParamSize is a byte size ("1KiB", "512B" or a bare integer).
	ParamSize
	// ParamRate is a rate per second, "N/s" or a bare number.
	ParamRate
	// ParamStream is one of up, down, both.
	ParamStream
	// ParamUnit is a MiniP1 unit name (see Units), stored upper-case.
	ParamUnit
	// ParamTypeList is a list of fault types a storm can mix (see StormKinds).
	ParamTypeList
	// ParamLinkList is a list of declared links written "A->B".
	ParamLinkList
)

// String names the kind as it appears in messages.
func (k ParamKind) String() string {
	switch k {
	case ParamDuration:
		return "duration"
	case ParamInt:
		return "integer"
	case ParamFloat:
		return "number"
	case ParamSize:
		return "size"
	case ParamRate:
		return "rate"
	case ParamStream:
		return "stream"
	case ParamUnit:
		return "unit"
	case ParamTypeList:
		return "list of fault types"
	case ParamLinkList:
		return "list of links"
	}
	return "unknown"
}

// Param describes one parameter key of a fault type.
type Param struct {
	// Key is the scenario key.
	Key  string
	Kind ParamKind
	// Required makes the key mandatory.
	Required bool
	// Default, when not empty, is the value (as it would be written) the
	// loader fills in when the key is absent.
	Default string
	// Min is the smallest allowed value for ParamInt and ParamSize, and (in
	// nanoseconds) for ParamDuration. Durations and sizes are never negative.
	Min int64
	// Positive requires a value greater than zero (durations, rates).
	Positive bool
}

// streamParam is the `stream` key of the faults that put one toxic on each
// chosen stream.
var streamParam = Param{Key: "stream", Kind: ParamStream, Default: "both"}

// CommonKeys are the scenario keys every fault accepts.
var CommonKeys = []string{"at", "until", "duration", "link", "type"}

// Keys describes the scenario keys of a fault type besides CommonKeys.
type Keys struct {
	// NoLink is set when a fault of the type may name no link: it names its
	// links itself (storm, swizzle). Every other fault needs `link`.
	NoLink bool
	// MustEnd is set when a fault of the type must say when it ends
	// (`until` or `duration`).
	MustEnd bool
	// Params are the type's parameter keys, in the order a file writes them.
	Params []Param
}

// Param returns the description of key, if the type accepts it.
func (k Keys) Param(key string) (Param, bool) {
	i := slices.IndexFunc(k.Params, func(p Param) bool { return p.Key == key })
	if i < 0 {
		return Param{}, false
	}
	return k.Params[i], true
}

// Keyed is a fault type with scenario keys of its own. A type that is not
// Keyed takes only CommonKeys and needs a link.
type Keyed interface {
	Keys() Keys
}

// Describe returns the scenario keys of the registered type called name:
// the scenario loader validates a fault's keys and values with it.
func Describe(name string) (Keys, bool) {
	t, ok := Lookup(name)
	if !ok {
		return Keys{}, false
	}
	if k, ok := t.(Keyed); ok {
		return k.Keys(), true
	}
	return Keys{}, true
}

// StormKinds returns the registered types a storm can mix (the values a
// ParamTypeList takes), sorted.
func StormKinds() []string {
	var out []string
	for _, n := range Types() {
		if _, ok := registry[n].(stormer); ok {
			out = append(out, n)
		}
	}
	return out
}

// DefaultStormKinds returns the types a storm mixes when its `kinds` is
// absent, in the order of their stormDefault rank (the order is part of what
// a seed draws).
func DefaultStormKinds() []string {
	type ranked struct {
		name string
		rank int
	}
	var rs []ranked
	for n, t := range registry {
		if s, ok := t.(stormer); ok && s.stormDefault() > 0 {
			rs = append(rs, ranked{n, s.stormDefault()})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.name, b.name)) })
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// Units returns the MiniP1 unit names a ParamUnit value may take: every
// kind the codec knows, in code order.
func Units() []string {
	var out []string
	for k := minip1.KindCR; k.Valid(); k++ {
		out = append(out, k.String())
	}
	return out
}

// Package faults is mtastorm's fault catalogue. A scenario's faults are
// expanded, from the scenario seed alone, into a Schedule of concrete
// toggles (absolute offset, link, action), which is saved and applied to a
// Toxiproxy backend. Each fault type lives in a file of its own and
// registers itself; nothing else knows the list.
package faults

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// Params reads a fault's typed parameters (scenario.Fault implements it).
type Params interface {
	Has(key string) bool
	Duration(key string) time.Duration
	Int(key string) int64
	Float(key string) float64
	Size(key string) int64
	Text(key string) string
	Strings(key string) []string
}

// Spec is one planned fault as the scenario gives it.
type Spec struct {
	// Index is the fault's position in the scenario's faults list.
	Index int
	// At is the start offset; Until the heal offset (0 = the run end heals it).
	At, Until time.Duration
	// Link is "FROM->TO"; "" for composite faults that name their links.
	Link string
	// Type names the fault type.
	Type   string
	Params Params
}

// Type is a fault type: it expands a Spec into toggles. Each type lives in a
// file of its own, registers itself from init, and declares there what else
// it has, as small optional interfaces found by type assertion (the shape of
// Toxiproxy's toxics): Keyed (its scenario keys), Prober (how a probe sees
// its toxic on the wire) and stormer (its draw as a storm's sub-fault).
type Type interface {
	// Name is the scenario's `type:` value.
	Name() string
	// Expand returns the fault's toggles; every random choice comes from rng.
	Expand(s Spec, rng *rand.Rand) ([]Toggle, error)
}

var registry = map[string]Type{}

// Register adds a fault type; it panics on a duplicate name (init-time only).
func Register(t Type) {
	if _, dup := registry[t.Name()]; dup {
		panic("faults: duplicate type " + t.Name())
	}
	registry[t.Name()] = t
}

// Lookup returns the registered type called name.
func Lookup(name string) (Type, bool) {
	t, ok := registry[name]
	return t, ok
}

// Types returns the registered type names, sorted.
func Types() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Actions a toggle can take on a link.
const (
	ActDisable     = "disable"
	ActEnable      = "enable"
	ActAddToxic    = "add_toxic"
	ActUpdateToxic = "update_toxic"
	ActRemoveToxic = "remove_toxic"
)

// Toggle is one concrete step of a schedule.
type Toggle struct {
	// Offset is the absolute offset from the run start.
	Offset time.Duration `json:"offset_ns"`
	// At is Offset written for people ("1.25s").
	At string `json:"at"`
	// Link is "FROM->TO".
	Link string `json:"link"`
	// Fault is the index of the scenario fault it belongs to; Type its type
	// (for a composite fault, the type of the part: storm → latency, ...).
	Fault int    `json:"fault"`
	Type  string `json:"type"`
	// Action is one of the Act constants.
	Action string `json:"action"`
	// Heal marks the toggle that ends the fault.
	Heal bool `json:"heal,omitempty"`
	// Toxic is the toxic to add, update or remove.
	Toxic *toxi.Toxic `json:"toxic,omitempty"`
}

// Schedule is a scenario's expanded fault timeline.
type Schedule struct {
	Scenario string   `json:"scenario"`
	Seed     int64    `json:"seed"`
	Toggles  []Toggle `json:"toggles"`
}

// Expand expands specs into one schedule ordered by offset; ties keep the
// specs' order. The random source is derived from seed alone.
func Expand(name string, seed int64, specs []Spec) (*Schedule, error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d7461))
	sched := &Schedule{Scenario: name, Seed: seed}
	for _, s := range specs {
		t, ok := Lookup(s.Type)
		if !ok {
			return nil, fmt.Errorf("faults: fault %d (%s): unknown type %q (known: %v)", s.Index, s.Link, s.Type, Types())
		}
		ts, err := t.Expand(s, rng)
		if err != nil {
			return nil, fmt.Errorf("faults: %s %s: %w", s.Type, s.Link, err)
		}
		for i := range ts {
			if ts[i].Link == "" { // composite faults (storm, swizzle) name a link per toggle
				ts[i].Link = s.Link
			}
			if ts[i].Type == "" {
				ts[i].Type = s.Type
			}
			ts[i].Fault = s.Index
			ts[i].At = ts[i].Offset.String()
		}
		sched.Toggles = append(sched.Toggles, ts...)
	}
	sort.SliceStable(sched.Toggles, func(i, j int) bool { return sched.Toggles[i].Offset < sched.Toggles[j].Offset })
	return sched, nil
}

// LastHeal returns the offset of the last healing toggle, or 0.
func (s *Schedule) LastHeal() time.Duration {
	var last time.Duration
	for _, t := range s.Toggles {
		if t.Heal && t.Offset > last {
			last = t.Offset
		}
	}
	return last
}

// First returns the offset of the first toggle, and false if there is none.
func (s *Schedule) First() (time.Duration, bool) {
	if len(s.Toggles) == 0 {
		return 0, false
	}
	return s.Toggles[0].Offset, true
}

// jittered returns d moved by a uniform draw in [-j, +j], at least min.
func jittered(rng *rand.Rand, d, j, min time.Duration) time.Duration {
	if j > 0 {
		d += time.Duration(rng.Int64N(int64(2*j)+1)) - j
	}
	return max(d, min)
}

// streams maps a scenario stream (up, down, both) to Toxiproxy's.
func streams(s string) []string {
	switch s {
	case "up":
		return []string{"upstream"}
	case "down":
		return []string{"downstream"}
	}
	return []string{"upstream", "downstream"}
}

// toxicName names the toxic of fault i on one stream.
func toxicName(i int, typ, stream string) string {
	return fmt.Sprintf("f%d-%s-%s", i, typ, stream)
}

package faults

import (
	"cmp"
	"slices"
	"time"
)

// Interval is a stretch of a run, From to To, as offsets from its start.
type Interval struct{ From, To time.Duration }

// Activity is one fault on one link as its schedule plays it: when it is
// there (Span, from its first toggle on the link to its heal) and when it
// acts on the traffic (Acting: the link disabled, or one of its toxics
// present).
type Activity struct {
	// Fault is the index of the scenario fault; Type the type of the part
	// on this link (a composite fault has one Activity per type).
	Fault int
	Type  string
	// Span runs from the first toggle to the last; to the end when the
	// fault is never healed or still acts at the end.
	Span Interval
	// Acting is sorted and merged (MergeIntervals).
	Acting []Interval
	// Updates are the offsets of the fault's update_toxic toggles.
	Updates []time.Duration
}

// Activity returns each fault's activity on link, in order of first
// appearance. A fault still acting when the schedule ends acts until end
// (the run end heals it). A nil schedule has none.
func (s *Schedule) Activity(link string, end time.Duration) []Activity {
	if s == nil {
		return nil
	}
	type key struct {
		fault int
		typ   string
	}
	type open struct {
		disabled time.Duration
		down     bool
		// toxics are the toxics present, by name, with when each came.
		toxics map[string]time.Duration
		healed bool
	}
	var out []Activity
	var states []*open
	index := map[key]int{}
	for _, t := range s.Toggles {
		if t.Link != link {
			continue
		}
		k := key{t.Fault, t.Type}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Activity{Fault: t.Fault, Type: t.Type, Span: Interval{t.Offset, t.Offset}})
			states = append(states, &open{toxics: map[string]time.Duration{}})
		}
		a, st := &out[i], states[i]
		a.Span.To = max(a.Span.To, t.Offset)
		if t.Heal {
			st.healed = true
		}
		name := ""
		if t.Toxic != nil {
			name = t.Toxic.Name
		}
		switch t.Action {
		case ActDisable:
			if !st.down {
				st.down, st.disabled = true, t.Offset
			}
		case ActEnable:
			if st.down {
				a.Acting = append(a.Acting, Interval{st.disabled, t.Offset})
				st.down = false
			}
		case ActAddToxic:
			if _, ok := st.toxics[name]; !ok {
				st.toxics[name] = t.Offset
			}
		case ActUpdateToxic:
			a.Updates = append(a.Updates, t.Offset)
		case ActRemoveToxic:
			if from, ok := st.toxics[name]; ok {
				a.Acting = append(a.Acting, Interval{from, t.Offset})
				delete(st.toxics, name)
			}
		}
	}
	for i := range out {
		a, st := &out[i], states[i]
		if st.down {
			a.Acting = append(a.Acting, Interval{st.disabled, end})
		}
		for _, from := range st.toxics {
			a.Acting = append(a.Acting, Interval{from, end})
		}
		if st.down || len(st.toxics) > 0 || !st.healed {
			a.Span.To = max(a.Span.To, end)
		}
		a.Acting = MergeIntervals(a.Acting)
	}
	return out
}

// MergeIntervals returns in sorted by start with overlapping and touching
// intervals merged; in is not changed.
func MergeIntervals(in []Interval) []Interval {
	if len(in) == 0 {
		return nil
	}
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b Interval) int { return cmp.Compare(a.From, b.From) })
	out := []Interval{s[0]}
	for _, iv := range s[1:] {
		last := &out[len(out)-1]
		if iv.From <= last.To {
			last.To = max(last.To, iv.To)
			continue
		}
		out = append(out, iv)
	}
	return out
}

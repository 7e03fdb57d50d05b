package faults

import (
	"errors"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// toxicFault expands a fault of type kind that is one toxic per stream (named
// by toxicName): an add_toxic at
// s.At on each of the streams, and when s.Until is set a healing
// remove_toxic at s.Until. attrs builds a fresh attribute map per toxic (so
// no two toggles share one). Toxicity is always 1 (toxi.Toxic has none).
func toxicFault(s Spec, kind, toxicType string, strs []string, attrs func() map[string]any) ([]Toggle, error) {
	if err := checkUntil(s); err != nil {
		return nil, err
	}
	var ts []Toggle
	for _, st := range strs {
		name := toxicName(s.Index, kind, st)
		ts = append(ts, Toggle{Offset: s.At, Action: ActAddToxic,
			Toxic: &toxi.Toxic{Name: name, Type: toxicType, Stream: st, Attributes: attrs()}})
		if s.Until > 0 {
			ts = append(ts, Toggle{Offset: s.Until, Action: ActRemoveToxic, Heal: true, Toxic: &toxi.Toxic{Name: name}})
		}
	}
	return ts, nil
}

// checkUntil refuses a heal offset that is not after the start (the loader
// refuses it too; Expand must not emit a heal before the fault).
func checkUntil(s Spec) error {
	if s.Until > 0 && s.Until <= s.At {
		return errors.New("until must be after at")
	}
	return nil
}

// millis converts d to whole milliseconds, rounding a positive remainder up,
// so that a positive sub-millisecond duration never becomes Toxiproxy's 0
// (which means "forever" for timeout and "at once" elsewhere).
func millis(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// micros converts d to whole microseconds, rounding a positive remainder up.
func micros(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Microsecond - 1) / time.Microsecond)
}

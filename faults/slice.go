package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(slice{}) }

// Slice defaults, used when the scenario leaves a key out.
const (
	// DefaultSliceAverage is the default average_size, in bytes.
	DefaultSliceAverage = 16
	// DefaultSliceVariation is the default size_variation, in bytes.
	DefaultSliceVariation = 0
)

// slice splits every chunk on the chosen streams into fragments of about
// `average_size` bytes (± `size_variation`) sent `delay` apart, with
// Toxiproxy's slicer toxic. Its `delay` attribute is in MICROseconds, so the
// scenario's duration is converted to µs (rounded up). No fragment is larger
// than average_size+size_variation.
//
// A size_variation above 0 makes Toxiproxy draw the split points from its own
// unseeded random source (the only Toxiproxy randomness mtastorm lets in, and
// only when asked for); the default is 0, which splits deterministically.
// size_variation may not exceed average_size: Toxiproxy would then slice
// with a negative length and panic.
type slice struct{}

func (slice) Name() string { return "slice" }

func (slice) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	avg, vari := int64(DefaultSliceAverage), int64(DefaultSliceVariation)
	if s.Params.Has("average_size") {
		avg = s.Params.Int("average_size")
	}
	if s.Params.Has("size_variation") {
		vari = s.Params.Int("size_variation")
	}
	delay := s.Params.Duration("delay")
	switch {
	case avg < 1:
		return nil, errors.New("slice average_size must be at least 1 (Toxiproxy recurses forever on 0)")
	case vari < 0 || vari > avg:
		return nil, errors.New("slice size_variation must be within 0..average_size")
	case delay < 0:
		return nil, errors.New("slice delay must not be negative")
	}
	return toxicFault(s, "slice", "slicer", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"average_size": avg, "size_variation": vari, "delay": micros(delay)}
	})
}

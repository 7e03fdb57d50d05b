package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// TypeSlice is the slice fault's `type:` value.
const TypeSlice = "slice"

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

func (slice) Name() string { return TypeSlice }

func (slice) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "average_size", Kind: ParamInt, Min: 1},
		{Key: "size_variation", Kind: ParamInt, Min: 0},
		{Key: "delay", Kind: ParamDuration},
		streamParam,
	}}
}

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
	return toxicFault(s, TypeSlice, "slicer", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"average_size": avg, "size_variation": vari, "delay": micros(delay)}
	})
}

// Probe writes 256 bytes and sees them come back in several reads, none
// larger than average_size+size_variation.
func (slice) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	limit := int(attr(t, "average_size") + attr(t, "size_variation"))
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	const n = 256
	if _, err := c.Write(make([]byte, n)); err != nil {
		return "", err
	}
	reads, biggest, got := 0, 0, 0
	buf := make([]byte, n)
	for got < n {
		k, err := c.Read(buf)
		if err != nil {
			return "", fmt.Errorf("after %d of %d bytes: %w", got, n, err)
		}
		reads, got, biggest = reads+1, got+k, max(biggest, k)
	}
	if reads < 2 || limit > 0 && biggest > limit {
		return "", fmt.Errorf("%d bytes arrived in %d reads (largest %d), want fragments of at most %d", n, reads, biggest, limit)
	}
	return fmt.Sprintf("%d bytes arrived in %d fragments (largest %d)", n, reads, biggest), nil
}

func (slice) stormDefault() int { return 5 }

// stormDraw: average_size 8..64, size_variation 0, delay 1..20ms, on a
// drawn stream.
func (slice) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "slicer", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"average_size": between(rng, 8, 64), "size_variation": 0,
			"delay": micros(time.Duration(between(rng, 1, 20)) * time.Millisecond)}
	})
}

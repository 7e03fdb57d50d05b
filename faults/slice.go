package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
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

// Slicer probe sizing. Toxiproxy's slicer (v2.12.0, toxics/slicer.go)
// cuts every chunk it reads into pieces of at most average_size +
// size_variation bytes and waits `delay` after writing each piece, so a
// write of n bytes leaves the proxy as at least ceil(n/limit) writes, each
// at least delay after the one before. What is NOT guaranteed is that a
// reader sees them apart: on a loaded machine the echo server or the probe
// runs late and one read takes several fragments, so neither a read's size
// nor the number of reads can be asserted. The probe counts arrivals
// instead, reads at least delay/2 after the previous one, and asks for two.
const (
	// sliceProbeSpan is how long the fragments of one attempt should take
	// to come out of the proxy: long enough that a late reader still sees
	// two arrivals, short enough for several attempts in ProbeTimeout.
	sliceProbeSpan = 30 * time.Millisecond
	// sliceProbeMinFragments and sliceProbeMaxFragments bound the fragments
	// an attempt asks for; a slicer without delay gets the most, as only
	// the scheduling of the proxy's goroutines keeps its fragments apart.
	sliceProbeMinFragments = 4
	sliceProbeMaxFragments = 64
	// sliceProbeMaxBytes bounds an attempt's write, well below the 32 KiB
	// buffers of the proxy and the echo server, so that an echo the slicer
	// did not cut comes back in one read.
	sliceProbeMaxBytes = 8 << 10
	// sliceProbeAttempts bounds the attempts on one connection: every one
	// coalesced into a single arrival means no slicing was seen.
	sliceProbeAttempts = 8
)

// Probe writes enough bytes to be cut into several fragments sent
// `delay` apart and passes when their echo comes back in at least two
// distinct arrivals. An attempt whose fragments all coalesced into one
// arrival (a reader late for the whole span) is repeated on the same
// connection, up to sliceProbeAttempts times or the probe's deadline.
func (slice) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	limit := int(attr(t, "average_size") + attr(t, "size_variation"))
	delay := time.Duration(attr(t, "delay")) * time.Microsecond
	if limit < 1 {
		return "", fmt.Errorf("slicer with fragments of at most %d bytes", limit)
	}
	k := sliceProbeMaxFragments
	if delay > 0 {
		k = min(max(int(sliceProbeSpan/delay)+1, sliceProbeMinFragments), sliceProbeMaxFragments)
	}
	n := min(k*limit, sliceProbeMaxBytes)
	if n <= limit {
		return "", fmt.Errorf("fragments of up to %d bytes: a probe of at most %d bytes would not be cut", limit, sliceProbeMaxBytes)
	}
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	out, buf := make([]byte, n), make([]byte, n)
	frags := (n + limit - 1) / limit
	for attempt := 1; attempt <= sliceProbeAttempts; attempt++ {
		if _, err := c.Write(out); err != nil {
			return "", err
		}
		a, err := readArrivals(c, buf, delay/2)
		if err != nil {
			return "", err
		}
		if a.arrivals >= 2 {
			return fmt.Sprintf("%d bytes (at least %d fragments) arrived in %d reads, %d arrivals at least %s apart (attempt %d)",
				n, frags, a.reads, a.arrivals, delay/2, attempt), nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("%d bytes (at least %d fragments of at most %d bytes, %s apart) came back in one arrival, every attempt: no slicing seen",
		n, frags, limit, delay)
}

// arrivalCount is what readArrivals saw.
type arrivalCount struct {
	// reads is the number of reads that returned bytes.
	reads int
	// arrivals is the number of reads that came at least gap after the
	// previous one (the first read is one): fragments that arrived apart.
	arrivals int
}

// readArrivals reads exactly len(buf) bytes from c and counts the distinct
// arrivals. buf must hold everything expected, so that bytes that are
// already there come in one read: a count above one shows bytes that came
// apart in time, never a buffer too small.
func readArrivals(c net.Conn, buf []byte, gap time.Duration) (arrivalCount, error) {
	var (
		a    arrivalCount
		got  int
		last time.Time
	)
	for got < len(buf) {
		k, err := c.Read(buf[got:])
		now := time.Now()
		if k > 0 {
			if a.reads == 0 || now.Sub(last) >= gap {
				a.arrivals++
			}
			a.reads, got, last = a.reads+1, got+k, now
		}
		if err != nil {
			return a, fmt.Errorf("after %d of %d bytes: %w", got, len(buf), err)
		}
	}
	return a, nil
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

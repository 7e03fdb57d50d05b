package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// TypeBandwidth is the bandwidth fault's `type:` value.
const TypeBandwidth = "bandwidth"

func init() { Register(bandwidth{}) }

// bandwidth limits the chosen streams to `rate` KB/s with Toxiproxy's
// bandwidth toxic (attribute `rate`). Toxiproxy's KB is 1000 bytes: it sleeps
// len/rate milliseconds per chunk, and sends chunks larger than rate*100
// bytes in 100ms slices. A rate of 0 means "unlimited" to Toxiproxy, so it is
// refused here: use blackhole to stop the data.
type bandwidth struct{}

func (bandwidth) Name() string { return TypeBandwidth }

func (bandwidth) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "rate", Kind: ParamInt, Required: true, Min: 0},
		streamParam,
	}}
}

func (bandwidth) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	rate := s.Params.Int("rate")
	if rate < 1 {
		return nil, errors.New("bandwidth rate must be at least 1 KB/s (Toxiproxy reads 0 as unlimited; use blackhole to stop data)")
	}
	return toxicFault(s, TypeBandwidth, "bandwidth", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"rate": rate}
	})
}

// Probe echoes up to 64 KiB and sees it take at least half as long as the
// rate allows.
func (bandwidth) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	rate := attr(t, "rate") * 1024 // bytes per second
	n := int(min(max(rate/5, 1024), 64<<10))
	took, err := echoRTT(ctx, addr, n)
	if err != nil {
		return "", err
	}
	want := time.Duration(float64(n) / float64(rate) * float64(time.Second) / 2)
	if took < want {
		return "", fmt.Errorf("%d bytes echoed in %s, want at least %s at %d KB/s", n, took, want, rate/1024)
	}
	return fmt.Sprintf("%d bytes echoed in %s (rate %d KB/s)", n, took.Round(time.Millisecond), rate/1024), nil
}

func (bandwidth) stormDefault() int { return 6 }

// stormDraw: 8..128 KB/s on a drawn stream.
func (bandwidth) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "bandwidth", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"rate": between(rng, 8, 128)}
	})
}

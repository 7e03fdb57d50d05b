package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(bandwidth{}) }

// bandwidth limits the chosen streams to `rate` KB/s with Toxiproxy's
// bandwidth toxic (attribute `rate`). Toxiproxy's KB is 1000 bytes: it sleeps
// len/rate milliseconds per chunk, and sends chunks larger than rate*100
// bytes in 100ms slices. A rate of 0 means "unlimited" to Toxiproxy, so it is
// refused here: use blackhole to stop the data.
type bandwidth struct{}

func (bandwidth) Name() string { return "bandwidth" }

func (bandwidth) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	rate := s.Params.Int("rate")
	if rate < 1 {
		return nil, errors.New("bandwidth rate must be at least 1 KB/s (Toxiproxy reads 0 as unlimited; use blackhole to stop data)")
	}
	return toxicFault(s, "bandwidth", "bandwidth", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"rate": rate}
	})
}

package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(blackhole{}) }

// blackhole silently drops every byte on the chosen streams with
// Toxiproxy's timeout toxic (attribute `timeout`, in milliseconds). With
// `timeout` 0 (the default) the connection is held open forever; with a
// timeout the proxy closes the connection that long after the toxic started
// on it (when it was added, or when the connection opened if later).
// Removing the toxic (the heal) closes the connections it was holding: its
// Cleanup closes the stream, so only new connections pass data again.
type blackhole struct{}

func (blackhole) Name() string { return "blackhole" }

func (blackhole) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	to := s.Params.Duration("timeout")
	if to < 0 {
		return nil, errors.New("blackhole timeout must not be negative")
	}
	return toxicFault(s, "blackhole", "timeout", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"timeout": millis(to)}
	})
}

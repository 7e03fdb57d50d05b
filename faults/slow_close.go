package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(slowClose{}) }

// slowClose delays every FIN that crosses the link by `delay`, with
// Toxiproxy's slow_close toxic (attribute `delay`, milliseconds).
//
// Streams: the toxic acts when its stream's reading side ends (EOF): it
// waits `delay`, then closes the connection on the writing side. On the
// downstream (Toxiproxy's default when no stream is named) that is the
// server's close reaching the client late; on the upstream it is the
// client's close (or half-close) reaching the server late. A late FIN is
// meant either way, so the fault puts the toxic on both streams (the
// scenario has no stream key for it; a `stream` parameter, if one is ever
// given, is honoured). Toxiproxy closes a side fully, not half: after the
// client half-closes, the server sees EOF after `delay`, and when it closes
// in turn the client sees EOF after a second `delay`.
type slowClose struct{}

func (slowClose) Name() string { return "slow_close" }

func (slowClose) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	d := s.Params.Duration("delay")
	if d < 0 {
		return nil, errors.New("slow_close delay must not be negative")
	}
	return toxicFault(s, "slow_close", "slow_close", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"delay": millis(d)}
	})
}

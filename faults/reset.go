package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(reset{}) }

// reset makes the proxy reset (TCP RST) connections with Toxiproxy's
// reset_peer toxic (attribute `timeout`, milliseconds after the first data).
//
// Add before connect: Toxiproxy sets SO_LINGER 0 on a connection's sockets
// only when the connection opens with a reset_peer toxic already on the
// proxy, so only connections opened after the toxic was added are reset; a
// connection that was open before gets a plain close (EOF), not an RST. And
// the reset only comes once data arrives on the toxic's stream (plus
// `timeout`): an idle connection is never reset. Schedule the fault before
// the connection it should hit is dialled.
type reset struct{}

func (reset) Name() string { return "reset" }

func (reset) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	to := s.Params.Duration("timeout")
	if to < 0 {
		return nil, errors.New("reset timeout must not be negative")
	}
	return toxicFault(s, "reset", "reset_peer", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"timeout": millis(to)}
	})
}

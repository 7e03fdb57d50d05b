package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
)

// TypeReset is the reset fault's `type:` value.
const TypeReset = "reset"

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

func (reset) Name() string { return TypeReset }

func (reset) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "timeout", Kind: ParamDuration},
		streamParam,
	}}
}

func (reset) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	to := s.Params.Duration("timeout")
	if to < 0 {
		return nil, errors.New("reset timeout must not be negative")
	}
	return toxicFault(s, TypeReset, "reset_peer", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"timeout": millis(to)}
	})
}

// Probe dials (after the toxic was added, as it must), sends a byte and
// sees the connection reset.
func (reset) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := c.Write([]byte{'p'}); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		return "", err
	}
	_, err = io.Copy(io.Discard, c)
	if errors.Is(err, syscall.ECONNRESET) {
		return "connection reset (RST)", nil
	}
	return "", fmt.Errorf("no reset seen: %v", err)
}

func (reset) stormDefault() int { return 3 }

// stormDraw: timeout 0 on a drawn stream.
func (reset) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "reset_peer", false, func(*rand.Rand) map[string]any {
		return map[string]any{"timeout": 0}
	})
}

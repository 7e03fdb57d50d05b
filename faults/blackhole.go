package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// TypeBlackhole is the blackhole fault's `type:` value.
const TypeBlackhole = "blackhole"

func init() { Register(blackhole{}) }

// blackhole silently drops every byte on the chosen streams with
// Toxiproxy's timeout toxic (attribute `timeout`, in milliseconds). With
// `timeout` 0 (the default) the connection is held open forever; with a
// timeout the proxy closes the connection that long after the toxic started
// on it (when it was added, or when the connection opened if later).
// Removing the toxic (the heal) closes the connections it was holding: its
// Cleanup closes the stream, so only new connections pass data again.
type blackhole struct{}

func (blackhole) Name() string { return TypeBlackhole }

func (blackhole) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "timeout", Kind: ParamDuration, Default: "0s"},
		streamParam,
	}}
}

func (blackhole) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	to := s.Params.Duration("timeout")
	if to < 0 {
		return nil, errors.New("blackhole timeout must not be negative")
	}
	return toxicFault(s, TypeBlackhole, "timeout", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"timeout": millis(to)}
	})
}

// Probe sees a byte sent and not echoed within 250ms.
func (blackhole) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
	if _, err := c.Write([]byte{'p'}); err != nil {
		return "", err
	}
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n == 0 && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF)) {
		return "byte not echoed within 250ms (data dropped)", nil
	}
	return "", fmt.Errorf("byte echoed through a blackhole (n=%d, err=%v)", n, err)
}

func (blackhole) stormDefault() int { return 7 }

// stormDraw: timeout 0 (hold) on a drawn stream.
func (blackhole) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "timeout", false, func(*rand.Rand) map[string]any {
		return map[string]any{"timeout": 0}
	})
}

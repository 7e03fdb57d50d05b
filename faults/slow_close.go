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

// TypeSlowClose is the slow_close fault's `type:` value.
const TypeSlowClose = "slow_close"

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

func (slowClose) Name() string { return TypeSlowClose }

func (slowClose) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "delay", Kind: ParamDuration, Required: true},
	}}
}

func (slowClose) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	d := s.Params.Duration("delay")
	if d < 0 {
		return nil, errors.New("slow_close delay must not be negative")
	}
	return toxicFault(s, TypeSlowClose, "slow_close", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"delay": millis(d)}
	})
}

// Probe half-closes a connection after an echo and sees the FIN come back
// at least `delay` later.
func (slowClose) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	want := time.Duration(attr(t, "delay")) * time.Millisecond
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if _, err := c.Write([]byte{'p'}); err != nil {
		return "", err
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		return "", err
	}
	start := time.Now()
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, c)
	if took := time.Since(start); took < want {
		return "", fmt.Errorf("FIN after %s, want at least %s", took, want)
	} else {
		return fmt.Sprintf("FIN after %s (delay %s)", took.Round(time.Millisecond), want), nil
	}
}

// slow_close is not in a storm's default mix: it is mixed when named.
func (slowClose) stormDefault() int { return 0 }

// stormDraw: delay 50..500ms, both streams.
func (slowClose) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "slow_close", true, func(rng *rand.Rand) map[string]any {
		return map[string]any{"delay": between(rng, 50, 500)}
	})
}

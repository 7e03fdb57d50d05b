package faults

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
)

// TypeTruncate is the truncate fault's `type:` value.
const TypeTruncate = "truncate"

func init() { Register(truncate{}) }

// truncate cuts each connection after `bytes` bytes on each chosen stream,
// with Toxiproxy's limit_data toxic (attribute `bytes`). The count is per
// connection and per stream (the toxic's state is created per connection),
// so every connection passes exactly `bytes` bytes and then the proxy closes
// it: the receiver sees EOF right after byte N. With `bytes` 0 a connection
// is closed as soon as data arrives on the stream.
type truncate struct{}

func (truncate) Name() string { return TypeTruncate }

func (truncate) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "bytes", Kind: ParamSize, Required: true},
		streamParam,
	}}
}

func (truncate) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	n := s.Params.Size("bytes")
	if n < 0 {
		return nil, errors.New("truncate bytes must not be negative")
	}
	return toxicFault(s, TypeTruncate, "limit_data", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"bytes": n}
	})
}

// Probe writes more than `bytes` and sees the stream cut at `bytes`.
func (truncate) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	want := attr(t, "bytes")
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	go func() { _, _ = c.Write(make([]byte, want+64)) }()
	got, err := io.Copy(io.Discard, c)
	return cutSeen(t, got, want, err)
}

func (truncate) stormDefault() int { return 4 }

// stormDraw: 20..400 bytes on a drawn stream.
func (truncate) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "limit_data", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"bytes": between(rng, 20, 400)}
	})
}

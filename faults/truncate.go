package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(truncate{}) }

// truncate cuts each connection after `bytes` bytes on each chosen stream,
// with Toxiproxy's limit_data toxic (attribute `bytes`). The count is per
// connection and per stream (the toxic's state is created per connection),
// so every connection passes exactly `bytes` bytes and then the proxy closes
// it: the receiver sees EOF right after byte N. With `bytes` 0 a connection
// is closed as soon as data arrives on the stream.
type truncate struct{}

func (truncate) Name() string { return "truncate" }

func (truncate) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	n := s.Params.Size("bytes")
	if n < 0 {
		return nil, errors.New("truncate bytes must not be negative")
	}
	return toxicFault(s, "truncate", "limit_data", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"bytes": n}
	})
}

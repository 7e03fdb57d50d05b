package faults

import (
	"errors"
	"math/rand/v2"
)

func init() { Register(cutAt{}) }

// cutAt cuts each connection right after the `index`-th (default 1) MiniP1
// unit of kind `unit` (e.g. "BIND") on each chosen stream. It adds the custom
// "cut_at" toxic (package faults/toxi/cutat, registered with the embedded
// server and with `mtastorm toxiproxy`; a stock toxiproxy-server refuses it)
// with attributes `unit` (the unit name) and `index` (≥1). The count is per
// connection and per stream.
type cutAt struct{}

func (cutAt) Name() string { return "cut_at" }

func (cutAt) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	unit := s.Params.Text("unit")
	idx := int64(1)
	if s.Params.Has("index") {
		idx = s.Params.Int("index")
	}
	switch {
	case unit == "":
		return nil, errors.New("cut_at needs a unit (a MiniP1 unit name such as BIND)")
	case idx < 1:
		return nil, errors.New("cut_at index must be at least 1")
	}
	return toxicFault(s, "cut_at", "cut_at", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"unit": unit, "index": idx}
	})
}

package faults

import "math/rand/v2"

func init() { Register(refuse{}) }

// refuse disables the link's proxy: new dials are refused and existing
// connections are closed. `until` (or `duration`) heals it.
type refuse struct{}

func (refuse) Name() string { return "refuse" }

func (refuse) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	ts := []Toggle{{Offset: s.At, Action: ActDisable}}
	if s.Until > 0 {
		ts = append(ts, Toggle{Offset: s.Until, Action: ActEnable, Heal: true})
	}
	return ts, nil
}

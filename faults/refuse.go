package faults

import (
	"math/rand/v2"
	"time"
)

// TypeRefuse is the refuse fault's `type:` value.
const TypeRefuse = "refuse"

func init() { Register(refuse{}) }

// refuse disables the link's proxy: new dials are refused and existing
// connections are closed. `until` (or `duration`) heals it. It has no
// parameters; its disable is probed for a refused dial (see Probe). In a
// storm it holds the link down for the sub-fault's span.
type refuse struct{}

func (refuse) Name() string { return TypeRefuse }

func (refuse) Expand(s Spec, _ *rand.Rand) ([]Toggle, error) {
	ts := []Toggle{{Offset: s.At, Action: ActDisable}}
	if s.Until > 0 {
		ts = append(ts, Toggle{Offset: s.Until, Action: ActEnable, Heal: true})
	}
	return ts, nil
}

func (refuse) stormDefault() int { return 2 }

func (refuse) stormDraw(p *stormPart, _ int, _ *rand.Rand) {
	p.downs = append(p.downs, [2]time.Duration{p.start, p.stop})
}

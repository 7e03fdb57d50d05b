package faults

import (
	"errors"
	"math/rand/v2"
	"time"
)

// TypeCycle is the cycle fault's `type:` value.
const TypeCycle = "cycle"

func init() { Register(cycle{}) }

// cycle takes the link down and up `count` times: down for `down`, up for
// `up`, each moved by a seeded draw within ±`jitter`. It is the Q152877
// condition. An `until` before the train ends cuts it short, link up.
type cycle struct{}

func (cycle) Name() string { return TypeCycle }

func (cycle) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "down", Kind: ParamDuration, Required: true, Positive: true},
		{Key: "up", Kind: ParamDuration, Required: true, Positive: true},
		{Key: "count", Kind: ParamInt, Required: true, Min: 1},
		{Key: "jitter", Kind: ParamDuration, Default: "0s"},
	}}
}

func (cycle) Expand(s Spec, rng *rand.Rand) ([]Toggle, error) {
	down, up, n, j := s.Params.Duration("down"), s.Params.Duration("up"), s.Params.Int("count"), s.Params.Duration("jitter")
	if down <= 0 || up <= 0 || n < 1 {
		return nil, errors.New("cycle needs down > 0, up > 0 and count ≥ 1")
	}
	if s.Until > 0 && s.Until <= s.At {
		return nil, errors.New("cycle needs until after at")
	}
	var ts []Toggle
	t := s.At
	for i := int64(0); i < n; i++ {
		d := jittered(rng, down, j, time.Millisecond)
		u := jittered(rng, up, j, time.Millisecond)
		if s.Until > 0 && t >= s.Until {
			break
		}
		ts = append(ts, Toggle{Offset: t, Action: ActDisable})
		end := t + d
		if s.Until > 0 && end > s.Until {
			end = s.Until
		}
		ts = append(ts, Toggle{Offset: end, Action: ActEnable, Heal: i == n-1 || s.Until > 0 && end+u >= s.Until})
		t = end + u
	}
	ts[len(ts)-1].Heal = true
	return ts, nil
}

// cycle is not in a storm's default mix: it is mixed when named.
func (cycle) stormDefault() int { return 0 }

// stormDraw makes the link flap within the part's span: down 20..100ms, up
// 20..100ms.
func (cycle) stormDraw(p *stormPart, _ int, rng *rand.Rand) {
	for t := p.start; t < p.stop; {
		down := time.Duration(between(rng, 20, 100)) * time.Millisecond
		up := time.Duration(between(rng, 20, 100)) * time.Millisecond
		p.downs = append(p.downs, [2]time.Duration{t, min(t+down, p.stop)})
		t += down + up
	}
}

package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// TypeLatency is the latency fault's `type:` value.
const TypeLatency = "latency"

func init() { Register(latency{}) }

// JitterStep is how often a fault with jitter draws a new value.
const JitterStep = 100 * time.Millisecond

// latency adds `latency` to every chunk on the chosen streams. Toxiproxy's
// own jitter stays 0: with `jitter` set, the harness draws a new latency
// within ±jitter from the scenario seed every JitterStep.
type latency struct{}

func (latency) Name() string { return TypeLatency }

func (latency) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "latency", Kind: ParamDuration, Required: true},
		{Key: "jitter", Kind: ParamDuration},
		streamParam,
	}}
}

func (latency) Expand(s Spec, rng *rand.Rand) ([]Toggle, error) {
	lat, j := s.Params.Duration("latency"), s.Params.Duration("jitter")
	if lat < 0 {
		return nil, errors.New("latency must not be negative")
	}
	var ts []Toggle
	for _, st := range streams(s.Params.Text("stream")) {
		mk := func(d time.Duration) *toxi.Toxic {
			return &toxi.Toxic{Name: toxicName(s.Index, TypeLatency, st), Type: "latency", Stream: st,
				Attributes: map[string]any{"latency": d.Milliseconds(), "jitter": 0}}
		}
		ts = append(ts, Toggle{Offset: s.At, Action: ActAddToxic, Toxic: mk(jittered(rng, lat, j, 0))})
		// With no heal time a jittered latency is drawn once for the whole run.
		for t := s.At + JitterStep; j > 0 && t < s.Until; t += JitterStep {
			ts = append(ts, Toggle{Offset: t, Action: ActUpdateToxic, Toxic: mk(jittered(rng, lat, j, 0))})
		}
		if s.Until > 0 {
			ts = append(ts, Toggle{Offset: s.Until, Action: ActRemoveToxic, Heal: true, Toxic: &toxi.Toxic{Name: toxicName(s.Index, TypeLatency, st)}})
		}
	}
	return ts, nil
}

// Probe sees a round trip of at least the toxic's latency.
func (latency) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	want := time.Duration(attr(t, "latency")) * time.Millisecond
	rtt, err := echoRTT(ctx, addr, 1)
	if err != nil {
		return "", err
	}
	if rtt < want {
		return "", fmt.Errorf("round trip %s, want at least %s", rtt, want)
	}
	return fmt.Sprintf("round trip %s (latency %s)", rtt.Round(time.Millisecond), want), nil
}

func (latency) stormDefault() int { return 1 }

// stormDraw: 20..300ms on a drawn stream.
func (latency) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "latency", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"latency": between(rng, 20, 300), "jitter": 0}
	})
}

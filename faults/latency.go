package faults

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

func init() { Register(latency{}) }

// JitterStep is how often a fault with jitter draws a new value.
const JitterStep = 100 * time.Millisecond

// latency adds `latency` to every chunk on the chosen streams. Toxiproxy's
// own jitter stays 0: with `jitter` set, the harness draws a new latency
// within ±jitter from the scenario seed every JitterStep.
type latency struct{}

func (latency) Name() string { return "latency" }

func (latency) Expand(s Spec, rng *rand.Rand) ([]Toggle, error) {
	lat, j := s.Params.Duration("latency"), s.Params.Duration("jitter")
	if lat < 0 {
		return nil, errors.New("latency must not be negative")
	}
	var ts []Toggle
	for _, st := range streams(s.Params.Text("stream")) {
		mk := func(d time.Duration) *toxi.Toxic {
			return &toxi.Toxic{Name: toxicName(s.Index, "latency", st), Type: "latency", Stream: st,
				Attributes: map[string]any{"latency": d.Milliseconds(), "jitter": 0}}
		}
		ts = append(ts, Toggle{Offset: s.At, Action: ActAddToxic, Toxic: mk(jittered(rng, lat, j, 0))})
		// With no heal time a jittered latency is drawn once for the whole run.
		for t := s.At + JitterStep; j > 0 && t < s.Until; t += JitterStep {
			ts = append(ts, Toggle{Offset: t, Action: ActUpdateToxic, Toxic: mk(jittered(rng, lat, j, 0))})
		}
		if s.Until > 0 {
			ts = append(ts, Toggle{Offset: s.Until, Action: ActRemoveToxic, Heal: true, Toxic: &toxi.Toxic{Name: toxicName(s.Index, "latency", st)}})
		}
	}
	return ts, nil
}

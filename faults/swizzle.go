package faults

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// TypeSwizzle is the swizzle fault's `type:` value.
const TypeSwizzle = "swizzle"

func init() { Register(swizzle{}) }

// swizzle makes partial partitions: it clogs `links` one by one, `step`
// apart in the listed order (links[i] at At + i*step), and once all are
// clogged unclogs them one per step in an order drawn from the scenario's
// rng; the last unclog is the heal.
//
// Toxiproxy has no "clog" (a link that holds its connections but passes no
// data); here to clog a link is to disable its proxy: new dials are refused
// and existing connections are closed. A blackhole is the data-holding
// alternative, per link, as its own fault.
//
// An `until` before the train ends cuts it short: nothing is clogged at or
// after it, and every link still clogged is unclogged at `until` (in the
// drawn order).
type swizzle struct{}

func (swizzle) Name() string { return TypeSwizzle }

func (swizzle) Keys() Keys {
	return Keys{NoLink: true, Params: []Param{
		{Key: "links", Kind: ParamLinkList, Required: true},
		{Key: "step", Kind: ParamDuration, Required: true, Positive: true},
	}}
}

func (swizzle) Expand(s Spec, rng *rand.Rand) ([]Toggle, error) {
	links, step := s.Params.Strings("links"), s.Params.Duration("step")
	switch {
	case len(links) == 0:
		return nil, errors.New("swizzle needs links")
	case step <= 0:
		return nil, errors.New("swizzle needs step > 0")
	}
	if err := checkUntil(s); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, l := range links {
		if seen[l] {
			return nil, fmt.Errorf("swizzle lists link %s twice", l)
		}
		seen[l] = true
	}
	cut := func(t time.Duration) bool { return s.Until > 0 && t >= s.Until }

	var ts []Toggle
	down := map[string]bool{}
	for i, l := range links {
		t := s.At + time.Duration(i)*step
		if cut(t) {
			break
		}
		ts = append(ts, Toggle{Offset: t, Link: l, Action: ActDisable})
		down[l] = true
	}
	order := append([]string(nil), links...)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	t := s.At + time.Duration(len(links))*step
	for _, l := range order {
		if !down[l] {
			continue
		}
		at := t
		if cut(at) {
			at = s.Until
		}
		ts = append(ts, Toggle{Offset: at, Link: l, Action: ActEnable})
		t += step
	}
	ts[len(ts)-1].Heal = true
	return ts, nil
}

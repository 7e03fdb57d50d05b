package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/mtastorm/mtastorm/minip1"
)

// TypeCutAt is the cut_at fault's `type:` value.
const TypeCutAt = "cut_at"

func init() { Register(cutAt{}) }

// cutAt cuts each connection right after the `index`-th (default 1) MiniP1
// unit of kind `unit` (e.g. "BIND") on each chosen stream. It adds the custom
// "cut_at" toxic (package faults/toxi/cutat, registered with the embedded
// server and with `mtastorm toxiproxy`; a stock toxiproxy-server refuses it)
// with attributes `unit` (the unit name) and `index` (≥1). The count is per
// connection and per stream.
type cutAt struct{}

func (cutAt) Name() string { return TypeCutAt }

func (cutAt) Keys() Keys {
	return Keys{Params: []Param{
		{Key: "unit", Kind: ParamUnit, Required: true},
		{Key: "index", Kind: ParamInt, Default: "1", Min: 1},
		streamParam,
	}}
}

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
	return toxicFault(s, TypeCutAt, "cut_at", streams(s.Params.Text("stream")), func() map[string]any {
		return map[string]any{"unit": unit, "index": idx}
	})
}

// Probe writes index+1 units of the toxic's kind and expects the stream to
// end right after the index-th.
func (cutAt) Probe(ctx context.Context, addr string, t Toggle) (string, error) {
	kind, err := minip1.ParseKind(fmt.Sprint(t.Toxic.Attributes["unit"]))
	if err != nil {
		return "", err
	}
	index := max(attr(t, "index"), 1)
	u := sampleUnit(kind)
	frame, err := minip1.AppendFrame(nil, &u, minip1.MaxFrame)
	if err != nil {
		return "", err
	}
	c, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	go func() { _, _ = c.Write(bytes.Repeat(frame, int(index)+1)) }()
	got, err := io.Copy(io.Discard, c)
	detail, err := cutSeen(t, got, int64(len(frame))*index, err)
	if err != nil {
		return "", fmt.Errorf("%w (%d × %s)", err, index, kind)
	}
	return fmt.Sprintf("%s, right after %s #%d", detail, kind, index), nil
}

// sampleUnit returns a minimal valid unit of kind k.
func sampleUnit(k minip1.Kind) minip1.Unit {
	u := minip1.Unit{Kind: k, MTAName: "/O=PROBE", MsgID: "probe", Seq: 1, Payload: []byte("p"), Total: 1, Flags: minip1.FlagLast}
	return u
}

// stormUnits are the MiniP1 units a cut_at sub-fault of a storm may draw.
var stormUnits = []string{"CR", "CC", "BIND", "BIND-ACCEPT", "TRANSFER", "ACK", "RELEASE"}

// cut_at is not in a storm's default mix: it is mixed when named.
func (cutAt) stormDefault() int { return 0 }

// stormDraw: a drawn unit of stormUnits, index 1..2, on a drawn stream.
func (cutAt) stormDraw(p *stormPart, fault int, rng *rand.Rand) {
	toxicPart(p, fault, rng, "cut_at", false, func(rng *rand.Rand) map[string]any {
		return map[string]any{"unit": stormUnits[rng.IntN(len(stormUnits))], "index": between(rng, 1, 2)}
	})
}

// Package cutat is the "cut_at" Toxiproxy toxic: it reads the MiniP1 frames
// (DESIGN.md section 2) flowing through a proxy and cuts the connection right
// after the Nth unit of a given kind, for example right after the first BIND.
//
// Importing the package registers the toxic with Toxiproxy's toxic registry
// (toxics.Register in init), so any Toxiproxy server in the process — the
// embedded backend of faults/toxi, or `mtastorm toxiproxy` — accepts it:
//
//	{"type": "cut_at", "stream": "upstream", "attributes": {"unit": "BIND", "index": 1}}
//
// Attributes:
//   - unit: a MiniP1 unit name as accepted by minip1.ParseKind ("CR", "CC",
//     "BIND", "BIND-ACCEPT" or "bind_accept", "TRANSFER", "ACK", …). Required.
//   - index: which occurrence of unit to cut after, counting from 1 per
//     connection and per direction; default 1.
//
// Validation: Toxiproxy (v2.12.0) has no validation hook, but it decodes the
// "attributes" object into the toxic with encoding/json when a toxic is added
// or updated, and reports a decode error as 400 "bad request body: …". The
// toxic's UnmarshalJSON therefore rejects an unknown unit or an index below 1,
// and the toxic is not added (or, on update, left unchanged). Only a body with
// no "attributes" at all (or "attributes": null) bypasses UnmarshalJSON; such
// a toxic has no unit and passes everything through unchanged.
//
// Behaviour per connection (the toxic is stateful, so the count survives
// toxic updates and is never shared between connections):
//   - Every chunk is forwarded unchanged while the toxic tracks TPKT frame
//     boundaries; frames split across chunks and several frames in one chunk
//     are both handled. Only the first 8 bytes of the current frame are kept
//     (enough to tell its kind); the rest is counted, never buffered.
//   - When the index-th unit of the kind has been read completely, the bytes
//     up to the end of that frame are forwarded, the rest of the chunk is
//     dropped and the connection is cut (the stub is closed, as limit_data
//     does): the receiver sees EOF right after that unit.
//   - A frame whose kind cannot be told (unknown TP0 code or SI) is skipped
//     by its TPKT length and never counted.
//   - If the stream is not MiniP1 — a frame starts with a version byte other
//     than 0x03 or announces a length below 7 — the toxic stops parsing and
//     passes everything through unchanged for the rest of the connection.
//   - Counting starts when the toxic is added, and the first byte it sees
//     is taken as a frame start. Added to a live connection in the middle of
//     a frame, it will most likely see a bad version byte and pass
//     everything through; add it before the connection carries data.
//   - If an update changes unit or index so that the count is already
//     reached, the connection is cut at the next frame boundary (at once if
//     it is at one).
package cutat

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/Shopify/toxiproxy/v2/stream"
	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/mtastorm/mtastorm/minip1"
)

// Type is the name the toxic is registered under.
const Type = "cut_at"

// peekLen is how many bytes of a frame's start minip1.PeekKind needs at most:
// TPKT header (4), DT header (3), SI (1).
const peekLen = 8

// maxKinds bounds the per-kind counters; MiniP1 defines far fewer kinds.
const maxKinds = 32

func init() {
	toxics.Register(Type, new(Toxic))
}

// Toxic is the cut_at toxic. Its exported fields are its JSON attributes.
type Toxic struct {
	// Unit is the MiniP1 unit kind to count, e.g. "BIND" (see minip1.ParseKind).
	Unit string `json:"unit"`
	// Index is which occurrence of Unit to cut after, from 1; 0 means 1.
	Index int `json:"index"`
}

// UnmarshalJSON decodes the attributes over the current values (so an update
// may change just one of them), sets index to 1 if it was never given, and
// rejects an unknown unit or an index below 1. Toxiproxy reports the error
// as HTTP 400 and leaves the toxic unchanged.
func (t *Toxic) UnmarshalJSON(b []byte) error {
	var a struct {
		Unit  *string `json:"unit"`
		Index *int    `json:"index"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("cut_at: %w", err)
	}
	next := *t
	if a.Unit != nil {
		next.Unit = *a.Unit
	}
	if a.Index != nil {
		next.Index = *a.Index
	} else if next.Index == 0 {
		next.Index = 1
	}
	if next.Unit == "" {
		return errors.New("cut_at: attribute unit is required (a MiniP1 unit such as BIND)")
	}
	if _, err := minip1.ParseKind(next.Unit); err != nil {
		return fmt.Errorf("cut_at: attribute unit: %w", err)
	}
	if next.Index < 1 {
		return fmt.Errorf("cut_at: attribute index is %d, want 1 or more", next.Index)
	}
	*t = next
	return nil
}

// State is the per-connection (per stub) state of the toxic; it persists
// across toxic updates until the connection closes.
type State struct {
	passthrough bool          // the stream is not MiniP1: forward everything
	head        [peekLen]byte // start of the current frame
	pos         int           // bytes of the current frame read so far
	frameLen    int           // TPKT length of the current frame, once pos >= 4
	kind        minip1.Kind   // kind of the current frame, once known
	counts      [maxKinds]int // complete units seen, per kind
}

// NewState returns a fresh per-connection state.
func (t *Toxic) NewState() any { return new(State) }

// Pipe forwards chunks from stub.Input to stub.Output, cutting the connection
// after the Index-th Unit (see the package documentation).
func (t *Toxic) Pipe(stub *toxics.ToxicStub) {
	st, _ := stub.State.(*State)
	if st == nil {
		st = new(State)
		stub.State = st
	}
	target, err := minip1.ParseKind(t.Unit)
	if err != nil {
		target = minip1.KindInvalid // never matches: pass through
	}
	index := max(t.Index, 1)
	if st.pos == 0 && !st.passthrough && st.reached(target, index) {
		cutNow(stub)
		return
	}
	for {
		select {
		case <-stub.Interrupt:
			return
		case c := <-stub.Input:
			if c == nil {
				stub.Close()
				return
			}
			cut := st.scan(c.Data, target, index)
			if cut < 0 {
				stub.Output <- c
				continue
			}
			if cut > 0 {
				stub.Output <- &stream.StreamChunk{Data: c.Data[:cut], Timestamp: c.Timestamp}
			}
			cutNow(stub)
			return
		}
	}
}

// cutNow closes the stub, which closes the connection as limit_data does,
// and discards whatever the previous toxic still sends until it closes our
// input. Without the drain, a chunk arriving after the cut would block the
// previous toxic (and the proxy's reader goroutine) forever: once closed, the
// stub is never run again, and Toxiproxy never reads its input otherwise.
func cutNow(stub *toxics.ToxicStub) {
	stub.Close()
	go func(in <-chan *stream.StreamChunk) {
		for range in {
		}
	}(stub.Input)
}

func (st *State) reached(k minip1.Kind, index int) bool {
	return k.Valid() && int(k) < maxKinds && st.counts[k] >= index
}

// scan advances the frame parser over data. It returns the offset just past
// the end of the frame that completes the index-th unit of kind target, or -1
// if no such frame ends in data.
func (st *State) scan(data []byte, target minip1.Kind, index int) int {
	i := 0
	for i < len(data) && !st.passthrough {
		if st.pos < peekLen && (st.pos < minip1.HeaderLen || st.pos < st.frameLen) {
			// Collect the frame's start.
			st.head[st.pos] = data[i]
			st.pos++
			i++
			if st.pos == minip1.HeaderLen {
				st.frameLen = int(st.head[2])<<8 | int(st.head[3])
				if st.head[0] != minip1.Version || st.frameLen < minip1.MinFrame {
					st.passthrough = true
					return -1
				}
			}
			if st.pos >= minip1.HeaderLen && st.pos == min(st.frameLen, peekLen) {
				st.kind = peekKind(st.head[:st.pos])
			}
		} else {
			// Skip the rest of the frame, never buffering it.
			n := min(st.frameLen-st.pos, len(data)-i)
			st.pos += n
			i += n
		}
		if st.pos >= minip1.HeaderLen && st.pos == st.frameLen {
			k := st.kind
			st.pos, st.frameLen, st.kind = 0, 0, minip1.KindInvalid
			if k.Valid() && int(k) < maxKinds {
				st.counts[k]++
			}
			if st.reached(target, index) {
				return i
			}
		}
	}
	return -1
}

// peekKind tells the kind of a frame from its first min(length, 8) bytes.
// minip1.PeekKind wants a complete frame whose TPKT length matches, so it gets
// a copy of those bytes with the length patched to theirs (it reads nothing
// past byte 7). An unknown kind gives minip1.KindInvalid.
func peekKind(start []byte) minip1.Kind {
	var b [peekLen]byte
	n := copy(b[:], start)
	b[2], b[3] = byte(n>>8), byte(n)
	k, err := minip1.PeekKind(b[:n])
	if err != nil {
		return minip1.KindInvalid
	}
	return k
}

var (
	_ toxics.Toxic         = (*Toxic)(nil)
	_ toxics.StatefulToxic = (*Toxic)(nil)
	_ json.Unmarshaler     = (*Toxic)(nil)
)

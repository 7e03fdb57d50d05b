package minip1

import (
	"math"
	"strconv"
)

// transferBody is the association LI of a TRANSFER with a msgID of idLen
// bytes, a payload of c bytes, the flags and total parameters present, and
// the priority parameter present if prio.
func transferBody(idLen, c int, prio bool) int {
	b := 6 + 3 + 1 + lenLen(idLen) + idLen + 1 + lenLen(c) + c + 6
	if prio {
		b += 3
	}
	return b
}

func transferFrame(idLen, c int, prio bool) int {
	b := transferBody(idLen, c, prio)
	return HeaderLen + 3 + 1 + lenLen(b) + b
}

// segmentCapacity returns the largest payload chunk whose TRANSFER frame fits
// in frameMax bytes, or a value below 1 if none does.
func segmentCapacity(idLen int, prio bool, frameMax int) int {
	c := frameMax - transferFrame(idLen, 0, prio)
	for c > 0 && transferFrame(idLen, c, prio) > frameMax {
		c--
	}
	return c
}

// SegmentCapacity returns how many payload bytes one TRANSFER segment of
// message msgID with the given priority can carry in a frame of at most
// frameMax bytes; 0 if not even one byte fits. A frameMax outside
// 1..MaxFrame means MaxFrame.
func SegmentCapacity(msgID string, priority uint8, frameMax int) int {
	return max(segmentCapacity(len(msgID), priority != 0, clampMax(frameMax)), 0)
}

// SegmentOverhead returns the bytes a full TRANSFER segment of message msgID
// spends on everything but its payload, in a frame of at most frameMax bytes:
// the TPKT and DT headers, the SI and LI, and every parameter header and
// integer, assuming the priority and flags parameters are present.
func SegmentOverhead(msgID string, frameMax int) int {
	c := max(segmentCapacity(len(msgID), true, clampMax(frameMax)), 0)
	return transferFrame(len(msgID), c, true) - c
}

// Segment splits payload into TRANSFER units that each encode to at most
// frameMax bytes (a frameMax outside 1..MaxFrame means MaxFrame). The units
// have consecutive Seq starting at firstSeq, FlagLast on the last one only,
// and MsgID, Priority and Total = len(payload) on every one. An empty payload
// gives one segment. The segments' Payload alias payload.
//
// Segment returns nil if frameMax is too small to carry a segment or the
// message cannot be described (msgID longer than 65535 bytes, payload longer
// than 4 GiB); SegmentChecked reports why.
func Segment(msgID string, priority uint8, firstSeq uint32, payload []byte, frameMax int) []Unit {
	units, err := SegmentChecked(msgID, priority, firstSeq, payload, frameMax)
	if err != nil {
		return nil
	}
	return units
}

// SegmentChecked is Segment with an error, matching ErrExceedsMax, instead of
// a nil result.
func SegmentChecked(msgID string, priority uint8, firstSeq uint32, payload []byte, frameMax int) ([]Unit, error) {
	frameMax = clampMax(frameMax)
	if len(msgID) > MaxFrame {
		return nil, &encodeError{kind: KindTransfer, msg: "message id of " + itoa(len(msgID)) + " bytes exceeds 65535", sentinel: ErrExceedsMax}
	}
	if uint64(len(payload)) > math.MaxUint32 {
		return nil, &encodeError{kind: KindTransfer, msg: "message of " + itoa(len(payload)) + " bytes exceeds the 32-bit total", sentinel: ErrExceedsMax}
	}
	if len(payload) == 0 {
		u := Unit{Kind: KindTransfer, Seq: firstSeq, Flags: FlagLast, MsgID: msgID, Priority: priority, Payload: []byte{}}
		n, err := EncodedLen(&u)
		if err == nil && n > frameMax {
			err = &encodeError{kind: KindTransfer, msg: "empty segment of " + itoa(n) + " bytes exceeds limit " + itoa(frameMax), sentinel: ErrExceedsMax}
		}
		if err != nil {
			return nil, err
		}
		return []Unit{u}, nil
	}
	c := segmentCapacity(len(msgID), priority != 0, frameMax)
	if c < 1 {
		return nil, &encodeError{kind: KindTransfer, msg: "limit " + itoa(frameMax) + " leaves no room for payload with a " + itoa(len(msgID)) + "-byte message id", sentinel: ErrExceedsMax}
	}
	n := (len(payload) + c - 1) / c
	units := make([]Unit, n)
	for i := range units {
		lo := i * c
		hi := min(lo+c, len(payload))
		units[i] = Unit{
			Kind:     KindTransfer,
			Seq:      firstSeq + uint32(i),
			MsgID:    msgID,
			Priority: priority,
			Payload:  payload[lo:hi:hi],
			Total:    uint32(len(payload)),
		}
	}
	units[n-1].Flags = FlagLast
	return units, nil
}

// partial is a message being reassembled.
type partial struct {
	next  uint32 // Seq expected next
	total int
	buf   []byte
}

// Reassembler rebuilds messages from their TRANSFER segments. It keeps one
// message in progress per message id; segments of a message must arrive in
// order, with consecutive Seq, each carrying the same Total. It reuses its
// memory from message to message: a stream of messages costs one copy of
// each byte of a segmented message and no allocation once the buffer has
// grown to the largest message (up to 1 MiB; a larger one is not kept). A
// Reassembler is not safe for concurrent use.
type Reassembler struct {
	limit int
	parts map[string]*partial
	// spare is an empty buffer the next segmented message starts in.
	spare []byte
	// lent is the buffer of the message Add returned last: the caller may
	// read it until the next Add or Reset, then it becomes spare.
	lent []byte
	// free is a partial to reuse for the next segmented message.
	free *partial
}

// NewReassembler returns a Reassembler that refuses messages longer than
// limit bytes; a limit of 0 or less means no limit beyond the 32-bit Total.
// Memory grows with the bytes received, not with the announced Total.
func NewReassembler(limit int) *Reassembler {
	if limit <= 0 {
		limit = math.MaxInt
	}
	return &Reassembler{limit: limit, parts: make(map[string]*partial)}
}

// Add adds one TRANSFER segment. When u completes its message, Add returns
// the whole message and done = true. The message is valid until the next
// call of Add or Reset, which may reuse its memory: copy it to keep it. A
// message of one segment is u.Payload itself; a message of several is a
// buffer of the Reassembler, never aliasing a segment's Payload.
//
// An error, matching ErrReassembly, drops the message in progress for
// u.MsgID. Errors: u is not a TRANSFER; Total exceeds the limit; Seq is not
// the one after the previous segment's; Total differs from the first
// segment's; the segment overflows Total; or the last segment leaves the
// message shorter than Total.
func (r *Reassembler) Add(u *Unit) (payload []byte, done bool, err error) {
	if r.lent != nil {
		r.recycle(r.lent)
		r.lent = nil
	}
	if u == nil || u.Kind != KindTransfer {
		k := KindInvalid
		var id string
		var seq uint32
		if u != nil {
			k, id, seq = u.Kind, u.MsgID, u.Seq
		}
		return nil, false, &ReassemblyError{MsgID: id, Seq: seq, Reason: "unit is " + k.String() + ", not TRANSFER"}
	}
	st := r.parts[u.MsgID]
	fail := func(reason string) ([]byte, bool, error) {
		if st != nil {
			delete(r.parts, u.MsgID)
			r.recycle(st.buf)
			*st, r.free = partial{}, st
		}
		return nil, false, &ReassemblyError{MsgID: u.MsgID, Seq: u.Seq, Reason: reason}
	}
	if st == nil && uint64(u.Total) > uint64(r.limit) {
		return fail("total " + strconv.FormatUint(uint64(u.Total), 10) + " exceeds limit " + itoa(r.limit))
	}
	total := int(u.Total) // fits: u.Total <= limit, or equal to st.total
	if st == nil && u.Last() && len(u.Payload) == total {
		// A whole message in one segment: nothing to join, nothing to copy.
		return u.Payload, true, nil
	}
	if st == nil {
		buf := r.spare
		r.spare = nil
		if buf == nil {
			buf = make([]byte, 0, min(total, 1<<16))
		}
		if st = r.free; st != nil {
			r.free = nil
		} else {
			st = new(partial)
		}
		*st = partial{next: u.Seq, total: total, buf: buf}
		r.parts[u.MsgID] = st
	}
	if u.Seq != st.next {
		return fail("seq gap, want " + strconv.FormatUint(uint64(st.next), 10))
	}
	if uint64(u.Total) != uint64(st.total) {
		return fail("total " + strconv.FormatUint(uint64(u.Total), 10) + " differs from " + itoa(st.total) + " in earlier segments")
	}
	if len(u.Payload) > st.total-len(st.buf) {
		return fail("segment of " + itoa(len(u.Payload)) + " bytes overflows total " + itoa(st.total) + " (" + itoa(len(st.buf)) + " bytes so far)")
	}
	st.buf = append(st.buf, u.Payload...)
	st.next++
	if !u.Last() {
		return nil, false, nil
	}
	if len(st.buf) != st.total {
		return fail("last segment leaves message at " + itoa(len(st.buf)) + " of " + itoa(st.total) + " bytes")
	}
	delete(r.parts, u.MsgID)
	msg := st.buf[:st.total:st.total]
	r.lent = st.buf
	*st, r.free = partial{}, st
	return msg, true, nil
}

// maxSpare is the largest buffer a Reassembler keeps between messages: one
// rare large message does not pin its memory for the association's life.
const maxSpare = 1 << 20

// recycle keeps buf as the spare buffer if it is larger than the one kept
// and not larger than maxSpare.
func (r *Reassembler) recycle(buf []byte) {
	if cap(buf) > cap(r.spare) && cap(buf) <= maxSpare {
		r.spare = buf[:0]
	}
}

// Reset drops every message in progress, as when the association ends, and
// releases the Reassembler's buffers.
func (r *Reassembler) Reset() {
	clear(r.parts)
	r.spare, r.lent = nil, nil
}

// Pending returns the number of messages in progress.
func (r *Reassembler) Pending() int { return len(r.parts) }

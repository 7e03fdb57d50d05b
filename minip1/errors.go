package minip1

import (
	"errors"
	"fmt"
)

// ErrMalformed is matched by every decoding error: errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("minip1: malformed frame")

// ErrTooLarge is matched by the error for a frame header that announces more
// than the reader's limit. Such an error also matches ErrMalformed.
var ErrTooLarge = fmt.Errorf("minip1: frame exceeds size limit: %w", ErrMalformed)

// ErrInvalidUnit is matched by encoding errors for a unit that cannot be
// encoded: an invalid kind or a field that does not fit its parameter.
var ErrInvalidUnit = errors.New("minip1: invalid unit")

// ErrExceedsMax is matched by encoding errors for a unit whose frame would be
// longer than the limit given to AppendFrame.
var ErrExceedsMax = errors.New("minip1: frame would exceed size limit")

// ErrReassembly is matched by every error of a Reassembler.
var ErrReassembly = errors.New("minip1: reassembly failed")

// FrameError describes a malformed frame: where it goes wrong and why. Every
// error returned by Decode, PeekKind and the Reader for bad input is a
// *FrameError.
type FrameError struct {
	// Offset is the byte offset within the frame (TPKT header included) of
	// the offending byte or field.
	Offset int
	// Kind is the kind of the unit, when known, else KindInvalid.
	Kind Kind
	// Field names the offending field, such as "TPKT length" or "parameter 0x12".
	Field string
	// Reason says what is wrong, in words.
	Reason string

	err error // optional wrapped sentinel, such as ErrTooLarge
}

// Error returns a message such as
// "minip1: TRANSFER at byte 9: parameter 0x12 length 300 exceeds frame (40 bytes left)".
func (e *FrameError) Error() string {
	what := "frame"
	if e.Kind != KindInvalid {
		what = e.Kind.String()
	}
	return fmt.Sprintf("minip1: %s at byte %d: %s", what, e.Offset, e.Reason)
}

// Is reports whether target is ErrMalformed, so that every FrameError
// matches it.
func (e *FrameError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the sentinel the error wraps (ErrTooLarge for an oversize
// frame header), or nil.
func (e *FrameError) Unwrap() error { return e.err }

func frameErr(off int, k Kind, field, format string, args ...any) *FrameError {
	return &FrameError{Offset: off, Kind: k, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ReassemblyError describes a TRANSFER segment a Reassembler cannot accept.
// It matches ErrReassembly.
type ReassemblyError struct {
	// MsgID is the message id of the segment.
	MsgID string
	// Seq is the sequence number of the segment.
	Seq uint32
	// Reason says what is wrong, in words.
	Reason string
}

// Error returns a message such as
// "minip1: message "m1" segment 7: seq gap, want 6".
func (e *ReassemblyError) Error() string {
	return fmt.Sprintf("minip1: message %q segment %d: %s", e.MsgID, e.Seq, e.Reason)
}

// Is reports whether target is ErrReassembly.
func (e *ReassemblyError) Is(target error) bool { return target == ErrReassembly }

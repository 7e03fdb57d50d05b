package minip1

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// hx decodes a hex string, ignoring spaces.
func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// unitEqual compares units, treating a nil and an empty Payload alike.
func unitEqual(a, b Unit) bool {
	if !bytes.Equal(a.Payload, b.Payload) {
		return false
	}
	a.Payload, b.Payload = nil, nil
	return reflect.DeepEqual(a, b)
}

// fullUnit has every field set to a non-zero value.
func fullUnit(k Kind) Unit {
	return Unit{
		Kind: k, DstRef: 0x1111, SrcRef: 0x2222, Class: 3, TPDUSize: 10,
		CallingTSAP: "calling", CalledTSAP: "called", Reason: 4, Cause: 5, Text: "text",
		MTAName: "c=US;a= ;p=ORG;o=Site;cn=MTA", Password: "secret", AssocID: 0xDEADBEEF, Window: 8,
		Provider: 1, Source: 2, Seq: 0x01020304, Flags: FlagLast, Result: ResultTransient,
		MsgID: "msg-1", Priority: 2, Payload: []byte("payload"), Total: 77,
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	tests := []struct {
		kind Kind
		want Unit // the fields of the kind, from fullUnit
	}{
		{KindCR, Unit{Kind: KindCR, SrcRef: 0x2222, TPDUSize: 10, CallingTSAP: "calling", CalledTSAP: "called"}},
		{KindCC, Unit{Kind: KindCC, DstRef: 0x1111, SrcRef: 0x2222, TPDUSize: 10, CallingTSAP: "calling", CalledTSAP: "called"}},
		{KindDR, Unit{Kind: KindDR, DstRef: 0x1111, SrcRef: 0x2222, Reason: 4, Text: "text"}},
		{KindER, Unit{Kind: KindER, DstRef: 0x1111, Cause: 5}},
		{KindBind, Unit{Kind: KindBind, MTAName: "c=US;a= ;p=ORG;o=Site;cn=MTA", Password: "secret", AssocID: 0xDEADBEEF, Window: 8}},
		{KindBindAccept, Unit{Kind: KindBindAccept, MTAName: "c=US;a= ;p=ORG;o=Site;cn=MTA", AssocID: 0xDEADBEEF, Window: 8}},
		{KindBindRefuse, Unit{Kind: KindBindRefuse, Provider: 1, Reason: 4}},
		{KindTransfer, Unit{Kind: KindTransfer, Seq: 0x01020304, Flags: FlagLast, MsgID: "msg-1", Priority: 2, Payload: []byte("payload"), Total: 77}},
		{KindAck, Unit{Kind: KindAck, Seq: 0x01020304, Result: ResultTransient, MsgID: "msg-1"}},
		{KindRelease, Unit{Kind: KindRelease, Reason: 4}},
		{KindReleaseConfirm, Unit{Kind: KindReleaseConfirm}},
		{KindAbort, Unit{Kind: KindAbort, Reason: 4, Source: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			for _, in := range []Unit{fullUnit(tt.kind), tt.want} {
				frame, err := AppendFrame([]byte("prefix"), &in, MaxFrame)
				if err != nil {
					t.Fatalf("AppendFrame: %v", err)
				}
				if string(frame[:6]) != "prefix" {
					t.Fatalf("dst prefix clobbered")
				}
				frame = frame[6:]
				if n, err := EncodedLen(&in); err != nil || n != len(frame) {
					t.Errorf("EncodedLen = %d, %v; frame is %d", n, err, len(frame))
				}
				got, err := Decode(frame)
				if err != nil {
					t.Fatalf("Decode(% X): %v", frame, err)
				}
				if !unitEqual(got, tt.want) {
					t.Errorf("Decode =\n %+v\nwant\n %+v", got, tt.want)
				}
				if k, err := PeekKind(frame); err != nil || k != tt.kind {
					t.Errorf("PeekKind = %v, %v", k, err)
				}
			}
			// Zero values of the kind round-trip too.
			zero := Unit{Kind: tt.kind}
			frame, err := AppendFrame(nil, &zero, MaxFrame)
			if err != nil {
				t.Fatalf("AppendFrame(zero): %v", err)
			}
			got, err := Decode(frame)
			if err != nil || !unitEqual(got, zero) {
				t.Errorf("zero unit: Decode = %+v, %v", got, err)
			}
		})
	}
}

var long300 = bytes.Repeat([]byte{0xAB}, 300)

// goldenFrames pins the encoding; the hex is computed by hand from DESIGN.md.
var goldenFrames = []struct {
	name string
	unit Unit
	hex  string
}{
	{"CR", Unit{Kind: KindCR, SrcRef: 0x1234, TPDUSize: 13, CallingTSAP: "MTA1", CalledTSAP: "MTA2"},
		"03 00 00 1A  15 E0 0000 1234 00  C0 01 0D  C1 04 4D544131  C2 04 4D544132"},
	{"CC", Unit{Kind: KindCC, DstRef: 0x1234, SrcRef: 0x5678, TPDUSize: 11},
		"03 00 00 0E  09 D0 1234 5678 00  C0 01 0B"},
	{"DR", Unit{Kind: KindDR, DstRef: 0x1234, Reason: DRCongestion, Text: "busy"},
		"03 00 00 11  0C 80 1234 0000 81  E0 04 62757379"},
	{"DR-no-text", Unit{Kind: KindDR, DstRef: 0x1234, Reason: DRUnknownTSAP},
		"03 00 00 0B  06 80 1234 0000 03"},
	{"ER", Unit{Kind: KindER, DstRef: 0x0102, Cause: 2},
		"03 00 00 09  04 70 0102 02"},
	{"BIND", Unit{Kind: KindBind, MTAName: "c=US", Password: "pw", AssocID: 0x01020304, Window: 8},
		"03 00 00 1C  02 F0 80  0D 13  01 04 633D5553  02 02 7077  03 04 01020304  05 01 08"},
	{"BIND-ACCEPT", Unit{Kind: KindBindAccept, AssocID: 9, Window: 4},
		"03 00 00 12  02 F0 80  0E 09  03 04 00000009  05 01 04"},
	{"BIND-REFUSE", Unit{Kind: KindBindRefuse, Reason: 2},
		"03 00 00 0C  02 F0 80  0C 03  07 01 02"},
	{"TRANSFER", Unit{Kind: KindTransfer, Seq: 7, Flags: FlagLast, MsgID: "m1", Priority: 2, Payload: []byte("hi"), Total: 2},
		"03 00 00 23  02 F0 80  14 1A  0A 04 00000007  0B 01 01  10 02 6D31  11 01 02  12 02 6869  13 04 00000002"},
	{"TRANSFER-long", Unit{Kind: KindTransfer, Seq: 1, MsgID: "m", Payload: long300, Total: 1000},
		"03 00 01 4A  02 F0 80  14 FF 01 3F  0A 04 00000001  10 01 6D  12 FF 01 2C " +
			strings.Repeat("AB", 300) + " 13 04 000003E8"},
	{"TRANSFER-empty", Unit{Kind: KindTransfer, Flags: FlagLast, Payload: []byte{}},
		"03 00 00 16  02 F0 80  14 0D  0A 04 00000000  0B 01 01  10 00  12 00"},
	{"ACK", Unit{Kind: KindAck, Seq: 7, Result: ResultDuplicate, MsgID: "m1"},
		"03 00 00 16  02 F0 80  15 0D  0A 04 00000007  0C 01 01  10 02 6D31"},
	{"RELEASE", Unit{Kind: KindRelease, Reason: 0},
		"03 00 00 0C  02 F0 80  09 03  07 01 00"},
	{"RELEASE-CONFIRM", Unit{Kind: KindReleaseConfirm},
		"03 00 00 09  02 F0 80  0A 00"},
	{"ABORT", Unit{Kind: KindAbort, Reason: AbortProtocol, Source: 1},
		"03 00 00 0F  02 F0 80  19 06  07 01 04  08 01 01"},
}

func TestGolden(t *testing.T) {
	for _, g := range goldenFrames {
		t.Run(g.name, func(t *testing.T) {
			want := hx(t, g.hex)
			got, err := AppendFrame(nil, &g.unit, MaxFrame)
			if err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("AppendFrame =\n% X\nwant\n% X", got, want)
			}
			checkParts(t, &g.unit, want)
			u, err := Decode(want)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !unitEqual(u, g.unit) {
				t.Errorf("Decode = %+v, want %+v", u, g.unit)
			}
		})
	}
}

// checkParts checks that AppendFrameParts encodes u as want without its
// payload: the bytes before it, then the bytes after it.
func checkParts(t *testing.T, u *Unit, want []byte) {
	t.Helper()
	prefix := []byte("prefix")
	out, at, err := AppendFrameParts(prefix, u, MaxFrame)
	if err != nil {
		t.Fatalf("AppendFrameParts: %v", err)
	}
	if string(out[:len(prefix)]) != "prefix" || at < len(prefix) || at > len(out) {
		t.Fatalf("AppendFrameParts: prefix clobbered or at %d outside %d..%d", at, len(prefix), len(out))
	}
	var payload []byte
	if u.Kind == KindTransfer {
		payload = u.Payload
	} else if at != len(out) {
		t.Fatalf("%v: at %d, want the end (%d)", u.Kind, at, len(out))
	}
	if got := len(out) - len(prefix); got != len(want)-len(payload) {
		t.Fatalf("AppendFrameParts wrote %d bytes, want %d (the frame without its %d-byte payload)", got, len(want)-len(payload), len(payload))
	}
	joined := slices.Concat(out[len(prefix):at], payload, out[at:])
	if !bytes.Equal(joined, want) {
		t.Fatalf("AppendFrameParts joined =\n% X\nwant\n% X", joined, want)
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want Unit
	}{
		{"unknown PI skipped", "03 00 00 10  02 F0 80  09 07  99 02 AABB  07 01 04", Unit{Kind: KindRelease, Reason: 4}},
		{"PI of another kind skipped", "03 00 00 0F  02 F0 80  09 06  12 01 AA  07 01 04", Unit{Kind: KindRelease, Reason: 4}},
		{"long-form parameter length below 255", "03 00 00 0E  02 F0 80  09 05  07 FF0001 04", Unit{Kind: KindRelease, Reason: 4}},
		{"long-form LI below 255", "03 00 00 0E  02 F0 80  09 FF0003  07 01 04", Unit{Kind: KindRelease, Reason: 4}},
		{"duplicate parameter: last wins", "03 00 00 0F  02 F0 80  09 06  07 01 03  07 01 04", Unit{Kind: KindRelease, Reason: 4}},
		{"reserved byte ignored", "03 FF 00 0F  02 F0 80  09 06  07 01 03  07 01 04", Unit{Kind: KindRelease, Reason: 4}},
		{"unknown TP0 parameter skipped", "03 00 00 0E  09 D0 1234 5678 00  C5 01 0B", Unit{Kind: KindCC, DstRef: 0x1234, SrcRef: 0x5678}},
		{"ER with invalid-TPDU parameter", "03 00 00 0C  07 70 0102 02  C1 01 FF", Unit{Kind: KindER, DstRef: 0x0102, Cause: 2}},
		{"class-0 option bits ignored", "03 00 00 0B  06 E0 0000 1234 03", Unit{Kind: KindCR, SrcRef: 0x1234}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(hx(t, tt.hex))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !unitEqual(got, tt.want) {
				t.Errorf("Decode = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// malformedFrames each name the offset and a part of the reason of the error.
var malformedFrames = []struct {
	name   string
	hex    string
	offset int
	kind   Kind
	reason string
}{
	{"empty", "", 0, KindInvalid, "frame is 0 bytes, minimum 7"},
	{"shorter than minimum", "03 00 00 06 02 F0", 0, KindInvalid, "minimum 7"},
	{"bad version", "04 00 00 09 02 F0 80 0A 00", 0, KindInvalid, "TPKT version 0x04, want 0x03"},
	{"TPKT length too big", "03 00 00 0A 02 F0 80 0A 00", 2, KindInvalid, "TPKT length 10 does not match frame size 9"},
	{"TPKT length too small", "03 00 00 07 02 F0 80 0A 00", 2, KindInvalid, "TPKT length 7 does not match frame size 9"},
	{"unknown TP0 code", "03 00 00 09 04 60 0102 02", 5, KindInvalid, "unknown TP0 code 0x60"},
	{"TP0 LI inconsistent", "03 00 00 09 05 70 0102 02", 4, KindER, "LI 5 inconsistent with frame length 9"},
	{"TP0 LI below fixed part", "03 00 00 07 02 70 01", 4, KindER, "shorter than the 4-byte fixed part"},
	{"CR class 2", "03 00 00 0B 06 E0 0000 1234 20", 10, KindCR, "class 2"},
	{"CC class 4", "03 00 00 0B 06 D0 0000 1234 40", 10, KindCC, "class 4"},
	{"CR dst-ref not zero", "03 00 00 0B 06 E0 0001 1234 00", 6, KindCR, "dst-ref 0x0001"},
	{"TPDU size 2 bytes", "03 00 00 0F 0A E0 0000 1234 00 C0 02 000D", 11, KindCR, "parameter 0xC0 is 2 bytes, want 1"},
	{"TPDU size out of range", "03 00 00 0E 09 E0 0000 1234 00 C0 01 05", 13, KindCR, "TPDU size log2 5 outside 7..16"},
	{"TP0 parameter overruns", "03 00 00 0E 09 E0 0000 1234 00 C1 05 41", 11, KindCR, "parameter 0xC1 length 5 exceeds frame (1 bytes left)"},
	{"TP0 parameter header truncated", "03 00 00 0C 07 E0 0000 1234 00 C1", 11, KindCR, "truncated parameter header"},
	{"DT header bad EOT", "03 00 00 09 02 F0 00 0A 00", 4, KindInvalid, "DT header 02 F0 00, want 02 F0 80"},
	{"DT header bad LI", "03 00 00 09 03 F0 80 0A 00", 4, KindInvalid, "DT header 03 F0 80"},
	{"unknown SI", "03 00 00 09 02 F0 80 77 00", 7, KindInvalid, "unknown SI 0x77"},
	{"SI without LI", "03 00 00 08 02 F0 80 0A", 7, KindInvalid, "association unit truncated"},
	{"assoc LI inconsistent", "03 00 00 09 02 F0 80 0A 01", 8, KindReleaseConfirm, "LI 1 inconsistent with frame (0 bytes follow)"},
	{"assoc LI long form truncated", "03 00 00 0A 02 F0 80 0A FF 00", 8, KindReleaseConfirm, "LI long-form length truncated"},
	{"assoc parameter overruns", "03 00 00 0C 02 F0 80 09 03 07 05 04", 9, KindRelease, "parameter 0x07 length 5 exceeds frame (1 bytes left)"},
	{"assoc parameter length missing", "03 00 00 0A 02 F0 80 09 01 07", 10, KindRelease, "parameter 0x07 length missing"},
	{"assoc parameter long length truncated", "03 00 00 0C 02 F0 80 09 03 07 FF 00", 10, KindRelease, "long-form length truncated"},
	{"u8 parameter of 2 bytes", "03 00 00 0D 02 F0 80 09 04 07 02 0004", 9, KindRelease, "parameter 0x07 is 2 bytes, want 1"},
	{"u32 parameter of 2 bytes", "03 00 00 12 02 F0 80 14 09 0A 02 0007 10 01 6D 12 00", 9, KindTransfer, "parameter 0x0A is 2 bytes, want 4"},
	{"required reason missing", "03 00 00 09 02 F0 80 09 00", 7, KindRelease, "required parameter 0x07 missing"},
	{"required payload missing", "03 00 00 12 02 F0 80 14 09 0A 04 00000007 10 01 6D", 7, KindTransfer, "required parameter 0x12 missing"},
	{"required MTA name missing", "03 00 00 09 02 F0 80 0D 00", 7, KindBind, "required parameter 0x01 missing"},
}

func TestDecodeMalformed(t *testing.T) {
	for _, tt := range malformedFrames {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(hx(t, tt.hex))
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("Decode error = %v, want *FrameError", err)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error does not match ErrMalformed")
			}
			if errors.Is(err, ErrTooLarge) {
				t.Errorf("error matches ErrTooLarge")
			}
			if fe.Offset != tt.offset || fe.Kind != tt.kind || !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("error = %q (offset %d, kind %v), want offset %d, kind %v, reason containing %q",
					err, fe.Offset, fe.Kind, tt.offset, tt.kind, tt.reason)
			}
			if !strings.HasPrefix(err.Error(), "minip1: ") {
				t.Errorf("error %q lacks the minip1: prefix", err)
			}
		})
	}
}

func TestFrameErrorMessage(t *testing.T) {
	_, err := Decode(hx(t, "03 00 00 0F  02 F0 80  14 06  12 FF 012C 4142"))
	want := "minip1: TRANSFER at byte 9: parameter 0x12 length 300 exceeds frame (2 bytes left)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	var fe *FrameError
	if errors.As(err, &fe) && fe.Field != "parameter 0x12" {
		t.Errorf("Field = %q", fe.Field)
	}
	_, err = Decode(hx(t, "04 00 00 09 02 F0 80 0A 00"))
	if want := "minip1: frame at byte 0: TPKT version 0x04, want 0x03"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestPeekKind(t *testing.T) {
	for _, g := range goldenFrames {
		k, err := PeekKind(hx(t, g.hex))
		if err != nil || k != g.unit.Kind {
			t.Errorf("%s: PeekKind = %v, %v", g.name, k, err)
		}
	}
	bad := []struct {
		hex    string
		offset int
	}{
		{"03 00 00 06 02 F0", 0},
		{"03 00 00 0A 02 F0 80 0A 00", 2},
		{"03 00 00 09 04 60 0102 02", 5},
		{"03 00 00 09 02 F0 00 0A 00", 4},
		{"03 00 00 09 02 F0 80 77 00", 7},
	}
	for _, b := range bad {
		_, err := PeekKind(hx(t, b.hex))
		var fe *FrameError
		if !errors.As(err, &fe) || fe.Offset != b.offset || !errors.Is(err, ErrMalformed) {
			t.Errorf("PeekKind(%s) error = %v, want FrameError at %d", b.hex, err, b.offset)
		}
	}
	// PeekKind does not check parameters.
	if k, err := PeekKind(hx(t, "03 00 00 09 02 F0 80 09 00")); err != nil || k != KindRelease {
		t.Errorf("PeekKind of RELEASE without reason = %v, %v", k, err)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		unit *Unit
		max  int
		want error
	}{
		{"nil unit", nil, 0, ErrInvalidUnit},
		{"invalid kind", &Unit{}, 0, ErrInvalidUnit},
		{"undefined kind", &Unit{Kind: 99}, 0, ErrInvalidUnit},
		{"TPDU size too small", &Unit{Kind: KindCR, TPDUSize: 6}, 0, ErrInvalidUnit},
		{"TPDU size too big", &Unit{Kind: KindCC, TPDUSize: 17}, 0, ErrInvalidUnit},
		{"TSAP over 255", &Unit{Kind: KindCR, CallingTSAP: strings.Repeat("x", 256)}, 0, ErrInvalidUnit},
		{"TP0 LI over 254", &Unit{Kind: KindCR, CallingTSAP: strings.Repeat("x", 126), CalledTSAP: strings.Repeat("y", 126)}, 0, ErrInvalidUnit},
		{"DR text over LI", &Unit{Kind: KindDR, Text: strings.Repeat("x", 247)}, 0, ErrInvalidUnit},
		{"frame over max", &Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 100)}, 128, nil},
		{"frame over max by one", &Unit{Kind: KindTransfer, Seq: 7, Flags: FlagLast, MsgID: "m1", Priority: 2, Payload: []byte("hi"), Total: 2}, 34, ErrExceedsMax},
		{"frame over max", &Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 200)}, 128, ErrExceedsMax},
		{"payload over 65535", &Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 70000)}, 0, ErrExceedsMax},
		{"unit over 65535", &Unit{Kind: KindTransfer, MsgID: strings.Repeat("m", 30000), Payload: make([]byte, 40000)}, 0, ErrExceedsMax},
		{"frame just over 65535", &Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, 65535-20)}, 0, ErrExceedsMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			got, err := AppendFrame(dst, tt.unit, tt.max)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("AppendFrame: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("AppendFrame error = %v, want %v", err, tt.want)
			}
			if errors.Is(err, ErrMalformed) {
				t.Errorf("encode error matches ErrMalformed")
			}
			if !bytes.Equal(got, dst) {
				t.Errorf("dst changed on error: % X", got)
			}
			parts, at, perr := AppendFrameParts(dst, tt.unit, tt.max)
			if perr == nil || perr.Error() != err.Error() || !bytes.Equal(parts, dst) || at != len(dst) {
				t.Errorf("AppendFrameParts = % X, %d, %v; want dst unchanged and %v", parts, at, perr, err)
			}
			if !strings.HasPrefix(err.Error(), "minip1: ") {
				t.Errorf("error %q lacks the minip1: prefix", err)
			}
		})
	}
}

func TestLargestFrames(t *testing.T) {
	// The longest TP0 header.
	cr := Unit{Kind: KindCR, TPDUSize: 16, CallingTSAP: strings.Repeat("x", 120), CalledTSAP: strings.Repeat("y", 121)}
	b, err := AppendFrame(nil, &cr, 0)
	if err != nil {
		t.Fatalf("largest CR: %v", err)
	}
	if b[4] != 254 || len(b) != 259 {
		t.Fatalf("largest CR: len %d, LI %d", len(b), b[4])
	}
	if got, err := Decode(b); err != nil || !unitEqual(got, cr) {
		t.Fatalf("Decode of largest CR: %v", err)
	}
	cr.CalledTSAP += "y"
	if _, err := AppendFrame(nil, &cr, 0); !errors.Is(err, ErrInvalidUnit) {
		t.Fatalf("CR with LI 255: error %v", err)
	}
	// A TRANSFER of exactly MaxFrame bytes.
	tr := Unit{Kind: KindTransfer, MsgID: "m", Payload: make([]byte, MaxFrame-4-3-4-6-3-4)}
	b, err = AppendFrame(nil, &tr, MaxFrame)
	if err != nil {
		t.Fatalf("largest TRANSFER: %v", err)
	}
	if len(b) != MaxFrame {
		t.Fatalf("largest TRANSFER: len %d, err %v", len(b), err)
	}
	if got, err := Decode(b); err != nil || !unitEqual(got, tr) {
		t.Fatalf("Decode of largest TRANSFER: %v", err)
	}
}

func TestKindString(t *testing.T) {
	names := []string{"INVALID", "CR", "CC", "DR", "ER", "BIND", "BIND-ACCEPT", "BIND-REFUSE",
		"TRANSFER", "ACK", "RELEASE", "RELEASE-CONFIRM", "ABORT"}
	for i, name := range names {
		k := Kind(i)
		if k.String() != name {
			t.Errorf("Kind(%d).String() = %q, want %q", i, k.String(), name)
		}
		if k == KindInvalid {
			if _, err := ParseKind(name); err == nil {
				t.Errorf("ParseKind(%q) succeeded", name)
			}
			continue
		}
		for _, s := range []string{name, strings.ToLower(name), strings.ReplaceAll(strings.ToLower(name), "-", "_")} {
			if got, err := ParseKind(s); err != nil || got != k {
				t.Errorf("ParseKind(%q) = %v, %v", s, got, err)
			}
		}
	}
	if s := Kind(200).String(); s != "Kind(200)" {
		t.Errorf("Kind(200).String() = %q", s)
	}
	if _, err := ParseKind("bogus"); err == nil || !strings.HasPrefix(err.Error(), "minip1: ") {
		t.Errorf("ParseKind(bogus) error = %v", err)
	}
	codes := map[Kind]byte{KindCR: 0xE0, KindCC: 0xD0, KindDR: 0x80, KindER: 0x70, KindBind: 0x0D,
		KindBindAccept: 0x0E, KindBindRefuse: 0x0C, KindTransfer: 0x14, KindAck: 0x15,
		KindRelease: 0x09, KindReleaseConfirm: 0x0A, KindAbort: 0x19}
	for k, c := range codes {
		if k.Code() != c || !k.Valid() || k.IsTransport() == k.IsAssociation() {
			t.Errorf("%v: Code %#x Valid %v IsTransport %v", k, k.Code(), k.Valid(), k.IsTransport())
		}
	}
}

func TestTPDUSize(t *testing.T) {
	for _, tt := range []struct {
		log2 uint8
		n    int
	}{{0, 8192}, {7, 128}, {11, 2048}, {13, 8192}, {16, 65535}, {6, 0}, {17, 0}} {
		if got := TPDUSizeBytes(tt.log2); got != tt.n {
			t.Errorf("TPDUSizeBytes(%d) = %d, want %d", tt.log2, got, tt.n)
		}
	}
	for _, tt := range []struct {
		n    int
		log2 uint8
	}{{0, 7}, {128, 7}, {255, 7}, {256, 8}, {8192, 13}, {65534, 15}, {65535, 16}, {1 << 20, 16}} {
		if got := TPDUSizeLog2(tt.n); got != tt.log2 {
			t.Errorf("TPDUSizeLog2(%d) = %d, want %d", tt.n, got, tt.log2)
		}
	}
}

func TestDecodePayloadAliasesFrame(t *testing.T) {
	frame := hx(t, goldenFrames[8].hex) // TRANSFER "hi"
	u, err := Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	if cap(u.Payload) != len(u.Payload) {
		t.Errorf("Payload capacity %d exceeds its length %d", cap(u.Payload), len(u.Payload))
	}
	u.Payload[0] = 'X'
	if !bytes.Contains(frame, []byte("Xi")) {
		t.Errorf("Payload does not alias frame")
	}
}

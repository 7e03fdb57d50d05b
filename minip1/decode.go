package minip1

import "fmt"

// bit returns the mask bit of an association PI (all defined PIs are below 32).
func bit(pi byte) uint32 { return 1 << pi }

// assocAllowed holds, per association kind, the PIs that belong to it.
var assocAllowed = [numKinds]uint32{
	KindBind:           bit(PIMTAName) | bit(PIPassword) | bit(PIAssocID) | bit(PIWindow),
	KindBindAccept:     bit(PIMTAName) | bit(PIAssocID) | bit(PIWindow),
	KindBindRefuse:     bit(PIProvider) | bit(PIReason),
	KindTransfer:       bit(PISeq) | bit(PIFlags) | bit(PIMsgID) | bit(PIPriority) | bit(PIPayload) | bit(PITotal),
	KindAck:            bit(PISeq) | bit(PIResult) | bit(PIMsgID),
	KindRelease:        bit(PIReason),
	KindReleaseConfirm: 0,
	KindAbort:          bit(PIReason) | bit(PISource),
}

// assocRequired holds, per association kind, the PIs that must be present.
var assocRequired = [numKinds]uint32{
	KindBind:           bit(PIMTAName),
	KindBindRefuse:     bit(PIReason),
	KindTransfer:       bit(PISeq) | bit(PIMsgID) | bit(PIPayload),
	KindAck:            bit(PISeq) | bit(PIResult) | bit(PIMsgID),
	KindRelease:        bit(PIReason),
	KindAbort:          bit(PIReason),
	KindBindAccept:     0,
	KindReleaseConfirm: 0,
}

// checkHeader validates the TPKT header of a complete frame.
func checkHeader(frame []byte) error {
	if len(frame) < MinFrame {
		return frameErr(0, KindInvalid, "frame", "frame is %d bytes, minimum %d", len(frame), MinFrame)
	}
	if frame[0] != Version {
		return frameErr(0, KindInvalid, "TPKT version", "TPKT version 0x%02X, want 0x%02X", frame[0], Version)
	}
	if n := int(frame[2])<<8 | int(frame[3]); n != len(frame) {
		return frameErr(2, KindInvalid, "TPKT length", "TPKT length %d does not match frame size %d", n, len(frame))
	}
	return nil
}

// PeekKind returns the Kind of a complete frame (TPKT header included)
// without decoding its parameters. It checks the TPKT header, the TP0 code,
// the DT header and the SI, but not the lengths inside the unit, so a frame
// it accepts may still fail Decode.
func PeekKind(frame []byte) (Kind, error) {
	if err := checkHeader(frame); err != nil {
		return KindInvalid, err
	}
	code := frame[5]
	if code != CodeDT {
		k := transportKind(code)
		if k == KindInvalid {
			return KindInvalid, frameErr(5, KindInvalid, "TP0 code", "unknown TP0 code 0x%02X", code)
		}
		return k, nil
	}
	if err := checkDT(frame); err != nil {
		return KindInvalid, err
	}
	if len(frame) < 8 {
		return KindInvalid, frameErr(7, KindInvalid, "SI", "no association unit after the DT header")
	}
	k := assocKind(frame[7])
	if k == KindInvalid {
		return KindInvalid, frameErr(7, KindInvalid, "SI", "unknown SI 0x%02X", frame[7])
	}
	return k, nil
}

func checkDT(frame []byte) error {
	if frame[4] != 2 || frame[6] != 0x80 {
		return frameErr(4, KindInvalid, "DT header", "DT header %02X F0 %02X, want 02 F0 80", frame[4], frame[6])
	}
	return nil
}

// Decode parses one complete frame, TPKT header included; frame must hold
// exactly the frame. Every length is checked against the frame, and every
// failure is a *FrameError matching ErrMalformed. The string fields of the
// result are copies, but Payload aliases frame (with its capacity cut to its
// length).
func Decode(frame []byte) (Unit, error) {
	if err := checkHeader(frame); err != nil {
		return Unit{}, err
	}
	if frame[5] == CodeDT {
		return decodeAssoc(frame)
	}
	return decodeTransport(frame)
}

func decodeTransport(frame []byte) (Unit, error) {
	code := frame[5]
	k := transportKind(code)
	if k == KindInvalid {
		return Unit{}, frameErr(5, KindInvalid, "TP0 code", "unknown TP0 code 0x%02X", code)
	}
	li := int(frame[4])
	if li == 255 {
		return Unit{}, frameErr(4, k, "LI", "LI 255 is reserved")
	}
	if li+5 != len(frame) {
		return Unit{}, frameErr(4, k, "LI", "LI %d inconsistent with frame length %d (want LI %d)", li, len(frame), len(frame)-5)
	}
	fixed := 6
	if k == KindER {
		fixed = 4
	}
	if li < fixed {
		return Unit{}, frameErr(4, k, "LI", "LI %d shorter than the %d-byte fixed part", li, fixed)
	}
	u := Unit{Kind: k, DstRef: uint16(frame[6])<<8 | uint16(frame[7])}
	switch k {
	case KindCR, KindCC:
		if k == KindCR && u.DstRef != 0 {
			return Unit{}, frameErr(6, k, "dst-ref", "CR dst-ref 0x%04X, want 0", u.DstRef)
		}
		u.SrcRef = uint16(frame[8])<<8 | uint16(frame[9])
		if class := frame[10] >> 4; class != 0 {
			return Unit{}, frameErr(10, k, "class", "class %d, only class 0 is supported", class)
		}
	case KindDR:
		u.SrcRef = uint16(frame[8])<<8 | uint16(frame[9])
		u.Reason = frame[10]
	case KindER:
		u.Cause = frame[8]
	}
	for p := 5 + fixed; p < len(frame); {
		if len(frame)-p < 2 {
			return Unit{}, frameErr(p, k, "parameter", "truncated parameter header (%d byte left)", len(frame)-p)
		}
		pc, n := frame[p], int(frame[p+1])
		if left := len(frame) - p - 2; n > left {
			return Unit{}, frameErr(p, k, paramField(pc), "parameter 0x%02X length %d exceeds frame (%d bytes left)", pc, n, left)
		}
		val := frame[p+2 : p+2+n]
		switch {
		case pc == ParamTPDUSize && (k == KindCR || k == KindCC):
			if n != 1 {
				return Unit{}, frameErr(p, k, paramField(pc), "parameter 0x%02X is %d bytes, want 1", pc, n)
			}
			if val[0] < MinTPDUSizeLog2 || val[0] > MaxTPDUSizeLog2 {
				return Unit{}, frameErr(p+2, k, paramField(pc), "TPDU size log2 %d outside 7..16", val[0])
			}
			u.TPDUSize = val[0]
		case pc == ParamCallingTSAP && (k == KindCR || k == KindCC):
			u.CallingTSAP = string(val)
		case pc == ParamCalledTSAP && (k == KindCR || k == KindCC):
			u.CalledTSAP = string(val)
		case pc == ParamDRText && k == KindDR:
			u.Text = string(val)
		}
		p += 2 + n
	}
	return u, nil
}

func paramField(pi byte) string { return fmt.Sprintf("parameter 0x%02X", pi) }

// readLen reads an ISO 8327 length at off and returns it with the offset of
// the byte after it. pi names the parameter whose length it is; -1 means the
// LI of the association unit.
func readLen(frame []byte, off int, k Kind, pi int) (int, int, error) {
	if off >= len(frame) {
		f := lenField(pi)
		return 0, 0, frameErr(off, k, f, "%s length missing at end of frame", f)
	}
	if b := frame[off]; b != 0xFF {
		return int(b), off + 1, nil
	}
	if len(frame)-off < 3 {
		f := lenField(pi)
		return 0, 0, frameErr(off, k, f, "%s long-form length truncated (%d bytes left)", f, len(frame)-off)
	}
	return int(frame[off+1])<<8 | int(frame[off+2]), off + 3, nil
}

func lenField(pi int) string {
	if pi < 0 {
		return "LI"
	}
	return paramField(byte(pi))
}

func decodeAssoc(frame []byte) (Unit, error) {
	if err := checkDT(frame); err != nil {
		return Unit{}, err
	}
	if len(frame) < 9 {
		return Unit{}, frameErr(7, KindInvalid, "SI", "association unit truncated (%d bytes after the DT header, want at least 2)", len(frame)-7)
	}
	si := frame[7]
	k := assocKind(si)
	if k == KindInvalid {
		return Unit{}, frameErr(7, KindInvalid, "SI", "unknown SI 0x%02X", si)
	}
	li, p, err := readLen(frame, 8, k, -1)
	if err != nil {
		return Unit{}, err
	}
	if li != len(frame)-p {
		return Unit{}, frameErr(8, k, "LI", "LI %d inconsistent with frame (%d bytes follow)", li, len(frame)-p)
	}
	u := Unit{Kind: k}
	allowed := assocAllowed[k]
	var seen uint32
	for p < len(frame) {
		pi := frame[p]
		n, v, err := readLen(frame, p+1, k, int(pi))
		if err != nil {
			return Unit{}, err
		}
		if left := len(frame) - v; n > left {
			return Unit{}, frameErr(p, k, paramField(pi), "parameter 0x%02X length %d exceeds frame (%d bytes left)", pi, n, left)
		}
		val := frame[v : v+n : v+n]
		if pi < 32 && allowed&bit(pi) != 0 {
			if err := setAssocParam(&u, pi, val, p); err != nil {
				return Unit{}, err
			}
			seen |= bit(pi)
		}
		p = v + n
	}
	if missing := assocRequired[k] &^ seen; missing != 0 {
		for pi := byte(0); pi < 32; pi++ {
			if missing&bit(pi) != 0 {
				return Unit{}, frameErr(7, k, paramField(pi), "required parameter 0x%02X missing", pi)
			}
		}
	}
	return u, nil
}

func setAssocParam(u *Unit, pi byte, val []byte, off int) error {
	switch pi {
	case PIMTAName:
		u.MTAName = string(val)
	case PIPassword:
		u.Password = string(val)
	case PIMsgID:
		u.MsgID = string(val)
	case PIPayload:
		u.Payload = val
	case PIAssocID, PISeq, PITotal:
		if len(val) != 4 {
			return frameErr(off, u.Kind, paramField(pi), "parameter 0x%02X is %d bytes, want 4", pi, len(val))
		}
		v := uint32(val[0])<<24 | uint32(val[1])<<16 | uint32(val[2])<<8 | uint32(val[3])
		switch pi {
		case PIAssocID:
			u.AssocID = v
		case PISeq:
			u.Seq = v
		default:
			u.Total = v
		}
	default: // one-byte integers
		if len(val) != 1 {
			return frameErr(off, u.Kind, paramField(pi), "parameter 0x%02X is %d bytes, want 1", pi, len(val))
		}
		v := val[0]
		switch pi {
		case PIWindow:
			u.Window = v
		case PIProvider:
			u.Provider = v
		case PIReason:
			u.Reason = v
		case PISource:
			u.Source = v
		case PIFlags:
			u.Flags = v
		case PIResult:
			u.Result = v
		case PIPriority:
			u.Priority = v
		}
	}
	return nil
}

package minip1

import (
	"slices"
	"strconv"
	"strings"
)

// encodeError is an error of AppendFrame.
type encodeError struct {
	kind     Kind
	msg      string
	sentinel error
}

func (e *encodeError) Error() string {
	return "minip1: cannot encode " + e.kind.String() + ": " + e.msg
}

func (e *encodeError) Unwrap() error { return e.sentinel }

func invalidUnit(k Kind, msg string) error {
	return &encodeError{kind: k, msg: msg, sentinel: ErrInvalidUnit}
}

// param is one parameter waiting to be encoded.
type param struct {
	pi    byte
	width int // 1 or 4 for an integer, 0 for a string or byte value
	v     uint32
	s     string
	b     []byte
}

func (p *param) len() int {
	switch {
	case p.width > 0:
		return p.width
	case p.b != nil:
		return len(p.b)
	}
	return len(p.s)
}

func (p *param) appendValue(dst []byte) []byte {
	switch {
	case p.width == 1:
		return append(dst, byte(p.v))
	case p.width == 4:
		return append(dst, byte(p.v>>24), byte(p.v>>16), byte(p.v>>8), byte(p.v))
	case p.b != nil:
		return append(dst, p.b...)
	}
	return append(dst, p.s...)
}

// plist is a short list of parameters; no unit has more than six.
type plist struct {
	ps [8]param
	n  int
}

func (l *plist) str(pi byte, s string)   { l.ps[l.n] = param{pi: pi, s: s}; l.n++ }
func (l *plist) u8(pi byte, v uint8)     { l.ps[l.n] = param{pi: pi, width: 1, v: uint32(v)}; l.n++ }
func (l *plist) u32(pi byte, v uint32)   { l.ps[l.n] = param{pi: pi, width: 4, v: v}; l.n++ }
func (l *plist) bytes(pi byte, b []byte) { l.ps[l.n] = param{pi: pi, b: nonNil(b)}; l.n++ }

func (l *plist) optStr(pi byte, s string) {
	if s != "" {
		l.str(pi, s)
	}
}

func (l *plist) optU8(pi byte, v uint8) {
	if v != 0 {
		l.u8(pi, v)
	}
}

func (l *plist) optU32(pi byte, v uint32) {
	if v != 0 {
		l.u32(pi, v)
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// lenLen is the size of an ISO 8327 length field for n.
func lenLen(n int) int {
	if n < 255 {
		return 1
	}
	return 3
}

func appendLen(dst []byte, n int) []byte {
	if n < 255 {
		return append(dst, byte(n))
	}
	return append(dst, 0xFF, byte(n>>8), byte(n))
}

// AppendFrame encodes u as one complete TPKT frame appended to dst and returns
// the extended slice. It fails, leaving dst unchanged, if u.Kind is not a
// defined kind, if a field does not fit its parameter, or if the frame would
// be longer than max bytes. A max outside 1..MaxFrame means MaxFrame (use it
// when no size has been negotiated).
//
// Only the fields of u's kind are encoded; see the package documentation for
// which are always written and which only when not zero. For CR the
// destination reference is always written as 0, and for CR and CC the class
// as 0, whatever u holds.
func AppendFrame(dst []byte, u *Unit, max int) ([]byte, error) {
	var pl plan
	if err := pl.make(u); err != nil {
		return dst, err
	}
	max = clampMax(max)
	if pl.total > max {
		return dst, &encodeError{kind: u.Kind, msg: "frame of " + itoa(pl.total) + " bytes exceeds limit " + itoa(max), sentinel: ErrExceedsMax}
	}
	out, _ := pl.write(dst, u, false)
	return out, nil
}

// AppendFrameParts is AppendFrame without the copy of a TRANSFER's payload:
// it appends to dst every byte of the frame except the value of the payload
// parameter (0x12) and returns the extended slice and the offset in it at
// which u.Payload belongs. The frame is out[len(dst):at], then u.Payload,
// then out[at:]. Written with one writev (net.Buffers{out[len(dst):at],
// u.Payload, out[at:]}), the payload goes from the caller's slice to the
// socket with no copy in between, however large it is. For every other kind
// nothing is left out and at is len(out). Errors are those of AppendFrame,
// and dst is then returned unchanged.
func AppendFrameParts(dst []byte, u *Unit, max int) (out []byte, at int, err error) {
	var pl plan
	if err := pl.make(u); err != nil {
		return dst, len(dst), err
	}
	max = clampMax(max)
	if pl.total > max {
		return dst, len(dst), &encodeError{kind: u.Kind, msg: "frame of " + itoa(pl.total) + " bytes exceeds limit " + itoa(max), sentinel: ErrExceedsMax}
	}
	out, at = pl.write(dst, u, true)
	return out, at, nil
}

// EncodedLen returns the length of the frame AppendFrame would produce for u,
// or an error if u cannot be encoded within MaxFrame bytes.
func EncodedLen(u *Unit) (int, error) {
	var pl plan
	if err := pl.make(u); err != nil {
		return 0, err
	}
	return pl.total, nil
}

// plan is a unit measured and ready to be written.
type plan struct {
	l     plist
	li    int // TP0 LI, or the association unit's LI
	total int // frame length
}

func (pl *plan) make(u *Unit) error {
	if u == nil {
		return invalidUnit(KindInvalid, "nil unit")
	}
	switch {
	case u.Kind.IsTransport():
		return pl.makeTransport(u)
	case u.Kind.IsAssociation():
		return pl.makeAssoc(u)
	}
	return invalidUnit(u.Kind, "undefined kind")
}

func (pl *plan) makeTransport(u *Unit) error {
	k := u.Kind
	l := &pl.l
	fixed := 6 // code, dst-ref, src-ref, class or reason
	switch k {
	case KindCR, KindCC:
		if u.TPDUSize != 0 {
			if u.TPDUSize < MinTPDUSizeLog2 || u.TPDUSize > MaxTPDUSizeLog2 {
				return invalidUnit(k, "TPDU size log2 "+itoa(int(u.TPDUSize))+" outside 7..16")
			}
			l.u8(ParamTPDUSize, u.TPDUSize)
		}
		l.optStr(ParamCallingTSAP, u.CallingTSAP)
		l.optStr(ParamCalledTSAP, u.CalledTSAP)
	case KindDR:
		l.optStr(ParamDRText, u.Text)
	case KindER:
		fixed = 4 // code, dst-ref, cause
	}
	li := fixed
	for i := 0; i < l.n; i++ {
		n := l.ps[i].len()
		if n > 255 {
			return invalidUnit(k, "parameter 0x"+hex2(l.ps[i].pi)+" is "+itoa(n)+" bytes, limit 255")
		}
		li += 2 + n
	}
	if li > 254 {
		return invalidUnit(k, "TPDU header of "+itoa(li)+" bytes exceeds the LI limit of 254")
	}
	pl.li = li
	pl.total = HeaderLen + 1 + li
	return nil
}

func (pl *plan) makeAssoc(u *Unit) error {
	k := u.Kind
	l := &pl.l
	switch k {
	case KindBind:
		l.str(PIMTAName, u.MTAName)
		l.optStr(PIPassword, u.Password)
		l.optU32(PIAssocID, u.AssocID)
		l.optU8(PIWindow, u.Window)
	case KindBindAccept:
		l.optStr(PIMTAName, u.MTAName)
		l.optU32(PIAssocID, u.AssocID)
		l.optU8(PIWindow, u.Window)
	case KindBindRefuse:
		l.optU8(PIProvider, u.Provider)
		l.u8(PIReason, u.Reason)
	case KindTransfer:
		l.u32(PISeq, u.Seq)
		l.optU8(PIFlags, u.Flags)
		l.str(PIMsgID, u.MsgID)
		l.optU8(PIPriority, u.Priority)
		l.bytes(PIPayload, u.Payload)
		l.optU32(PITotal, u.Total)
	case KindAck:
		l.u32(PISeq, u.Seq)
		l.u8(PIResult, u.Result)
		l.str(PIMsgID, u.MsgID)
	case KindRelease:
		l.u8(PIReason, u.Reason)
	case KindReleaseConfirm:
	case KindAbort:
		l.u8(PIReason, u.Reason)
		l.optU8(PISource, u.Source)
	}
	body := 0
	for i := 0; i < l.n; i++ {
		n := l.ps[i].len()
		if n > MaxFrame {
			return &encodeError{kind: k, msg: "parameter 0x" + hex2(l.ps[i].pi) + " is " + itoa(n) + " bytes, limit 65535", sentinel: ErrExceedsMax}
		}
		body += 1 + lenLen(n) + n
		if body > MaxFrame {
			return &encodeError{kind: k, msg: "unit exceeds " + itoa(MaxFrame) + " bytes", sentinel: ErrExceedsMax}
		}
	}
	pl.li = body
	pl.total = HeaderLen + 3 + 1 + lenLen(body) + body
	if pl.total > MaxFrame {
		return &encodeError{kind: k, msg: "frame of " + itoa(pl.total) + " bytes exceeds " + itoa(MaxFrame), sentinel: ErrExceedsMax}
	}
	return nil
}

// write appends the frame to dst. With split, the value of a TRANSFER's
// payload parameter is left out, and at is the offset in the result where it
// belongs; otherwise at is the length of the result.
func (pl *plan) write(dst []byte, u *Unit, split bool) (out []byte, at int) {
	k := u.Kind
	l := &pl.l
	split = split && k == KindTransfer
	if split {
		dst = slices.Grow(dst, pl.total-len(u.Payload))
	} else {
		dst = slices.Grow(dst, pl.total)
	}
	dst = append(dst, Version, 0, byte(pl.total>>8), byte(pl.total))
	if k.IsTransport() {
		dst = append(dst, byte(pl.li), k.Code())
		switch k {
		case KindCR:
			dst = append(dst, 0, 0, byte(u.SrcRef>>8), byte(u.SrcRef), 0)
		case KindCC:
			dst = append(dst, byte(u.DstRef>>8), byte(u.DstRef), byte(u.SrcRef>>8), byte(u.SrcRef), 0)
		case KindDR:
			dst = append(dst, byte(u.DstRef>>8), byte(u.DstRef), byte(u.SrcRef>>8), byte(u.SrcRef), u.Reason)
		case KindER:
			dst = append(dst, byte(u.DstRef>>8), byte(u.DstRef), u.Cause)
		}
		for i := 0; i < l.n; i++ {
			p := &l.ps[i]
			dst = append(dst, p.pi, byte(p.len()))
			dst = p.appendValue(dst)
		}
		return dst, len(dst)
	}
	dst = append(dst, 2, CodeDT, 0x80, k.Code())
	dst = appendLen(dst, pl.li)
	at = -1
	for i := 0; i < l.n; i++ {
		p := &l.ps[i]
		dst = append(dst, p.pi)
		dst = appendLen(dst, p.len())
		if split && p.pi == PIPayload {
			at = len(dst)
			continue
		}
		dst = p.appendValue(dst)
	}
	if at < 0 {
		at = len(dst)
	}
	return dst, at
}

func itoa(n int) string  { return strconv.Itoa(n) }
func hex2(b byte) string { return strings.ToUpper(strconv.FormatUint(uint64(b)|0x100, 16)[1:]) }

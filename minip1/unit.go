package minip1

// Frame limits and defaults.
const (
	// Version is the TPKT version byte that starts every frame.
	Version = 0x03
	// HeaderLen is the length of the TPKT header.
	HeaderLen = 4
	// MinFrame is the length of the shortest valid frame.
	MinFrame = 7
	// MaxFrame is the absolute TPKT maximum frame length.
	MaxFrame = 65535
	// DefaultTPDUSizeLog2 is the frame size used when CR/CC negotiate none:
	// 1<<13 = 8192 bytes. Parameter 0xC0 carries such a log2, valid 7..16.
	DefaultTPDUSizeLog2 = 13
	// MinTPDUSizeLog2 is the smallest valid value of parameter 0xC0.
	MinTPDUSizeLog2 = 7
	// MaxTPDUSizeLog2 is the largest valid value of parameter 0xC0.
	MaxTPDUSizeLog2 = 16
)

// TP0 parameter codes of CR, CC and DR.
const (
	ParamTPDUSize    = 0xC0 // log2 of the largest frame, u8
	ParamCallingTSAP = 0xC1 // calling TSAP
	ParamCalledTSAP  = 0xC2 // called TSAP
	ParamDRText      = 0xE0 // free text of a DR
)

// PIs of the association units.
const (
	PIMTAName  = 0x01
	PIPassword = 0x02
	PIAssocID  = 0x03
	PIWindow   = 0x05
	PIProvider = 0x06
	PIReason   = 0x07
	PISource   = 0x08
	PISeq      = 0x0A
	PIFlags    = 0x0B
	PIResult   = 0x0C
	PIMsgID    = 0x10
	PIPriority = 0x11
	PIPayload  = 0x12
	PITotal    = 0x13
)

// FlagLast marks the last TRANSFER segment of a message (bit 0 of Flags).
const FlagLast = 0x01

// Results of an ACK.
const (
	ResultAccepted  = 0 // the segment was accepted
	ResultDuplicate = 1 // the message was already received
	ResultTransient = 2 // temporary rejection; send again later
	ResultPermanent = 3 // permanent rejection
)

// Reasons of a DR.
const (
	DRCongestion    = 0x81 // no free KCB
	DRDuplicateTSAP = 0x83 // duplicate calling TSAP
	DRUnknownTSAP   = 0x03 // unknown called TSAP
)

// Reasons of an ABORT.
const (
	AbortLocal     = 0 // local problem
	AbortTemporary = 3 // temporary problem
	AbortProtocol  = 4 // protocol error
)

// Unit is one decoded MiniP1 unit. It is a flat struct: only the fields that
// belong to its Kind are meaningful, the encoder ignores the others and the
// decoder leaves them zero.
type Unit struct {
	// Kind is the type of the unit.
	Kind Kind

	// DstRef is the destination reference of CR (always 0), CC, DR and ER.
	DstRef uint16
	// SrcRef is the source reference of CR, CC and DR.
	SrcRef uint16
	// Class is the transport class of CR and CC. Only class 0 exists: the
	// encoder always writes 0 and the decoder rejects anything else.
	Class uint8
	// TPDUSize is the log2 of the largest frame the sender of a CR or CC
	// accepts (parameter 0xC0, 7..16), or 0 when absent.
	TPDUSize uint8
	// CallingTSAP is the calling TSAP of CR and CC (parameter 0xC1).
	CallingTSAP string
	// CalledTSAP is the called TSAP of CR and CC (parameter 0xC2).
	CalledTSAP string
	// Reason is the reason of DR, BIND-REFUSE, RELEASE and ABORT (PI 0x07
	// for the association units).
	Reason uint8
	// Cause is the reject cause of ER.
	Cause uint8
	// Text is the optional free text of DR (parameter 0xE0).
	Text string

	// MTAName is the distinguished name of the MTA in BIND and BIND-ACCEPT (PI 0x01).
	MTAName string
	// Password is the password of BIND (PI 0x02).
	Password string
	// AssocID identifies the association in BIND and BIND-ACCEPT (PI 0x03).
	AssocID uint32
	// Window is the number of unacknowledged segments allowed, in BIND and
	// BIND-ACCEPT (PI 0x05).
	Window uint8
	// Provider tells who refused a BIND (PI 0x06).
	Provider uint8
	// Source tells who aborted, in ABORT (PI 0x08).
	Source uint8
	// Seq is the sequence number of a TRANSFER segment or of the segment an
	// ACK acknowledges (PI 0x0A).
	Seq uint32
	// Flags holds the TRANSFER flags (PI 0x0B); bit 0 is FlagLast.
	Flags uint8
	// Result is the outcome reported by an ACK (PI 0x0C), one of the Result constants.
	Result uint8
	// MsgID is the message id of TRANSFER and ACK (PI 0x10).
	MsgID string
	// Priority is the message priority of TRANSFER (PI 0x11).
	Priority uint8
	// Payload is the segment data of TRANSFER (PI 0x12). After Decode it
	// aliases the frame.
	Payload []byte
	// Total is the length of the whole message a TRANSFER segment belongs to (PI 0x13).
	Total uint32
}

// Last reports whether u has FlagLast set.
func (u *Unit) Last() bool { return u.Flags&FlagLast != 0 }

// TPDUSizeBytes returns the frame size limit that a parameter 0xC0 value
// stands for: 1<<log2 capped at MaxFrame. A log2 of 0 (parameter absent)
// gives the default size; any other value outside 7..16 gives 0.
func TPDUSizeBytes(log2 uint8) int {
	if log2 == 0 {
		log2 = DefaultTPDUSizeLog2
	}
	if log2 < MinTPDUSizeLog2 || log2 > MaxTPDUSizeLog2 {
		return 0
	}
	return min(1<<log2, MaxFrame)
}

// TPDUSizeLog2 returns the largest valid parameter 0xC0 value whose size does
// not exceed n bytes, clamped to 7..16.
func TPDUSizeLog2(n int) uint8 {
	l := uint8(MinTPDUSizeLog2)
	for l < MaxTPDUSizeLog2 && TPDUSizeBytes(l+1) <= n {
		l++
	}
	return l
}

// clampMax normalises a frame limit: values outside 1..MaxFrame mean MaxFrame.
func clampMax(m int) int {
	if m <= 0 || m > MaxFrame {
		return MaxFrame
	}
	return m
}

package minip1

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind identifies the type of a MiniP1 unit.
type Kind uint8

// The kinds of MiniP1 units. The first four are ISO 8073 class-0 transport
// units; the rest are association units carried in a DT TPDU.
const (
	// KindInvalid is the zero Kind; no unit has it.
	KindInvalid Kind = iota
	// KindCR is a transport connect request (TP0 code 0xE0).
	KindCR
	// KindCC is a transport connect confirm (TP0 code 0xD0).
	KindCC
	// KindDR is a transport disconnect request or refusal (TP0 code 0x80).
	KindDR
	// KindER is a transport error unit (TP0 code 0x70).
	KindER
	// KindBind is an association bind request (SI 0x0D).
	KindBind
	// KindBindAccept accepts a bind request (SI 0x0E).
	KindBindAccept
	// KindBindRefuse refuses a bind request (SI 0x0C).
	KindBindRefuse
	// KindTransfer carries one segment of a message (SI 0x14).
	KindTransfer
	// KindAck acknowledges a TRANSFER segment (SI 0x15).
	KindAck
	// KindRelease asks for an orderly release of the association (SI 0x09).
	KindRelease
	// KindReleaseConfirm confirms a release (SI 0x0A).
	KindReleaseConfirm
	// KindAbort aborts the association (SI 0x19).
	KindAbort

	numKinds
)

// TP0 codes of the transport units and of the DT header.
const (
	CodeCR = 0xE0 // connect request
	CodeCC = 0xD0 // connect confirm
	CodeDR = 0x80 // disconnect request
	CodeER = 0x70 // error
	CodeDT = 0xF0 // data; always sent as 02 F0 80
)

// SI codes of the association units.
const (
	SIBind           = 0x0D
	SIBindAccept     = 0x0E
	SIBindRefuse     = 0x0C
	SITransfer       = 0x14
	SIAck            = 0x15
	SIRelease        = 0x09
	SIReleaseConfirm = 0x0A
	SIAbort          = 0x19
)

var kindNames = [numKinds]string{
	KindInvalid:        "INVALID",
	KindCR:             "CR",
	KindCC:             "CC",
	KindDR:             "DR",
	KindER:             "ER",
	KindBind:           "BIND",
	KindBindAccept:     "BIND-ACCEPT",
	KindBindRefuse:     "BIND-REFUSE",
	KindTransfer:       "TRANSFER",
	KindAck:            "ACK",
	KindRelease:        "RELEASE",
	KindReleaseConfirm: "RELEASE-CONFIRM",
	KindAbort:          "ABORT",
}

// kindCodes maps a kind to its TP0 code (transport kinds) or SI (association kinds).
var kindCodes = [numKinds]byte{
	KindCR:             CodeCR,
	KindCC:             CodeCC,
	KindDR:             CodeDR,
	KindER:             CodeER,
	KindBind:           SIBind,
	KindBindAccept:     SIBindAccept,
	KindBindRefuse:     SIBindRefuse,
	KindTransfer:       SITransfer,
	KindAck:            SIAck,
	KindRelease:        SIRelease,
	KindReleaseConfirm: SIReleaseConfirm,
	KindAbort:          SIAbort,
}

// String returns the upper-case name of the kind, such as "BIND-ACCEPT".
// A value outside the defined kinds prints as "Kind(n)".
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the defined kinds other than KindInvalid.
func (k Kind) Valid() bool { return k > KindInvalid && k < numKinds }

// IsTransport reports whether k is a transport unit (CR, CC, DR or ER).
func (k Kind) IsTransport() bool { return k >= KindCR && k <= KindER }

// IsAssociation reports whether k is an association unit carried in a DT TPDU.
func (k Kind) IsAssociation() bool { return k >= KindBind && k < numKinds }

// Code returns the TP0 code of a transport kind or the SI of an association
// kind, and 0 for KindInvalid or an undefined kind.
func (k Kind) Code() byte {
	if k < numKinds {
		return kindCodes[k]
	}
	return 0
}

// ParseKind returns the kind named s, as printed by Kind.String. The match
// ignores case and accepts an underscore in place of a hyphen, so
// "bind_accept" gives KindBindAccept. "INVALID" is not accepted.
func ParseKind(s string) (Kind, error) {
	name := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
	for k := KindCR; k < numKinds; k++ {
		if kindNames[k] == name {
			return k, nil
		}
	}
	return KindInvalid, fmt.Errorf("minip1: unknown unit kind %q", s)
}

func transportKind(code byte) Kind {
	switch code {
	case CodeCR:
		return KindCR
	case CodeCC:
		return KindCC
	case CodeDR:
		return KindDR
	case CodeER:
		return KindER
	}
	return KindInvalid
}

func assocKind(si byte) Kind {
	switch si {
	case SIBind:
		return KindBind
	case SIBindAccept:
		return KindBindAccept
	case SIBindRefuse:
		return KindBindRefuse
	case SITransfer:
		return KindTransfer
	case SIAck:
		return KindAck
	case SIRelease:
		return KindRelease
	case SIReleaseConfirm:
		return KindReleaseConfirm
	case SIAbort:
		return KindAbort
	}
	return KindInvalid
}

// Package minip1 is the MiniP1 codec: it encodes and decodes the frames that
// stub MTA peers exchange, reads frames from a byte stream, and splits large
// messages into TRANSFER segments and joins them again.
//
// The package is pure: it starts no goroutines, does no logging and never
// panics on any input. No length read from the wire can make it read past a
// frame or allocate more than the frame limit.
//
// It is a leaf of the module: it imports only the standard library, so the
// stub MTA (mtastub/kernel), the cut_at toxic (faults/toxi/cutat), the fault
// probes and lab reproduction (harness/repro) all share one codec.
//
// # Frame format
//
// A frame is an RFC 1006 TPKT carrying one unit:
//
//	byte 0     0x03 (version)
//	byte 1     reserved: sent as 0x00, ignored on receive
//	bytes 2-3  length of the whole frame, big-endian, header included
//	           (at least 7, at most the negotiated size)
//	then       a TP0 unit: LI, code, fixed part, parameters (CR, CC, DR, ER), or
//	           a TP0 DT header (02 F0 80) followed by one association unit:
//	           SI u8 | LI | parameters, each PI u8 | length | value
//
// Transport units follow ISO 8073 class 0, so the TPKT/COTP dissectors of
// Wireshark read the transport layer of a capture. Their LI is one byte and
// counts the TPDU header without the LI byte itself; their parameters are
// code u8 | length u8 | value:
//
//	CR  E0  dst-ref u16 (0), src-ref u16, class-option 0x00; params C0 C1 C2
//	CC  D0  dst-ref u16, src-ref u16, class-option 0x00; params C0 C1 C2
//	DR  80  dst-ref u16, src-ref u16, reason u8; param E0 (text, optional)
//	ER  70  dst-ref u16, cause u8
//
// Parameter 0xC0 carries the log2 of the largest frame the sender accepts
// (7..16), 0xC1 the calling and 0xC2 the called TSAP.
//
// Association units use the ISO 8327 length encoding for their LI and for
// every parameter length: one byte below 255, otherwise 0xFF followed by two
// bytes big-endian. Integers are big-endian: u32 for assoc-id, seq and total,
// u8 for everything else.
//
//	SI 0D BIND             01 MTA name, 02 password, 03 assoc-id, 05 window
//	SI 0E BIND-ACCEPT      01 MTA name, 03 assoc-id, 05 window
//	SI 0C BIND-REFUSE      06 provider, 07 reason
//	SI 14 TRANSFER         0A seq, 0B flags, 10 message id, 11 priority,
//	                       12 payload, 13 total length
//	SI 15 ACK              0A seq, 0C result, 10 message id
//	SI 09 RELEASE          07 reason
//	SI 0A RELEASE-CONFIRM  (none)
//	SI 19 ABORT            07 reason, 08 source
//
// # Optional and required parameters
//
// The encoder writes parameters in ascending PI order and only those that
// belong to the unit's kind. Some are always written and the decoder insists
// on them: the MTA name of BIND, the seq, message id and payload of TRANSFER,
// the seq, result and message id of ACK, and the reason of BIND-REFUSE,
// RELEASE and ABORT. Every other parameter is written only when its value is
// not zero or empty, and decodes as zero or empty when absent. The decoder
// skips parameters that do not belong to the kind, after checking their
// length, and keeps the last of duplicated parameters.
//
// # Copies
//
// AppendFrameParts encodes a TRANSFER without its payload, for a writer that
// sends header, payload and trailer in one writev (net.Buffers): a message
// goes from its submitter's slice to the socket uncopied. Decode returns a
// Payload aliasing the frame, and a Reassembler joins segments in a buffer
// it reuses from message to message.
//
// # Errors
//
// Every decoding error is a *FrameError giving the byte offset within the
// frame and what is wrong there; all of them satisfy
// errors.Is(err, ErrMalformed). A frame header announcing more than the
// reader's limit also satisfies errors.Is(err, ErrTooLarge).
package minip1

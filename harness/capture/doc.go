// Package capture records what stub MTAs write to and read from their
// transport connections as pcapng files, and reads such files back.
//
// # Recording
//
// A [Recorder] belongs to one run. Its [Recorder.Tap] returns the hook an
// in-process stub MTA calls for every connection it dials or accepts
// (mtastub.Config.Tap); the connection it hands back records, per link of
// the run, two files:
//
//	captures/<from>-<to>.sent.pcapng      what the initiator (from) wrote to
//	                                      and read from its socket to the proxy
//	captures/<from>-<to>.received.pcapng  what the responder (to) read from and
//	                                      wrote to its socket from the proxy
//
// Nothing is sniffed: each Write that returns n > 0 is one packet (or a few,
// at most 32 KiB each) from the MTA, each Read that returns n > 0 one packet
// towards it, stamped with the real time and carried in synthesized IPv4 (or
// IPv6) and TCP headers with the connection's real addresses and ports. The
// sequence and acknowledgement numbers follow the bytes, so Wireshark
// reassembles the stream; a connection opens with SYN, SYN/ACK, ACK when it
// is dialed or accepted, and a Close, an EOF and a reset appear as FIN from
// the MTA, FIN from the peer and RST from the peer. Needs no privileges, no
// libpcap and no cgo.
//
// A dialed connection belongs to the link whose proxy address it dialed. An
// accepted one belongs to the link its first frame names: the calling TSAP
// of its CR ("A.3" is A's third connection); without a CR, to the only link
// into the MTA, else to the link into it dialed most recently before the
// accept. The first SYN of every connection carries a packet comment saying
// how it was attributed.
//
// Each file is bounded ([Options.Limit]): once it holds that many bytes,
// later packets are counted and dropped. The file's interface statistics
// block, written on [Recorder.Close], gives the packets written and dropped,
// and captures/README.txt says which files hit the limit.
//
// # Reading
//
// [ReadFile] reads such a file back into connections, each with its two
// byte streams and the MiniP1 units they carry, and [Analyze] pairs a
// link's two files into its wire summary: units and bytes sent and
// received in each direction, per connection and over time.
package capture

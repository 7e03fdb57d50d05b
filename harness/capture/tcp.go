package capture

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// maxSegment is the most payload one synthesized packet carries: a longer
// write or read becomes several packets (an IPv4 packet holds at most 65535
// bytes, headers included).
const maxSegment = 32 << 10

// Initial sequence numbers of the synthesized connections: any value works
// (Wireshark shows sequence numbers relative to them); distinct ones make a
// hex dump readable.
const (
	clientISN = 0x10000000
	serverISN = 0x20000000
)

// tcpFlags are the flags of one synthesized segment.
type tcpFlags uint8

const (
	flagSYN tcpFlags = 1 << iota
	flagACK
	flagPSH
	flagFIN
	flagRST
)

// flow is the TCP state of one synthesized connection as seen from the
// tapped MTA (local) and its peer (remote).
type flow struct {
	local, remote netip.AddrPort
	// next is the next sequence number of each side: [0] local, [1] remote.
	next [2]uint32
	// fin is set once a side has sent FIN; rst once either has reset.
	fin [2]bool
	rst bool
	// ipID counts the IPv4 packets of each side.
	ipID [2]uint16
}

// side indexes flow's per-side arrays.
const (
	localSide  = 0
	remoteSide = 1
)

// newFlow returns the state of a connection between local and remote;
// dialed says the local side opened it (it is the TCP client).
func newFlow(local, remote netip.AddrPort, dialed bool) *flow {
	f := &flow{local: local, remote: remote}
	if dialed {
		f.next = [2]uint32{clientISN, serverISN}
	} else {
		f.next = [2]uint32{serverISN, clientISN}
	}
	return f
}

// addrPort converts a connection address to an AddrPort; it fails for an
// address that is not TCP/IP.
func addrPort(a net.Addr) (netip.AddrPort, error) {
	if t, ok := a.(*net.TCPAddr); ok {
		ap := t.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a == nil {
		return netip.AddrPort{}, fmt.Errorf("capture: no address")
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("capture: address %q is not IP:port: %w", a.String(), err)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// segment encodes one packet sent by side from (localSide or remoteSide)
// with the given flags and payload into buf, advancing the flow: payload,
// SYN and FIN take sequence space. The packet acknowledges everything the
// other side has sent so far (when ACK is set).
func (f *flow) segment(buf gopacket.SerializeBuffer, from int, flags tcpFlags, payload []byte) ([]byte, error) {
	to := 1 - from
	src, dst := f.local, f.remote
	if from == remoteSide {
		src, dst = f.remote, f.local
	}
	tcp := &layers.TCP{
		SrcPort: layers.TCPPort(src.Port()),
		DstPort: layers.TCPPort(dst.Port()),
		Seq:     f.next[from],
		SYN:     flags&flagSYN != 0,
		ACK:     flags&flagACK != 0,
		PSH:     flags&flagPSH != 0,
		FIN:     flags&flagFIN != 0,
		RST:     flags&flagRST != 0,
		Window:  65535,
	}
	if tcp.ACK {
		tcp.Ack = f.next[to]
	}
	f.ipID[from]++
	if src.Addr().Is4() && dst.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, Id: f.ipID[from],
			Flags: layers.IPv4DontFragment, SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice()}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		if err := gopacket.SerializeLayers(buf, serializeOpts, ip, tcp, gopacket.Payload(payload)); err != nil {
			return nil, fmt.Errorf("capture: encode packet: %w", err)
		}
	} else {
		s, d := src.Addr().As16(), dst.Addr().As16()
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: s[:], DstIP: d[:]}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		if err := gopacket.SerializeLayers(buf, serializeOpts, ip, tcp, gopacket.Payload(payload)); err != nil {
			return nil, fmt.Errorf("capture: encode packet: %w", err)
		}
	}
	f.next[from] += uint32(len(payload))
	if tcp.SYN {
		f.next[from]++
	}
	if tcp.FIN {
		f.next[from]++
		f.fin[from] = true
	}
	if tcp.RST {
		f.rst = true
	}
	return buf.Bytes(), nil
}

var serializeOpts = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

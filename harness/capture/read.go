package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/mtastorm/mtastorm/minip1"
)

// File is a capture file read back.
type File struct {
	// Name is the file's base name.
	Name string
	// Conns are its TCP connections in the order they opened.
	Conns []*Conn
	// Packets is the number of packets read; Dropped the number the
	// writer counted and did not write (its size limit), from the file's
	// interface statistics.
	Packets int
	Dropped uint64
}

// Conn is one TCP connection of a capture file.
type Conn struct {
	// Client sent the SYN; Server answered it.
	Client, Server netip.AddrPort
	// Opened is the time of the SYN.
	Opened time.Time
	// Up is what the client sent, Down what the server sent.
	Up, Down Stream
	// CallingTSAP is the calling TSAP of the first CR in Up ("" when
	// there is none).
	CallingTSAP string
}

// Stream is one direction of a connection: its bytes and the MiniP1 units
// they carry.
type Stream struct {
	// Data is every byte of the direction, in order.
	Data []byte
	// Units are the complete frames, each stamped with the packet that
	// completed it.
	Units []Unit
	// Partial is the number of bytes after the last complete frame (a
	// frame cut short, or still on its way when the capture ended).
	Partial int
	// Gap is set when a packet is missing (the file's size limit): the
	// units stop before it.
	Gap bool
	// Bad is the first malformed frame, after which units stop.
	Bad error
	// End is how the sender ended the direction: "FIN", "RST" or "" (open
	// when the capture ended), at EndAt.
	End   string
	EndAt time.Time
	// First and Last are the times of the first and last byte ("" when
	// there is none).
	First, Last time.Time

	next    uint32 // sequence number of the next byte
	started bool
}

// Unit is one MiniP1 frame of a stream.
type Unit struct {
	minip1.Unit
	// At is when the frame's last byte was written or read.
	At time.Time
	// Offset is the frame's offset in the stream; Len its length.
	Offset, Len int
	// PayloadLen is the size of a TRANSFER's payload (Payload is not
	// kept: it is in the stream's Data).
	PayloadLen int
}

// ReadFile reads a capture file written by a Recorder (or any pcapng or
// pcap file of raw IPv4/IPv6 or Ethernet TCP packets).
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	defer fh.Close()
	out := &File{Name: baseName(path)}
	var stats uint64
	br := bufio.NewReader(fh)
	ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{StatisticsCallback: func(_ int, s pcapgo.NgInterfaceStatistics) {
		if s.PacketsDropped != pcapgo.NgNoValue64 {
			stats = s.PacketsDropped
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("capture: %s: not a pcapng file: %w", path, err)
	}
	dec := decoderFor(ng.LinkType())
	if dec == nil {
		return nil, fmt.Errorf("capture: %s: link type %s is not raw IP or Ethernet", path, ng.LinkType())
	}
	open := map[[2]netip.AddrPort]*Conn{}
	for n := 1; ; n++ {
		data, ci, err := ng.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("capture: %s: packet %d: %w", path, n, err)
		}
		out.Packets++
		pkt := gopacket.NewPacket(data, dec, gopacket.NoCopy)
		tcp, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tcp == nil || pkt.NetworkLayer() == nil {
			continue
		}
		srcIP, _ := netip.AddrFromSlice(pkt.NetworkLayer().NetworkFlow().Src().Raw())
		dstIP, _ := netip.AddrFromSlice(pkt.NetworkLayer().NetworkFlow().Dst().Raw())
		src := netip.AddrPortFrom(srcIP.Unmap(), uint16(tcp.SrcPort))
		dst := netip.AddrPortFrom(dstIP.Unmap(), uint16(tcp.DstPort))
		key := connKey(src, dst)
		c := open[key]
		if tcp.SYN && !tcp.ACK {
			c = &Conn{Client: src, Server: dst, Opened: ci.Timestamp}
			c.Up.next, c.Up.started = tcp.Seq+1, true
			open[key] = c
			out.Conns = append(out.Conns, c)
			continue
		}
		if c == nil {
			// A connection whose SYN is not in the file: the client
			// is the side that sent first.
			c = &Conn{Client: src, Server: dst, Opened: ci.Timestamp}
			open[key] = c
			out.Conns = append(out.Conns, c)
		}
		s := &c.Up
		if src != c.Client {
			s = &c.Down
		}
		if tcp.SYN {
			s.next, s.started = tcp.Seq+1, true
			continue
		}
		s.add(tcp, ci.Timestamp)
		if s == &c.Up && c.CallingTSAP == "" && len(s.Units) > 0 && s.Units[0].Kind == minip1.KindCR {
			c.CallingTSAP = s.Units[0].CallingTSAP
		}
	}
	out.Dropped = stats
	sort.SliceStable(out.Conns, func(i, j int) bool { return out.Conns[i].Opened.Before(out.Conns[j].Opened) })
	return out, nil
}

func baseName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' || path[i] == os.PathSeparator {
			return path[i+1:]
		}
	}
	return path
}

func decoderFor(lt layers.LinkType) gopacket.Decoder {
	switch lt {
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6:
		return rawIP{}
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	}
	return nil
}

// rawIP decodes a raw IP packet by its version nibble.
type rawIP struct{}

func (rawIP) Decode(data []byte, p gopacket.PacketBuilder) error {
	if len(data) > 0 && data[0]>>4 == 6 {
		return layers.LayerTypeIPv6.Decode(data, p)
	}
	return layers.LayerTypeIPv4.Decode(data, p)
}

// connKey identifies a connection by its two ends, whichever sent.
func connKey(a, b netip.AddrPort) [2]netip.AddrPort {
	if a.Compare(b) > 0 {
		a, b = b, a
	}
	return [2]netip.AddrPort{a, b}
}

// add appends one segment's bytes to the stream and decodes the frames
// they complete.
func (s *Stream) add(tcp *layers.TCP, ts time.Time) {
	if !s.started {
		s.next, s.started = tcp.Seq, true
	}
	payload := tcp.Payload
	if len(payload) > 0 {
		switch d := int32(tcp.Seq - s.next); {
		case d > 0:
			s.Gap = true
			s.next = tcp.Seq
		case d < 0: // a repeat: keep what is new
			if -d >= int32(len(payload)) {
				payload = nil
			} else {
				payload = payload[-d:]
			}
		}
		if len(payload) > 0 {
			if s.First.IsZero() {
				s.First = ts
			}
			s.Last = ts
			s.Data = append(s.Data, payload...)
			s.next += uint32(len(payload))
			s.frames(ts)
		}
	}
	switch {
	case tcp.RST && s.End == "":
		s.End, s.EndAt = "RST", ts
	case tcp.FIN && s.End == "":
		s.End, s.EndAt = "FIN", ts
		s.next++
	}
}

// frames decodes the complete frames after the last one.
func (s *Stream) frames(ts time.Time) {
	off := 0
	if n := len(s.Units); n > 0 {
		off = s.Units[n-1].Offset + s.Units[n-1].Len
	}
	for s.Bad == nil && !s.Gap {
		rest := s.Data[off:]
		s.Partial = len(rest)
		if len(rest) < minip1.HeaderLen {
			return
		}
		n := int(rest[2])<<8 | int(rest[3])
		if rest[0] != minip1.Version || n < minip1.MinFrame {
			s.Bad = fmt.Errorf("byte %d of the stream: no TPKT header (%02X %02X %02X %02X)", off, rest[0], rest[1], rest[2], rest[3])
			return
		}
		if len(rest) < n {
			return
		}
		u, err := minip1.Decode(rest[:n])
		if err != nil {
			s.Bad = fmt.Errorf("byte %d of the stream: %w", off, err)
			return
		}
		pl := len(u.Payload)
		u.Payload = nil // the stream's Data holds it
		s.Units = append(s.Units, Unit{Unit: u, At: ts, Offset: off, Len: n, PayloadLen: pl})
		off += n
		s.Partial = 0
	}
}

// Bytes returns the number of bytes of the stream.
func (s *Stream) Bytes() int { return len(s.Data) }

package capture

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// fileBuffer is the write buffer of a capture file.
const fileBuffer = 64 << 10

// DefaultLimit is the size limit of one capture file when Options.Limit is 0.
const DefaultLimit = 64 << 20

// Side names which end of a link a capture file records.
type Side string

// The two sides of a link.
const (
	// Sent is the initiator's socket to the proxy: what it wrote and read.
	Sent Side = "sent"
	// Received is the responder's socket from the proxy: what it read and wrote.
	Received Side = "received"
)

// FileName returns the name of a link's capture file, such as
// "A-B.sent.pcapng".
func FileName(from, to string, side Side) string {
	return from + "-" + to + "." + string(side) + ".pcapng"
}

// FileStats says what one capture file holds.
type FileStats struct {
	// Name is the file's name inside the captures folder.
	Name string `json:"name"`
	// Link is "A->B"; Side is sent or received.
	Link string `json:"link"`
	Side Side   `json:"side"`
	// Packets were written; Dropped were not, because the file had
	// reached Limit bytes (DroppedBytes of payload among them).
	Packets      uint64 `json:"packets"`
	Dropped      uint64 `json:"dropped"`
	DroppedBytes int64  `json:"dropped_bytes"`
	// Bytes is the file's size; Limit its bound.
	Bytes int64 `json:"bytes"`
	Limit int64 `json:"limit"`
	// FirstDrop is when the first packet was dropped (zero when none was).
	FirstDrop time.Time `json:"first_drop,omitzero"`
	// Conns is the number of connections recorded.
	Conns int `json:"connections"`
}

// file is one pcapng file being written. Its mutex also guards the TCP
// state of the flows written to it.
type file struct {
	stats FileStats
	path  string

	mu     sync.Mutex
	f      *os.File
	cw     *countingWriter
	bw     *bufio.Writer // between the pcapng writer and the file
	w      *pcapgo.NgWriter
	buf    gopacket.SerializeBuffer
	closed bool
	err    error // the first write error; the file stops there
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// createFile creates path and writes its section header and interface
// description. comment describes the file to a Wireshark user.
func createFile(path string, st FileStats, comment string) (*file, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	// Packets go to the file in large writes: one system call per
	// fileBuffer bytes rather than one or two per packet.
	bw := bufio.NewWriterSize(f, fileBuffer)
	cw := &countingWriter{w: bw}
	w, err := pcapgo.NewNgWriterInterface(cw, pcapgo.NgInterface{
		Name:                "mtastorm-tap",
		Description:         comment,
		LinkType:            layers.LinkTypeRaw,
		TimestampResolution: 9,
	}, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "mtastorm", Comment: comment}})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("capture: %s: %w", path, err)
	}
	st.Bytes = cw.n
	return &file{stats: st, path: path, f: f, cw: cw, bw: bw, w: w, buf: gopacket.NewSerializeBuffer()}, nil
}

// pad4 rounds n up to a multiple of 4.
func pad4(n int) int { return (n + 3) &^ 3 }

// blockLen is the size of the enhanced packet block that write produces
// for a packet of n bytes with the given comment: 28 bytes of header, the
// padded data, the direction flags option (8), the comment option, the
// end of options (4) and the trailing length (4).
func blockLen(n int, comment string) int64 {
	l := 28 + pad4(n) + 8 + 4 + 4
	if comment != "" {
		l += 4 + pad4(len(comment))
	}
	return int64(l)
}

// statsReserve is kept free below the limit for the interface statistics
// block that close writes.
const statsReserve = 512

// emit writes the packets of one event of flow fl: a segment from side
// with flags, carrying payload (split into maxSegment pieces, the flags
// other than ACK and PSH on the last one only), stamped ts. comment, when
// not empty, annotates the first packet. Past the size limit the packets
// are counted as dropped; the flow advances either way, so that later
// packets keep consistent sequence numbers.
func (c *file) emit(fl *flow, from int, flags tcpFlags, payload []byte, ts time.Time, comment string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for first := true; first || len(payload) > 0; first = false {
		chunk, pf := payload, flags
		if len(chunk) > maxSegment {
			chunk = chunk[:maxSegment]
			pf &^= flagFIN | flagRST
		}
		payload = payload[len(chunk):]
		c.packet(fl, from, pf, chunk, ts, comment)
		comment = ""
	}
}

func (c *file) packet(fl *flow, from int, flags tcpFlags, payload []byte, ts time.Time, comment string) {
	data, err := fl.segment(c.buf, from, flags, payload)
	if c.closed || c.err != nil {
		return
	}
	if err != nil {
		c.err = err
		return
	}
	if c.stats.Bytes+blockLen(len(data), comment)+statsReserve > c.stats.Limit {
		if c.stats.Dropped == 0 {
			c.stats.FirstDrop = ts
		}
		c.stats.Dropped++
		c.stats.DroppedBytes += int64(len(payload))
		return
	}
	dir := pcapgo.NgEpbFlagDirectionInbound
	if from == localSide {
		dir = pcapgo.NgEpbFlagDirectionOutbound
	}
	opts := pcapgo.NgPacketOptions{Flags: &pcapgo.NgEpbFlags{Direction: dir}}
	if comment != "" {
		opts.Comments = []string{comment}
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}
	if err := c.w.WritePacketWithOptions(ci, data, opts); err != nil {
		c.err = fmt.Errorf("capture: %s: %w", c.path, err)
		return
	}
	c.stats.Bytes += blockLen(len(data), comment)
	c.stats.Packets++
}

// addConn counts a connection recorded in the file.
func (c *file) addConn() {
	c.mu.Lock()
	c.stats.Conns++
	c.mu.Unlock()
}

// close writes the interface statistics and closes the file.
func (c *file) close(end time.Time) (FileStats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return c.stats, c.err
	}
	c.closed = true
	err := c.err
	if err == nil {
		note := fmt.Sprintf("%d packets written", c.stats.Packets)
		if c.stats.Dropped > 0 {
			note = fmt.Sprintf("size limit of %d bytes reached: %d packets written, %d later packets (%d bytes of payload) not written",
				c.stats.Limit, c.stats.Packets, c.stats.Dropped, c.stats.DroppedBytes)
		}
		err = c.w.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{LastUpdate: end, EndTime: end, Comment: note,
			PacketsReceived: c.stats.Packets + c.stats.Dropped, PacketsDropped: c.stats.Dropped})
		if err == nil {
			err = c.w.Flush()
		}
		if err == nil {
			err = c.bw.Flush()
		}
		if err != nil {
			err = fmt.Errorf("capture: %s: %w", c.path, err)
		}
	}
	if cerr := c.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("capture: %w", cerr)
	}
	c.stats.Bytes = c.cw.n
	c.err = err
	return c.stats, err
}

package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ReadmeName is the file that Recorder.Close writes beside the captures.
const ReadmeName = "README.txt"

// writeReadme writes the captures folder's README.txt: what the files are,
// how to open them, and which of them reached the size limit.
func writeReadme(dir string, limit int64, stats []FileStats, notes []string) error {
	var b strings.Builder
	b.WriteString(`Packet captures of this run, two per link:

  <from>-<to>.sent.pcapng      what <from> (the initiator) wrote to and read from
                               its connections to the link's proxy
  <from>-<to>.received.pcapng  what <to> (the responder) read from and wrote to
                               its connections from the proxy

The packets are the MTAs' own socket writes and reads, stamped with the real
time, in synthesized IPv4/TCP headers with the real addresses and ports
(SYN when a connection was opened, FIN when a side closed it, RST on a reset).
A fault shows as the difference between the two files of its link.

Open one with the MiniP1 dissector of the mtastorm repository:

  wireshark -X lua_script:tools/wireshark/minip1.lua A-B.received.pcapng
  tshark -X lua_script:tools/wireshark/minip1.lua -r A-B.received.pcapng -Y minip1

`)
	fmt.Fprintf(&b, "Each file is limited to %d bytes; past it, packets are counted and not written.\n\n", limit)
	fmt.Fprintf(&b, "%-40s %8s %8s %12s  %s\n", "file", "conns", "packets", "bytes", "limit")
	hit := 0
	for _, s := range stats {
		state := "not reached"
		if s.Dropped > 0 {
			hit++
			state = fmt.Sprintf("REACHED at %s: %d later packets (%d bytes of payload) not written",
				s.FirstDrop.UTC().Format("15:04:05.000000"), s.Dropped, s.DroppedBytes)
		}
		fmt.Fprintf(&b, "%-40s %8d %8d %12d  %s\n", s.Name, s.Conns, s.Packets, s.Bytes, state)
	}
	if hit > 0 {
		fmt.Fprintf(&b, "\n%d file(s) reached the size limit: they end before the run did.\n", hit)
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	if err := os.WriteFile(filepath.Join(dir, ReadmeName), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	return nil
}

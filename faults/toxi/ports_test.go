package toxi

import (
	"net"
	"strconv"
	"testing"
)

// A proxy listens below the ephemeral range, so that while it is disabled
// no outgoing connection or ":0" listener can take its port, and Enable
// finds it free.
func TestProxyPortOutsideEphemeralRange(t *testing.T) {
	lo := ephemeralLow()
	if lo-portBase < 1000 {
		t.Skipf("ephemeral range starts at %d: no room below it", lo)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			be := b.open(t)
			listen := mustCreate(t, be, "mtastorm-ports", "127.0.0.1:9")
			_, portText, err := net.SplitHostPort(listen)
			if err != nil {
				t.Fatal(err)
			}
			port, _ := strconv.Atoi(portText)
			if port < portBase || port >= lo {
				t.Fatalf("proxy listens on %d, want %d..%d (below the ephemeral range)", port, portBase, lo-1)
			}
		})
	}
}

package kernel_test

import (
	"testing"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestOpeningBytesAreWhatTheInitiatorSends: OpeningBytes is the length of
// the CR and the BIND the kernel writes on its first connection, with
// defaults and with a DN, window and frame size of its own.
func TestOpeningBytesAreWhatTheInitiatorSends(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []option
	}{
		{"defaults", nil},
		{"own DN, window, frame size", []option{withWindow(9), func(c *kernel.Config) {
			c.Org, c.Site, c.FrameMax = "CONTOSO", "REDMOND-EAST", 1024
		}}},
	} {
		forModes(t, func(t *testing.T, mode string) {
			n := newFakeNet()
			h := startKernel(t, n, "A", mode, append([]option{withPeer("B", "B")}, c.opts...)...)
			defer h.close()
			lb := n.listen("B")
			h.submit("m1", 100)
			p := h.acceptOut(lb)
			cr := p.answerCR()
			bind := p.expect(minip1.KindBind)
			sent := len(frame(cr)) + len(frame(bind))
			got, err := kernel.OpeningBytes(h.cfg, "B")
			if err != nil {
				t.Fatal(err)
			}
			equal(t, c.name+": OpeningBytes", got, sent)
		})
	}
	if _, err := kernel.OpeningBytes(kernel.Config{}, "B"); err == nil {
		t.Error("OpeningBytes without a name succeeded")
	}
}

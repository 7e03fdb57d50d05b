package kernel_test

import (
	"testing"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// With extended events on, a pool with no free KCB logs 9156 naming the
// pool size, and a live association that fails logs 1294 after its 1004;
// with them off (the default) neither appears.
func TestExtendedCompanions(t *testing.T) {
	for _, ext := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[ext]
		t.Run(name, func(t *testing.T) {
			forModes(t, func(t *testing.T, mode string) {
				opts := []option{withKCBs(2)}
				if ext {
					opts = append(opts, withExtended())
				}
				h := startKernel(t, newFakeNet(), "B", mode, opts...)
				defer h.close()
				p := h.associateIn("A.1") // takes the only KCB
				extra := h.dialIn()       // no Idle KCB: 1277 (+ 9156)
				extra.send(crUnit("A.2"))
				equalSlice(t, "refused peer", extra.drain(), []string{"DR 0x81", "EOF"})
				p.close() // the live association ends abnormally: 1004 (+ 1294)

				want := map[bool][]string{
					false: {"1277 kcb=1", "1004 kcb=1 [3 26 2 1]"},
					true:  {"1277 kcb=1", "9156 kcb=0", "1004 kcb=1 [3 26 2 1]", "1294 kcb=1"},
				}[ext]
				equalSlice(t, "events", h.events(eventlog.IDConnRefused, eventlog.IDNoControlBlocks,
					eventlog.IDAssocError, eventlog.IDAbnormalEnd), want)
				if ext {
					r := h.record(eventlog.IDNoControlBlocks)
					equal(t, "9156 limit", r.Limit, 2)
					end := h.record(eventlog.IDAbnormalEnd)
					equal(t, "1294 entity", end.Entity, dnA)
				}
			})
		})
	}
}

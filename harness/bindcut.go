package harness

import (
	"fmt"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// CutInsideBind returns the byte count that cuts the first connection from
// the MTA of spec to the MTA called to one byte before the end of its BIND:
// len(CR) + len(BIND) − 1, as the kernel builds and encodes them
// (kernel.OpeningBytes). A truncate of that many bytes on the up stream
// leaves to waiting in OpenPending for a BIND that never completes (the
// deterministic Q152877 leak generator).
func CutInsideBind(spec scenario.MTASpec, to string) (int64, error) {
	n, err := kernel.OpeningBytes(kernel.Config{Name: spec.Name, Org: spec.Org, Site: spec.Site, Window: spec.Window}, to)
	if err != nil {
		return 0, fmt.Errorf("harness: cut inside BIND %s->%s: %w", spec.Name, to, err)
	}
	return int64(n) - 1, nil
}

package harness

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/mtastorm/mtastorm/harness/scenario"
)

// File descriptors a run holds, by what holds them (DESIGN.md section 11,
// the 200-MTA row). An association through a link costs four: the
// initiator's socket, the proxy's accepted and upstream sockets, the
// responder's accepted socket. A link may carry an association each way
// plus one still closing (sp0 keeps a stale path until `disconnect`), and
// its probe twin a probe in flight (the same four, the echo server's side
// included).
const (
	fdsPerMTA = 2 // its listener, and its store or a spare
	// fdsPerLink: the proxy's and the probe twin's listeners (2), three
	// associations (12) and one probe (4).
	fdsPerLink = 2 + 3*4 + 4
	// fdsReserved: the process itself (stdio, the embedded Toxiproxy's
	// API listener, the echo server, the bundle files, the Go runtime).
	fdsReserved = 64
)

// FDsNeeded returns how many file descriptors a run of sc needs at most.
func FDsNeeded(sc *scenario.Scenario) int {
	return fdsReserved + len(sc.MTAs)*fdsPerMTA + len(sc.Links)*fdsPerLink
}

// ErrFDLimit is wrapped by the error of a run the descriptor limit cannot hold.
var ErrFDLimit = errors.New("not enough file descriptors")

// nofile reads and sets RLIMIT_NOFILE; tests replace it to inject a limit.
var nofile = struct {
	get func() (cur, max uint64, err error)
	set func(cur, max uint64) error
}{
	get: func() (uint64, uint64, error) {
		var rl syscall.Rlimit
		err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
		return rl.Cur, rl.Max, err
	},
	set: func(cur, max uint64) error {
		return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: cur, Max: max})
	},
}

// openFDs counts the descriptors open now (0 when unknown).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

// checkFDs checks, before anything starts, that RLIMIT_NOFILE holds what
// a run of sc needs beside the descriptors open already. When the soft
// limit is too low but the hard one is enough, the soft limit is raised to
// the hard one (Go raises it at start on Linux already; a parent may have
// lowered it again). Otherwise the error names the limit, the need and how
// it was counted.
func checkFDs(sc *scenario.Scenario) error {
	need := FDsNeeded(sc) + openFDs()
	cur, max, err := nofile.get()
	if err != nil {
		return fmt.Errorf("harness: read RLIMIT_NOFILE: %w", err)
	}
	if uint64(need) <= cur {
		return nil
	}
	if uint64(need) <= max {
		if err := nofile.set(max, max); err == nil {
			return nil
		}
	}
	return fmt.Errorf("harness: %s needs about %d file descriptors (%d MTAs × %d, %d links × %d, %d for the process, %d open already) but RLIMIT_NOFILE is %d (hard limit %d): raise it (ulimit -n %d) or run fewer MTAs and links: %w",
		sc.Name, need, len(sc.MTAs), fdsPerMTA, len(sc.Links), fdsPerLink, fdsReserved, need-FDsNeeded(sc), cur, max, need, ErrFDLimit)
}

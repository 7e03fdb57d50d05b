package suitekit

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gleak"
	"github.com/onsi/gomega/gleak/goroutine"
)

// hygieneWait is how long the goroutines and sockets of a finished run get
// to wind down before they count as leaked.
const hygieneWait = 5 * time.Second

// externalSlack is how many more sockets a spec may leave open against an
// external toxiproxy-server: the HTTP client keeps up to four idle
// keep-alive connections to it between calls.
const externalSlack = 4

// Hygiene checks that no goroutine and no socket survives a spec (DESIGN.md
// section 6, "Hygiene"). Register it once per suite, at the top level:
//
//	var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)
//
// OncePerOrdered makes it cover an ordered container as a whole, so a run
// started in BeforeAll is checked when the container ends. It takes a
// baseline of goroutines and sockets and registers a DeferCleanup, which
// runs after the spec's own cleanups and waits up to 5s for both to fall
// back. Ignored: Ginkgo's and Gomega's own goroutines (gleak's standard
// filters), net/http's idle keep-alive connections to an external
// toxiproxy-server, and Toxiproxy's own leak (see toxiproxyStuck).
func Hygiene() {
	GinkgoHelper()
	base := gleak.Goroutines()
	sockets := countSockets()
	DeferCleanup(func(ctx SpecContext) {
		Eventually(ctx, gleak.Goroutines).WithTimeout(hygieneWait).ShouldNot(gleak.HaveLeaked(base,
			gleak.IgnoringInBacktrace("net/http.(*persistConn).readLoop"),
			gleak.IgnoringInBacktrace("net/http.(*persistConn).writeLoop"),
			toxiproxyStuck,
		), "goroutines left behind by the spec")
		if sockets < 0 {
			return // no /proc: sockets are not counted on this platform
		}
		// Each stuck Toxiproxy reader holds the accepted client socket.
		limit := sockets + stuckReaders(base)
		if External() {
			limit += externalSlack
		}
		Eventually(ctx, countSockets).WithTimeout(hygieneWait).Should(BeNumerically("<=", limit),
			"sockets left open by the spec (before it: %d; see /proc/%d/fd)", sockets, os.Getpid())
	})
}

// toxiproxyStuck matches the goroutines Toxiproxy v2.12.0 itself leaks: when
// a link's writer fails (its destination closed first) it returns without
// draining the link's channels or closing its source, so the link's reader
// (ToxicLink.read, holding the accepted socket) and its toxic stubs block in
// a channel send for good; the proxy no longer lists the connection, so
// removing the proxy does not close it either. Only goroutines created by a
// ToxicLink and blocked in "chan send" match: any other Toxiproxy goroutine
// left behind still counts as a leak.
var toxiproxyStuck = And(
	gleak.IgnoringCreator("github.com/Shopify/toxiproxy/v2.(*ToxicLink)..."),
	WithTransform(func(g goroutine.Goroutine) string { return g.State }, HavePrefix("chan send")),
)

// stuckReaders counts the stuck Toxiproxy link readers not in base.
func stuckReaders(base []goroutine.Goroutine) int {
	old := map[uint64]bool{}
	for _, g := range base {
		old[g.ID] = true
	}
	n := 0
	for _, g := range gleak.Goroutines() {
		if old[g.ID] || !strings.HasPrefix(g.State, "chan send") {
			continue
		}
		if strings.Contains(g.Backtrace, "toxiproxy/v2.(*ToxicLink).read(") {
			n++
		}
	}
	return n
}

// countSockets counts this process's open sockets, or returns -1 where
// /proc/self/fd is not available.
func countSockets() int {
	if runtime.GOOS != "linux" {
		return -1
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		if dst, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(dst, "socket:") {
			n++
		}
	}
	return n
}

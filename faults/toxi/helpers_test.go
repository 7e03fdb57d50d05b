package toxi

import (
	"bufio"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds a blocking step of a test so that a bug fails the test
// instead of hanging it; it is never a guess at how long something takes.
const failAfter = 10 * time.Second

// client is a connection through a proxy.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{c: c, r: bufio.NewReader(c)}
}

// roundTrip sends a line and waits for its echo; returns how long it took.
func (c *client) roundTrip(t *testing.T, line string) time.Duration {
	t.Helper()
	_ = c.c.SetDeadline(time.Now().Add(failAfter))
	start := time.Now()
	if _, err := c.c.Write([]byte(line + "\n")); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := c.r.ReadString('\n')
	if err != nil {
		t.Fatalf("read echo of %q: %v", line, err)
	}
	d := time.Since(start)
	if got != line+"\n" {
		t.Fatalf("echo = %q, want %q", got, line+"\n")
	}
	return d
}

// waitClosed blocks until the peer closes the connection (EOF or reset).
func (c *client) waitClosed(t *testing.T) {
	t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(failAfter))
	buf := make([]byte, 64)
	for {
		_, err := c.r.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v", failAfter)
		}
		return // EOF or ECONNRESET: closed
	}
}

// assertRefused checks that a new dial to addr is refused.
func assertRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, failAfter)
	if err == nil {
		_ = c.Close()
		t.Fatalf("dial %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want ECONNREFUSED", addr, err)
	}
}

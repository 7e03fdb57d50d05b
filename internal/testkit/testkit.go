// Package testkit holds the helpers the plain Go tests of mtastorm share:
// a bounded context, a buffer safe for concurrent writers, a poll with an
// explicit deadline, and TCP servers on 127.0.0.1 that the test stops. It
// is plain Go (the testing package only); the Ginkgo suites use
// suites/suitekit instead.
package testkit

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeout bounds a test's blocking steps (Context), so that a bug fails
// the test with a message instead of hanging until go test's -timeout.
const Timeout = 60 * time.Second

// Context returns a context that ends after Timeout or when t's cleanups
// run, whichever is first. It is still live in cleanups registered after
// this call (they run first), so a test can close what it opened with it.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Buffer is a strings.Builder safe for concurrent writers and readers: a
// logger's or a process's output that the test reads while it is written.
// The zero value is empty and ready.
type Buffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// pollEvery is how often Eventually tests its condition.
const pollEvery = 5 * time.Millisecond

// Eventually tests cond every few milliseconds until it holds, and fails
// the test (t.Fatalf, naming what and d) if it still does not after d. Use
// it where the code under test offers no event to wait for; the deadline
// is a bound for a bug, not a guess at how long the work takes.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
			return
		}
		time.Sleep(pollEvery)
	}
}

// ClosedAddr returns a 127.0.0.1 address nothing listens on (a port just
// closed): a dial to it is refused.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: listen: %v", err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// Serve starts a TCP server on 127.0.0.1:0 that runs handler on each
// connection it accepts (and closes the connection when handler returns),
// and returns its address. The test's cleanup closes the listener and
// every open connection, then waits for the handlers to return.
func Serve(t testing.TB, handler func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handler(c)
				_ = c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// Echo is a Serve handler that writes back what it reads until EOF.
func Echo(c net.Conn) { _, _ = io.Copy(c, c) }

// Hold is a Serve handler that accepts and holds a connection, reading and
// dropping what arrives, until the peer or the cleanup closes it.
func Hold(c net.Conn) { _, _ = io.Copy(io.Discard, c) }

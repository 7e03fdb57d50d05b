package testkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestContextEndsWithTheTest(t *testing.T) {
	var ctx context.Context
	var during, inCleanup error
	t.Run("inner", func(t *testing.T) {
		ctx = Context(t)
		t.Cleanup(func() { inCleanup = ctx.Err() }) // registered later: runs first
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > Timeout {
			t.Fatalf("deadline %v (set %v), want within %v", dl, ok, Timeout)
		}
		during = ctx.Err()
	})
	if during != nil || inCleanup != nil {
		t.Errorf("done too early: while the test ran %v, in a later cleanup %v", during, inCleanup)
	}
	if ctx.Err() == nil {
		t.Error("the context is still live after the test ended")
	}
}

func TestBufferConcurrentWriters(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("%d lines, want 800", n)
	}
}

// fatalTB records Fatalf and ends the goroutine as testing does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func eventuallyOn(d time.Duration, what string, cond func() bool) string {
	f := &fatalTB{TB: nil}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(f, d, what, cond)
	}()
	<-done
	return f.msg
}

func TestEventually(t *testing.T) {
	n := 0
	if msg := eventuallyOn(time.Minute, "third call", func() bool { n++; return n == 3 }); msg != "" || n != 3 {
		t.Errorf("a condition that holds on the third call: failed %q after %d calls", msg, n)
	}
	if msg := eventuallyOn(20*time.Millisecond, "never", func() bool { return false }); msg != "not within 20ms: never" {
		t.Errorf("a condition that never holds: %q", msg)
	}
}

func TestClosedAddrRefuses(t *testing.T) {
	_, err := net.Dial("tcp", ClosedAddr(t))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial: %v, want connection refused", err)
	}
}

func TestServeEchoesAndCleansUp(t *testing.T) {
	var held net.Conn
	t.Run("inner", func(t *testing.T) {
		addr := Serve(t, Echo)
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Fatalf("address %s, want 127.0.0.1", addr)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 4)
		if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
			t.Fatalf("echo %q, %v", got, err)
		}
		held = c
		// A held connection too: the cleanup must close it.
		h, err := net.Dial("tcp", Serve(t, Hold))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = h.Close() })
	})
	defer held.Close()
	_ = held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := held.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("after the cleanup: read %d, %v; want EOF (the server closed its side)", n, err)
	}
}

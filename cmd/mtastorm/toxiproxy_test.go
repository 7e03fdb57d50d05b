package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/minip1"
)

// toxiproxyFailAfter bounds a blocking step so that a bug fails the test
// instead of hanging it.
const toxiproxyFailAfter = 10 * time.Second

func toxiproxyTestFrame(t *testing.T, u minip1.Unit) []byte {
	t.Helper()
	b, err := minip1.AppendFrame(nil, &u, 0)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestToxiproxyCmdServesCutAt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr testkit.Buffer
	done := make(chan int, 1)
	go func() {
		code := toxiproxyCmd(ctx, []string{"--port", "0"}, pw, &stderr)
		_ = pw.Close()
		done <- code
	}()
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(pr).ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(toxiproxyFailAfter):
		t.Fatalf("no listening line; stderr: %s", stderr.String())
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "toxiproxy listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("stdout line %q, want \"toxiproxy listening on http://127.0.0.1:PORT\"", line)
	}

	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	r, err := toxi.NewRemote(rctx, url, toxi.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close(context.Background())

	// A one-connection server that reports what it read until EOF.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(toxiproxyFailAfter))
		b, _ := io.ReadAll(c)
		got <- b
	}()

	name := toxi.ProxyPrefix + "cmd-cutat"
	listen, err := r.CreateProxy(rctx, name, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddToxic(rctx, name, toxi.Toxic{Name: "bad", Type: "cut_at", Stream: "upstream",
		Attributes: map[string]any{"unit": "NOT-A-UNIT"}}); err == nil || !strings.Contains(err.Error(), "cut_at") {
		t.Fatalf("invalid unit: err %v, want a cut_at rejection", err)
	}
	if err := r.AddToxic(rctx, name, toxi.Toxic{Name: "cut", Type: "cut_at", Stream: "upstream",
		Attributes: map[string]any{"unit": "BIND", "index": 1}}); err != nil {
		t.Fatal(err)
	}
	cr := toxiproxyTestFrame(t, minip1.Unit{Kind: minip1.KindCR, SrcRef: 1, CallingTSAP: "A", CalledTSAP: "B"})
	bind := toxiproxyTestFrame(t, minip1.Unit{Kind: minip1.KindBind, MTAName: "cn=A", AssocID: 1, Window: 1})
	tr := toxiproxyTestFrame(t, minip1.Unit{Kind: minip1.KindTransfer, Seq: 1, MsgID: "m", Payload: []byte("x"), Total: 1})
	c, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, f := range [][]byte{cr, bind, tr} {
		if _, err := c.Write(f); err != nil {
			break
		}
	}
	select {
	case b := <-got:
		if want := append(append([]byte(nil), cr...), bind...); !bytes.Equal(b, want) {
			t.Fatalf("server got % X, want CR+BIND % X", b, want)
		}
	case <-time.After(toxiproxyFailAfter):
		t.Fatal("server never saw EOF")
	}

	cancel()
	select {
	case code := <-done:
		if code != exitPassed {
			t.Fatalf("exit %d, want 0; stderr: %s", code, stderr.String())
		}
	case <-time.After(toxiproxyFailAfter):
		t.Fatal("toxiproxy did not stop on cancel")
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), time.Second); err == nil {
		c.Close()
		t.Fatal("API still accepts after exit")
	}
	if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		c.Close()
		t.Fatal("proxy still accepts after exit")
	}
}

func TestToxiproxyCmdBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--port", "x"},
		{"--port", "70000"},
		{"--port", "-1"},
		{"--bogus"},
		{"extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := toxiproxyCmd(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%q: exit %d, want %d; stderr %s", args, code, exitUsage, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: stdout %q", args, stdout.String())
		}
	}
}

func TestToxiproxyCmdCannotListen(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	var stdout, stderr bytes.Buffer
	if code := toxiproxyCmd(context.Background(), []string{"--port", port}, &stdout, &stderr); code != exitInfra {
		t.Fatalf("port in use: exit %d, want %d; stderr %s", code, exitInfra, stderr.String())
	}
	if !strings.Contains(stderr.String(), "address already in use") || stdout.Len() != 0 {
		t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
}

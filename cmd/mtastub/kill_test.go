package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub/admin"
)

// binary builds cmd/mtastub once per test binary run.
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the mtastub binary")
	}
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "mtastub-bin-")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "mtastub")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// proc is one mtastub process.
type proc struct {
	started
	cmd    *exec.Cmd
	waited chan error
	c      client
}

// startProc starts the binary with args and waits for its start line.
func startProc(t *testing.T, bin, logFile string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, waited: make(chan error, 1)}
	lineCh := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lineCh <- line
		_, _ = io.Copy(io.Discard, br)
		p.waited <- cmd.Wait()
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case line := <-lineCh:
		s, err := parseStartLine(line)
		if err != nil {
			t.Fatalf("%v (log %s)", err, logFile)
		}
		p.started, p.c = s, client{base: s.admin}
	case <-time.After(15 * time.Second):
		t.Fatalf("%s: no start line within 15s (log %s)", args, logFile)
	}
	return p
}

// kill SIGKILLs the process and waits for it; killing a dead one is a no-op.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t)
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.waited:
		p.waited <- err
		return err
	case <-time.After(15 * time.Second):
		t.Fatalf("%s did not exit within 15s", p.name)
	}
	return nil
}

// deliveryStream follows /v1/deliveries of p until the process dies or
// the test ends.
func deliveryStream(t *testing.T, p *proc) <-chan admin.Delivery {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.admin+"/v1/deliveries?follow=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("follow deliveries of %s: %v %v", p.name, resp, err)
	}
	out := make(chan admin.Delivery)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var d admin.Delivery
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Errorf("delivery line %q: %v", sc.Text(), err)
				return
			}
			select {
			case out <- d:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		<-done
	})
	return out
}

func deliveries(t *testing.T, c client) []admin.Delivery {
	t.Helper()
	body := c.must(t, "GET", "/v1/deliveries", "", 200)
	var out []admin.Delivery
	sc := bufio.NewScanner(bytesReader(body))
	for sc.Scan() {
		var d admin.Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("delivery line %q: %v", sc.Text(), err)
		}
		out = append(out, d)
	}
	return out
}

// checkExactlyOnce checks that B's deliveries hold each of ids exactly once.
func checkExactlyOnce(t *testing.T, ds []admin.Delivery, ids []string) {
	t.Helper()
	count := map[string]int{}
	for _, d := range ds {
		count[d.ID]++
	}
	lost, dup := 0, 0
	for _, id := range ids {
		switch n := count[id]; {
		case n == 0:
			lost++
		case n > 1:
			dup++
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
	if lost > 0 || dup > 0 || len(ds) != len(ids) {
		t.Fatalf("%d deliveries for %d messages: %d lost, %d duplicated", len(ds), len(ids), lost, dup)
	}
}

func killCount(t *testing.T, def int) int {
	if v := os.Getenv("MTASTUB_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MTASTUB_KILLS=%q: want a positive number", v)
		}
		return n
	}
	return def
}

// TestSIGKILLReceiverExactlyOnce SIGKILLs B mid-transfer again and again,
// restarting it on the same address with the same store, and checks that
// every message A accepted reaches B exactly once.
func TestSIGKILLReceiverExactlyOnce(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	const n = 200
	kills := killCount(t, 50)
	perLife := max(1, n/(2*kills)) // B delivers at least this many per life before its kill
	// A's queue is topped up by minQueued before a life of B that finds
	// fewer: under load one life once drained 40 between its last counted
	// delivery and the kill, so the next kill was not mid-transfer.
	const minQueued = 120
	bArgs := []string{"--name", "B", "--store", filepath.Join(dir, "b"), "--kcbs", "4", "--log-level", "warn"}
	b := startProc(t, bin, filepath.Join(dir, "b.log"), bArgs...)
	bArgs = append(bArgs, "--listen", b.addr) // every life of B on the same port
	b.kill(t)                                 // A queues everything first
	a := startProc(t, bin, filepath.Join(dir, "a.log"), "--name", "A", "--store", filepath.Join(dir, "a"),
		"--peer", "B="+b.addr, "--timers", "open_interval=20ms,lifetime=200ms", "--log-level", "warn")

	start := time.Now()
	var ids []string
	submit := func(k int) {
		for range k {
			id := fmt.Sprintf("msg-%03d", len(ids))
			a.c.must(t, "POST", "/v1/messages", fmt.Sprintf(`{"id":%q,"to":"B","size":%d}`, id, 200+len(ids)*37%20000), 202)
			ids = append(ids, id)
		}
	}
	submit(n)
	if st := a.c.status(t); st.Queues["B"] != n {
		t.Fatalf("A's queue for B = %v, want %d", st.Queues, n)
	}
	submitted := time.Since(start)

	// firstLife maps each id to the life of B that first delivered it, as
	// the follow streams saw it.
	firstLife := map[string]int{}
	perKill := make([]int, 0, kills)
	dups, toppedUp, prevRestored := 0, 0, 0
	for life := 1; life <= kills; life++ {
		// Every kill must find mail still to transfer, however fast this
		// machine is: keep A's queue from running dry.
		queued := a.c.status(t).Queued
		if queued == 0 {
			t.Fatalf("life %d: A's queue ran dry before the kill of life %d: not mid-transfer", life, life-1)
		}
		if queued < minQueued {
			submit(minQueued)
			toppedUp += minQueued
		}
		b = startProc(t, bin, filepath.Join(dir, "b.log"), bArgs...)
		stream := deliveryStream(t, b)
		fresh, restored := 0, 0
		timeout := time.After(30 * time.Second)
		for fresh < perLife {
			select {
			case d, ok := <-stream:
				if !ok {
					t.Fatalf("life %d: B's stream ended", life)
				}
				if d.Restored {
					restored++
					continue
				}
				if prev, seen := firstLife[d.ID]; seen {
					t.Fatalf("message %s delivered in life %d and again in life %d", d.ID, prev, life)
				}
				firstLife[d.ID] = life
				fresh++
			case <-timeout:
				t.Fatalf("life %d: %d fresh deliveries in 30s, want %d\nA: %s\nA kcbs: %s\nB: %s", life, fresh, perLife,
					a.c.must(t, "GET", "/v1/status", "", 200), a.c.must(t, "GET", "/v1/kcbs", "", 200), b.c.must(t, "GET", "/v1/status", "", 200))
			}
		}
		// Read just before the kill: a lower bound of what this life suppressed.
		dups += b.c.status(t).Counters.Duplicates
		b.kill(t)
		if life > 1 {
			perKill = append(perKill, restored-prevRestored)
		}
		prevRestored = restored
	}
	b = startProc(t, bin, filepath.Join(dir, "b.log"), bArgs...)

	// The last life of B gets everything that is left.
	stream := deliveryStream(t, b)
	total, restoredLast, timeout := 0, 0, time.After(60*time.Second)
	for total < len(ids) {
		select {
		case d, ok := <-stream:
			if !ok {
				t.Fatal("final B's stream ended")
			}
			total++
			if d.Restored {
				restoredLast++
			} else {
				if prev, seen := firstLife[d.ID]; seen {
					t.Fatalf("message %s delivered in life %d and again in the last life", d.ID, prev)
				}
				firstLife[d.ID] = kills + 1
			}
		case <-timeout:
			t.Fatalf("final B: %d of %d delivered within 60s", total, len(ids))
		}
	}
	checkExactlyOnce(t, deliveries(t, b.c), ids)
	testkit.Eventually(t, 10*time.Second, "A's queue empty", func() bool { return a.c.status(t).Queued == 0 })
	sa, sb := a.c.status(t), b.c.status(t)
	if sa.Counters.Acked != len(ids) {
		t.Errorf("A acked %d, want %d", sa.Counters.Acked, len(ids))
	}
	t.Logf("B SIGKILLed %d times mid-transfer (messages B recorded in each killed life: %v); "+
		"%d messages queued on A in %v, %d more during the kills, all %d delivered exactly once %v later; A: acked %d, resent %d; "+
		"B suppressed at least %d duplicates before its kills; "+
		"last life of B: %d delivered before it (restored from its store), %d in it, %d duplicates suppressed",
		kills, append(perKill, restoredLast-prevRestored), n, submitted.Round(time.Millisecond), toppedUp, len(ids), time.Since(start.Add(submitted)).Round(time.Millisecond),
		sa.Counters.Acked, sa.Counters.Resent, dups, restoredLast, sb.Counters.Delivered, sb.Counters.Duplicates)
}

// TestSIGKILLSenderKeepsQueue queues messages on A while B is down,
// SIGKILLs A (also mid-transfer), and checks that the restarted A still has
// its queue and that B gets each message exactly once.
func TestSIGKILLSenderKeepsQueue(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	const n = 60
	bArgs := []string{"--name", "B", "--store", filepath.Join(dir, "b"), "--log-level", "warn"}
	b := startProc(t, bin, filepath.Join(dir, "b.log"), bArgs...)
	bArgs = append(bArgs, "--listen", b.addr)
	// B down, gracefully: SIGTERM ends it with exit code 0.
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.wait(t); err != nil {
		t.Fatalf("B after SIGTERM: %v, want exit 0", err)
	}

	aArgs := []string{"--name", "A", "--store", filepath.Join(dir, "a"), "--peer", "B=" + b.addr,
		"--timers", "open_interval=20ms", "--log-level", "warn"}
	a := startProc(t, bin, filepath.Join(dir, "a.log"), aArgs...)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("q-%02d", i)
		ids = append(ids, id)
		a.c.must(t, "POST", "/v1/messages", fmt.Sprintf(`{"id":%q,"to":"B","payload":"body of %s"}`, id, id), 202)
	}
	if st := a.c.status(t); st.Queues["B"] != n {
		t.Fatalf("A's queue for B = %v, want %d", st.Queues, n)
	}
	a.kill(t)
	a = startProc(t, bin, filepath.Join(dir, "a.log"), aArgs...)
	if st := a.c.status(t); st.Queues["B"] != n || st.Counters.Submitted != 0 {
		t.Fatalf("restarted A: queues %v submitted %d, want %d queued from the store", st.Queues, st.Counters.Submitted, n)
	}

	// B back; A killed mid-transfer three times.
	b = startProc(t, bin, filepath.Join(dir, "b.log"), bArgs...)
	stream := deliveryStream(t, b)
	got := map[string]bool{}
	for kill := 1; kill <= 3; kill++ {
		want := len(got) + 5
		timeout := time.After(30 * time.Second)
		for len(got) < want {
			select {
			case d := <-stream:
				if got[d.ID] {
					t.Fatalf("message %s delivered twice", d.ID)
				}
				got[d.ID] = true
			case <-timeout:
				t.Fatalf("kill %d: %d delivered in 30s", kill, len(got))
			}
		}
		a.kill(t)
		a = startProc(t, bin, filepath.Join(dir, "a.log"), aArgs...)
	}
	timeout := time.After(60 * time.Second)
	for len(got) < n {
		select {
		case d := <-stream:
			if got[d.ID] {
				t.Fatalf("message %s delivered twice", d.ID)
			}
			got[d.ID] = true
		case <-timeout:
			t.Fatalf("%d of %d delivered in 60s", len(got), n)
		}
	}
	checkExactlyOnce(t, deliveries(t, b.c), ids)
	testkit.Eventually(t, 10*time.Second, "A's queue empty", func() bool { return a.c.status(t).Queued == 0 })
	t.Logf("A SIGKILLed 4 times (once with %d queued while B was down, 3 times mid-transfer); B: %d duplicates suppressed; all %d delivered exactly once",
		n, b.c.status(t).Counters.Duplicates, n)
}

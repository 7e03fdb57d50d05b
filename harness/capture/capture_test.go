package capture

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startMTA starts a stub MTA on 127.0.0.1 whose connections rec records.
func startMTA(t *testing.T, rec *Recorder, name string, peers map[string]string) *mtastub.MTA {
	t.Helper()
	// A lifetime of a minute keeps associations open for the whole test:
	// a release would add units the assertions do not expect.
	m, err := mtastub.Start(testkit.Context(t), mtastub.Config{Name: name, Tap: rec.Tap(name), Peers: peers,
		Timers: kernel.Timers{Lifetime: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// transfer submits messages of the given sizes from a to the MTA called to
// and waits until to has delivered them all.
func transfer(t *testing.T, a, to *mtastub.MTA, sizes ...int) {
	t.Helper()
	sub := to.SubscribeDeliveries(false)
	defer sub.Close()
	for i, n := range sizes {
		msg := store.Message{ID: fmt.Sprintf("%s-%d", a.Name(), i), To: to.Name(), Payload: bytes.Repeat([]byte{byte('a' + i)}, n)}
		if err := a.Submit(testkit.Context(t), msg); err != nil {
			t.Fatal(err)
		}
	}
	ctx := testkit.Context(t)
	for range sizes {
		select {
		case <-sub.C():
		case <-ctx.Done():
			t.Fatalf("%s: not every message delivered", to.Name())
		}
	}
	// The sender has read every ACK once its queue is empty: then both
	// files hold the same bytes in both directions.
	waitFor(t, a, "every message acknowledged", func(s kernel.Snapshot) bool { return s.Queued == 0 })
}

// waitFor waits until m's snapshot satisfies ok: the stub has no event for
// an empty queue or an idle pool.
func waitFor(t *testing.T, m *mtastub.MTA, what string, ok func(kernel.Snapshot) bool) {
	t.Helper()
	ctx := testkit.Context(t)
	testkit.Eventually(t, testkit.Timeout, m.Name()+": "+what, func() bool {
		s, err := m.Snapshot(ctx)
		return err == nil && ok(s)
	})
}

// closeAll closes the MTAs, then the recorder: every write is over when
// the files are read.
func closeAll(t *testing.T, rec *Recorder, mtas ...*mtastub.MTA) []FileStats {
	t.Helper()
	for _, m := range mtas {
		if err := m.Close(testkit.Context(t)); err != nil {
			t.Fatal(err)
		}
	}
	stats, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	return stats
}

func TestRecordsBothSidesOfALink(t *testing.T) {
	dir := t.TempDir()
	l := Link{From: "A", To: "B"}
	rec, err := NewRecorder(Options{Dir: dir}, []Link{l})
	if err != nil {
		t.Fatal(err)
	}
	b := startMTA(t, rec, "B", nil)
	rec.Route(l, b.Addr())
	a := startMTA(t, rec, "A", map[string]string{"B": b.Addr()})
	// One small message, one of a frame's size, one of several segments
	// (larger than maxSegment, so that a read splits into packets).
	transfer(t, a, b, 10, 1000, 70000)
	// A closes first; B is closed once it has seen A's FIN (its KCB is
	// back in the pool), so that both files hold it.
	if err := a.Close(testkit.Context(t)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, b, "saw A close", func(s kernel.Snapshot) bool { return s.Busy == 0 })
	stats := closeAll(t, rec, a, b)
	if len(stats) != 2 || stats[0].Name != "A-B.received.pcapng" || stats[1].Name != "A-B.sent.pcapng" {
		t.Fatalf("files: %+v", stats)
	}
	for _, s := range stats {
		if s.Conns != 1 || s.Packets == 0 || s.Dropped != 0 {
			t.Errorf("%s: %+v, want one connection, packets, nothing dropped", s.Name, s)
		}
		fi, err := os.Stat(filepath.Join(dir, s.Name))
		if err != nil || fi.Size() != s.Bytes {
			t.Errorf("%s: size %v (err %v), stats say %d", s.Name, fi.Size(), err, s.Bytes)
		}
	}

	w, err := Analyze(dir, l)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Missing) != 0 || len(w.Pairs) != 1 {
		t.Fatalf("missing %v, %d pairs; want both files, one connection", w.Missing, len(w.Pairs))
	}
	p := w.Pairs[0]
	if p.By != `calling TSAP A.1` {
		t.Errorf("paired by %q", p.By)
	}
	ini, res := p.Initiator, p.Responder
	// The initiator's file: A dialed B's address from its own port.
	if ini.Server.String() != b.Addr() || res.Server.String() != b.Addr() {
		t.Errorf("servers %s and %s, want %s", ini.Server, res.Server, b.Addr())
	}
	if ini.Client != res.Client {
		t.Errorf("clients %s and %s: without a proxy both files see A's own port", ini.Client, res.Client)
	}
	for _, c := range []*Conn{ini, res} {
		if !bytes.Equal(ini.Up.Data, res.Up.Data) || !bytes.Equal(ini.Down.Data, res.Down.Data) {
			t.Fatal("the two files hold different bytes of one direct connection")
		}
		up := Kinds(c.Up.Units)
		if !strings.HasPrefix(up, "CR BIND TRANSFER×") {
			t.Errorf("up units %q", up)
		}
		// 10 B and 1000 B fit one segment, 70000 B take nine.
		if n := strings.Count(Counts(c.Up.Units), "TRANSFER 11"); n != 1 {
			t.Errorf("up counts %q, want 11 TRANSFER segments", Counts(c.Up.Units))
		}
		if got := Counts(c.Down.Units); got != "CC 1, BIND-ACCEPT 1, ACK 3" {
			t.Errorf("down counts %q", got)
		}
		if c.Up.Partial != 0 || c.Down.Partial != 0 || c.Up.Gap || c.Up.Bad != nil || c.Down.Bad != nil {
			t.Errorf("streams not clean: %+v / %+v", c.Up, c.Down)
		}
		if c.CallingTSAP != "A.1" {
			t.Errorf("calling TSAP %q", c.CallingTSAP)
		}
	}
	// Closing the MTAs ends the connection with FIN from each side (A is
	// closed first, so its FIN is in both files).
	if ini.Up.End != "FIN" || res.Up.End != "FIN" {
		t.Errorf("A's FIN: %q in its own file, %q in B's", ini.Up.End, res.Up.End)
	}
	// Every TRANSFER segment's payload is where its unit says.
	var payload int
	for _, u := range ini.Up.Units {
		if u.Kind == minip1.KindTransfer {
			payload += u.PayloadLen
		}
	}
	if payload != 10+1000+70000 {
		t.Errorf("TRANSFER payloads add up to %d", payload)
	}
	if w.Up.Cut != 0 || w.Up.Mismatched != 0 || len(w.Up.Delays) != len(ini.Up.Units) {
		t.Errorf("up flow: cut %d, mismatched %d, %d delays for %d units", w.Up.Cut, w.Up.Mismatched, len(w.Up.Delays), len(ini.Up.Units))
	}
	for _, d := range w.Up.Delays {
		if d < 0 {
			t.Errorf("a unit was read before it was written: %v", d)
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, ReadmeName))
	if err != nil || !strings.Contains(string(readme), "A-B.sent.pcapng") || strings.Contains(string(readme), "REACHED") {
		t.Errorf("README.txt: %v\n%s", err, readme)
	}
}

func TestLimitDropsAndSaysSo(t *testing.T) {
	dir := t.TempDir()
	l := Link{From: "A", To: "B"}
	rec, err := NewRecorder(Options{Dir: dir, Limit: 16 << 10}, []Link{l})
	if err != nil {
		t.Fatal(err)
	}
	b := startMTA(t, rec, "B", nil)
	rec.Route(l, b.Addr())
	a := startMTA(t, rec, "A", map[string]string{"B": b.Addr()})
	transfer(t, a, b, 40000)
	stats := closeAll(t, rec, a, b)
	for _, s := range stats {
		if s.Dropped == 0 || s.Bytes > s.Limit || s.FirstDrop.IsZero() {
			t.Errorf("%s: %+v, want packets dropped and the file within %d bytes", s.Name, s, s.Limit)
		}
		f, err := ReadFile(filepath.Join(dir, s.Name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Dropped != s.Dropped || uint64(f.Packets) != s.Packets {
			t.Errorf("%s read back: %d packets, %d dropped; written %d, %d", s.Name, f.Packets, f.Dropped, s.Packets, s.Dropped)
		}
	}
	readme, err := os.ReadFile(filepath.Join(dir, ReadmeName))
	if err != nil || strings.Count(string(readme), "REACHED") != 2 || !strings.Contains(string(readme), "2 file(s) reached the size limit") {
		t.Errorf("README.txt does not say both files hit the limit:\n%s", readme)
	}
}

func TestAcceptedConnectionsGoToTheirLink(t *testing.T) {
	dir := t.TempDir()
	ab, cb := Link{From: "A", To: "B"}, Link{From: "C", To: "B"}
	rec, err := NewRecorder(Options{Dir: dir}, []Link{ab, cb})
	if err != nil {
		t.Fatal(err)
	}
	b := startMTA(t, rec, "B", nil)
	rec.Route(ab, b.Addr())
	rec.Route(cb, b.Addr())
	a := startMTA(t, rec, "A", map[string]string{"B": b.Addr()})
	c := startMTA(t, rec, "C", map[string]string{"B": b.Addr()})
	transfer(t, a, b, 100)
	transfer(t, c, b, 100, 200)

	// A connection that sends no CR: a client that dials B and closes.
	// B logs the disconnect of a connection whose peer it never learnt
	// (1008) once it has read the client's FIN.
	events := b.Events().Subscribe()
	defer events.Close()
	raw, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	raw.Close()
	ctx := testkit.Context(t)
	for seen := false; !seen; {
		select {
		case r := <-events.C():
			seen = r.ID == eventlog.IDAssocErrorAnon
		case <-ctx.Done():
			t.Fatal("B never logged the anonymous connection's end")
		}
	}

	stats := closeAll(t, rec, a, c, b)
	conns := map[string]int{}
	for _, s := range stats {
		conns[s.Name] = s.Conns
	}
	// A and C each open one connection; the anonymous one goes to the
	// link into B dialed closest to it (C's, the latest).
	want := map[string]int{"A-B.sent.pcapng": 1, "A-B.received.pcapng": 1, "C-B.sent.pcapng": 1, "C-B.received.pcapng": 2}
	for name, n := range want {
		if conns[name] != n {
			t.Errorf("%s: %d connections, want %d (all: %v)", name, conns[name], n, conns)
		}
	}
	for _, l := range []Link{ab, cb} {
		w, err := Analyze(dir, l)
		if err != nil {
			t.Fatal(err)
		}
		var paired int
		for _, p := range w.Pairs {
			if p.Initiator != nil && p.Responder != nil {
				paired++
				if p.Responder.CallingTSAP != l.From+".1" {
					t.Errorf("%s: B's connection from %q", l, p.Responder.CallingTSAP)
				}
			}
		}
		if paired != 1 {
			t.Errorf("%s: %d connections seen from both ends, want 1", l, paired)
		}
	}
	w, _ := Analyze(dir, cb)
	var comment bool
	for _, p := range w.Pairs {
		if p.Initiator == nil && len(p.Responder.Up.Data) == 0 && p.Responder.Up.End == "FIN" {
			comment = true
		}
	}
	if !comment {
		t.Error("the connection without a CR is not in C-B.received.pcapng as an empty connection the client closed")
	}
}

func TestTapWithoutRecorderFilesIsHarmless(t *testing.T) {
	if _, err := NewRecorder(Options{}, nil); err == nil {
		t.Error("a recorder without a folder was created")
	}
	if _, err := NewRecorder(Options{Dir: t.TempDir(), Limit: 100}, nil); err == nil || !strings.Contains(err.Error(), "below the minimum") {
		t.Errorf("limit 100: %v", err)
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pcapng")
	if err := os.WriteFile(bad, []byte("not a capture at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(bad); err == nil || !strings.Contains(err.Error(), "bad.pcapng") {
		t.Errorf("garbage: %v", err)
	}
	w, err := Analyze(dir, Link{From: "X", To: "Y"})
	if err != nil || len(w.Missing) != 2 {
		t.Errorf("absent files: %v, missing %v", err, w)
	}
}

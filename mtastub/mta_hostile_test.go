package mtastub

// Hostile peers: raw TCP clients that send a stub MTA garbage, truncated
// and oversized frames, units out of order, slowloris trickles, floods of
// half-open connections, more partial messages than the window allows and
// TRANSFERs without ever reading the ACKs. For every case the stub must
// answer as DESIGN.md section 2 says (ER before the association exists,
// ABORT after, DR to a CR it cannot take, or a close), log the right event
// (1008 before the entity is known, 1004 after, 1198 for a unit with no
// transition, 1277 for a refused connection), keep serving a real peer
// that delivers messages through the whole attack exactly once, keep its
// heap bounded (the figures are logged: run with -v), and leave no
// goroutine (TestMain's goleak) and no socket behind once stopped.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// hostileConns is the size of the half-open flood.
const hostileConns = 1000

// Heap budgets. Section 11 of DESIGN.md budgets 100 KB per association;
// a half-open connection that holds no KCB must cost less. The floods
// send megabytes; what the stub keeps of them must not grow with them.
const (
	halfOpenBudget = 100 << 10 // bytes of heap per half-open connection, at peak
	floodBudget    = 32 << 20  // bytes of heap kept after a flood of partials or unread ACKs
)

func TestHostilePeers(t *testing.T) {
	for _, mode := range []string{"sp2", "sp0"} {
		t.Run(string(mode), func(t *testing.T) { hostile(t, mode) })
	}
}

type victim struct {
	t    *testing.T
	b    *MTA
	addr string
	seq  int
}

func hostile(t *testing.T, mode string) {
	ctx := context.Background()
	// The first network use of the process creates the runtime's poller
	// (an epoll descriptor and its wake-up eventfd), which stay open: make
	// it exist before the count, so that only sockets are compared.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		_ = ln.Close()
	}
	fds0 := openFDs(t)
	timers := kernel.Timers{Lifetime: 200 * time.Millisecond}
	b, err := Start(ctx, Config{Name: "B", Build: mode, Timers: timers})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(ctx, Config{Name: "A", Build: mode, Timers: timers, Peers: map[string]string{"B": b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	v := &victim{t: t, b: b, addr: b.Addr()}

	// The real peer: A delivers messages to B during the whole attack.
	sub := b.SubscribeDeliveries(true)
	stopTraffic := make(chan struct{})
	var submitted int
	var trafficWG sync.WaitGroup
	trafficWG.Add(1)
	go func() {
		defer trafficWG.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopTraffic:
				return
			case <-tick.C:
			}
			id := fmt.Sprintf("real-%d", submitted)
			if err := a.Submit(ctx, store.Message{ID: id, To: "B", Payload: bytes.Repeat([]byte{'r'}, 2000)}); err != nil {
				t.Errorf("submit %s: %v", id, err)
				return
			}
			submitted++
		}
	}()

	cr := func(calling string) []byte {
		return mustFrame(t, minip1.Unit{Kind: minip1.KindCR, SrcRef: 9, TPDUSize: 13, CallingTSAP: calling, CalledTSAP: "B"})
	}
	bind := mustFrame(t, minip1.Unit{Kind: minip1.KindBind, MTAName: eventlog.DN("", "", "X"), AssocID: 1, Window: 4})
	xfer := func(id string, seq uint32, last bool, total uint32, payload []byte) []byte {
		u := minip1.Unit{Kind: minip1.KindTransfer, Seq: seq, MsgID: id, Payload: payload, Total: total}
		if last {
			u.Flags = minip1.FlagLast
		}
		return mustFrame(t, u)
	}

	type hcase struct {
		name   string
		state  int                  // 1: raw connection; 3: associated first
		attack func(c net.Conn) any // writes; may return a note
		peer   []string             // what the hostile client must receive, in order
		events map[int]int          // event id -> at least this many more
	}
	cases := []hcase{
		{name: "garbage (HTTP request)", state: 1,
			attack: func(c net.Conn) any { return write(c, []byte("GET / HTTP/1.1\r\nHost: b\r\n\r\n")) },
			peer:   []string{"ER", "EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "garbage (random bytes, TPKT version 3)", state: 1,
			attack: func(c net.Conn) any { return write(c, []byte{3, 0, 0, 12, 0x99, 0x42, 1, 2, 3, 4, 5, 6}) },
			peer:   []string{"ER", "EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "oversized TPKT length in state 1", state: 1,
			attack: func(c net.Conn) any { return write(c, append([]byte{3, 0, 0xFF, 0xFF}, make([]byte, 64<<10)...)) },
			peer:   []string{"ER", "EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "oversized TPKT length in state 3", state: 3,
			attack: func(c net.Conn) any { return write(c, []byte{3, 0, 0x40, 0x01}) },
			peer:   []string{"ABORT r=4", "EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
		{name: "TPKT length below the minimum", state: 1,
			attack: func(c net.Conn) any { return write(c, []byte{3, 0, 0, 3, 0, 0, 0}) },
			peer:   []string{"ER", "EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "truncated CR, then EOF", state: 1,
			attack: func(c net.Conn) any {
				f := cr("X.t1")
				err := write(c, f[:len(f)-3])
				_ = c.(*net.TCPConn).CloseWrite()
				return err
			},
			peer: []string{"EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "truncated CR, then silence (reassembly timer)", state: 1,
			attack: func(c net.Conn) any { f := cr("X.t2"); return write(c, f[:len(f)-3]) },
			peer:   []string{"EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "truncated TRANSFER in state 3, then silence", state: 3,
			attack: func(c net.Conn) any { f := xfer("t3", 1, true, 5, []byte("hello")); return write(c, f[:len(f)-2]) },
			peer:   []string{"ABORT r=3", "EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
		{name: "out of order: BIND before CR", state: 1,
			attack: func(c net.Conn) any { return write(c, bind) },
			peer:   []string{"ER", "EOF"}, events: map[int]int{eventlog.IDStateCheck: 1, eventlog.IDAssocErrorAnon: 1}},
		{name: "out of order: TRANSFER before BIND", state: 1,
			attack: func(c net.Conn) any {
				if err := write(c, cr("X.o2")); err != nil {
					return err
				}
				return write(c, xfer("o2", 1, true, 1, []byte("x")))
			},
			peer: []string{"CC", "ER", "EOF"}, events: map[int]int{eventlog.IDStateCheck: 1, eventlog.IDAssocErrorAnon: 1}},
		{name: "out of order: CC in state 3", state: 3,
			attack: func(c net.Conn) any {
				return write(c, mustFrame(t, minip1.Unit{Kind: minip1.KindCC, SrcRef: 1, CallingTSAP: "X", CalledTSAP: "B"}))
			},
			peer: []string{"ABORT r=4", "EOF"}, events: map[int]int{eventlog.IDStateCheck: 1, eventlog.IDAssocError: 1}},
		{name: "out of order: second CR in state 2", state: 1,
			attack: func(c net.Conn) any {
				if err := write(c, cr("X.o4")); err != nil {
					return err
				}
				return write(c, cr("X.o4"))
			},
			peer: []string{"CC", "ER", "EOF"}, events: map[int]int{eventlog.IDStateCheck: 1, eventlog.IDAssocErrorAnon: 1}},
		{name: "TRANSFER segments out of sequence", state: 3,
			attack: func(c net.Conn) any {
				if err := write(c, xfer("o5", 1, false, 4, []byte("ab"))); err != nil {
					return err
				}
				return write(c, xfer("o5", 3, true, 4, []byte("cd")))
			},
			peer: []string{"ABORT r=4", "EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
		{name: "slowloris: CR at 1 byte every 100ms", state: 1,
			attack: func(c net.Conn) any { return trickle(c, cr("X.s1")) },
			peer:   []string{"EOF"}, events: map[int]int{eventlog.IDAssocErrorAnon: 1}},
		{name: "slowloris: TRANSFER at 1 byte every 100ms in state 3", state: 3,
			attack: func(c net.Conn) any { return trickle(c, xfer("s2", 1, true, 3, []byte("abc"))) },
			peer:   []string{"ABORT r=3", "EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
		{name: "more partial messages than the window", state: 3,
			attack: func(c net.Conn) any {
				// Each first segment announces 16 MB: with no bound, every one
				// costs the stub a 64 KiB buffer for a 30-byte frame.
				var buf []byte
				for i := range 5000 {
					buf = append(buf, xfer(fmt.Sprintf("p%d", i), 1, false, 16<<20, []byte("x"))...)
				}
				return heapDuring(len(buf), func() error { return write(c, buf) })
			},
			peer: []string{"ABORT r=4", "EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
		{name: "TRANSFERs without reading the ACKs", state: 3,
			attack: func(c net.Conn) any {
				// 50,000 one-byte messages, their ACKs never read (and a 4 KiB
				// receive buffer): with no bound the stub queues an ACK per
				// message, each in an 8 KiB buffer.
				var buf []byte
				for i := range 50000 {
					buf = append(buf, xfer(fmt.Sprintf("u%d", i), 1, true, 1, []byte("x"))...)
				}
				return heapDuring(len(buf), func() error {
					_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
					return write(c, buf)
				})
			},
			peer: []string{"EOF"}, events: map[int]int{eventlog.IDAssocError: 1}},
	}

	for _, hc := range cases {
		t.Run(hc.name, func(t *testing.T) {
			before := b.Events().Counts()
			c := v.dial()
			if hc.name == "TRANSFERs without reading the ACKs" {
				_ = c.(*net.TCPConn).SetReadBuffer(4096)
			}
			if hc.state == 3 {
				c = v.associate(c)
			}
			defer c.Close()
			note := hc.attack(c)
			var in io.Reader = c
			if p, ok := note.(prefixed); ok {
				in = io.MultiReader(bytes.NewReader(p.b), c)
			}
			got := readUnits(t, c, in)
			if !slices.Equal(got, hc.peer) {
				t.Errorf("peer received %v, want %v (attack: %v)", got, hc.peer, note)
			}
			if h, ok := note.(heapNote); ok {
				t.Logf("%s: wrote %s; heap grew by %s at most, %s retained after", hc.name, mb(h.wrote), mb(h.peak), mb(h.after))
				if h.after > floodBudget || h.peak > 4*floodBudget {
					t.Errorf("heap grew by %s (peak %s): more than the %s budget", mb(h.after), mb(h.peak), mb(floodBudget))
				}
			}
			waitEvents(t, b, before, hc.events)
		})
	}

	t.Run(fmt.Sprintf("%d half-open connections", hostileConns), func(t *testing.T) {
		before := b.Events().Counts()
		h0 := heapInUse()
		conns := make([]net.Conn, 0, hostileConns)
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		for range hostileConns {
			c, err := net.Dial("tcp", v.addr)
			if err != nil {
				t.Fatalf("dial %d: %v", len(conns), err)
			}
			conns = append(conns, c)
		}
		peak := heapInUse() - h0
		// Every connection is closed by the stub: the open timer ends those
		// that got a KCB (1008), the refusal path the others (1277).
		closed := 0
		for _, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Read(make([]byte, 16)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				closed++
			}
		}
		t.Logf("%d half-open connections: heap grew by %s at peak (%d B per connection); %d closed by the stub",
			hostileConns, mb(peak), peak/hostileConns, closed)
		if closed != hostileConns {
			t.Errorf("%d of %d half-open connections still open after 10s", hostileConns-closed, hostileConns)
		}
		if peak > hostileConns*halfOpenBudget {
			t.Errorf("heap grew by %s for %d half-open connections: more than %d KiB each", mb(peak), hostileConns, halfOpenBudget>>10)
		}
		after := b.Events().Counts()
		refused := after[eventlog.IDConnRefused] - before[eventlog.IDConnRefused]
		timedOut := after[eventlog.IDAssocErrorAnon] - before[eventlog.IDAssocErrorAnon]
		t.Logf("%d half-open connections: %d refused (1277), %d open-timer failures (1008)", hostileConns, refused, timedOut)
		if refused+timedOut < hostileConns {
			t.Errorf("1277 + 1008 = %d, want at least one per connection (%d)", refused+timedOut, hostileConns)
		}
	})

	// The real peer was served through it all: every message once.
	close(stopTraffic)
	trafficWG.Wait()
	seen := map[string]int{}
	deadline := time.After(30 * time.Second)
	for len(seen) < submitted {
		select {
		case d := <-sub.C():
			seen[d.ID]++
			if seen[d.ID] > 1 {
				t.Errorf("real message %s delivered twice", d.ID)
			}
		case <-deadline:
			t.Fatalf("real peer: %d of %d delivered", len(seen), submitted)
		}
	}
	sub.Close()
	t.Logf("real peer: %d submitted during the attack, %d delivered, each once", submitted, len(seen))
	t.Logf("B events during the attack: %v", b.Events().Counts())

	// B returns to baseline: no KCB held by anything the attackers left.
	waitBaseline(t, b, mode)
	if err := a.Close(ctx); err != nil {
		t.Error(err)
	}
	if err := b.Close(ctx); err != nil {
		t.Error(err)
	}
	// No socket left: every descriptor the test opened is closed again.
	deadlineFD := time.Now().Add(5 * time.Second)
	for {
		fds := openFDs(t)
		if fds <= fds0 {
			break
		}
		if time.Now().After(deadlineFD) {
			t.Fatalf("%d file descriptors open after Stop, %d before the test", fds, fds0)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (v *victim) dial() net.Conn {
	v.t.Helper()
	c, err := net.Dial("tcp", v.addr)
	if err != nil {
		v.t.Fatal(err)
	}
	return c
}

// associate brings a raw connection to state 3 (CR/CC, BIND/BIND-ACCEPT).
// Another connection may hold every KCB for a moment (the real peer's, a
// previous attack's until its open timer): it retries on a refusal.
func (v *victim) associate(c net.Conn) net.Conn {
	v.t.Helper()
	for attempt := 0; ; attempt++ {
		v.seq++
		calling := fmt.Sprintf("X.%d", v.seq)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		r := minip1.NewReader(c, minip1.MaxFrame)
		if err := write(c, mustFrame(v.t, minip1.Unit{Kind: minip1.KindCR, SrcRef: 9, TPDUSize: 13, CallingTSAP: calling, CalledTSAP: "B"})); err != nil {
			v.t.Fatal(err)
		}
		u, err := r.ReadUnit()
		if err == nil && u.Kind == minip1.KindDR && attempt < 50 {
			_ = c.Close()
			time.Sleep(50 * time.Millisecond)
			c = v.dial()
			continue
		}
		if err != nil || u.Kind != minip1.KindCC {
			v.t.Fatalf("associate: got %v %v, want CC", u.Kind, err)
		}
		if err := write(c, mustFrame(v.t, minip1.Unit{Kind: minip1.KindBind, MTAName: eventlog.DN("", "", "X"), AssocID: 1, Window: 4})); err != nil {
			v.t.Fatal(err)
		}
		if u, err := r.ReadUnit(); err != nil || u.Kind != minip1.KindBindAccept {
			v.t.Fatalf("associate: got %v %v, want BIND-ACCEPT", u.Kind, err)
		}
		_ = c.SetDeadline(time.Time{})
		return c
	}
}

func mustFrame(t *testing.T, u minip1.Unit) []byte {
	t.Helper()
	f, err := minip1.AppendFrame(nil, &u, minip1.MaxFrame)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// write writes b; a reset or closed pipe (the stub closing on us) is not an error.
func write(c net.Conn, b []byte) error {
	_, err := c.Write(b)
	if err != nil && (errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe")) {
		return nil
	}
	return err
}

// trickle writes b one byte every 100ms until the stub closes the
// connection. Between bytes it polls for what the stub sends, so that an
// ABORT is read before a write after the close draws a reset.
func trickle(c net.Conn, b []byte) any {
	var got []byte
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	for i := range b {
		if _, err := c.Write(b[i : i+1]); err != nil {
			return prefixed{got, fmt.Sprintf("write failed after %d of %d bytes", i, len(b))}
		}
		time.Sleep(100 * time.Millisecond)
		var buf [64]byte
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		n, err := c.Read(buf[:])
		got = append(got, buf[:n]...)
		if n > 0 || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return prefixed{got, fmt.Sprintf("the stub answered after %d of %d bytes", i+1, len(b))}
		}
	}
	return prefixed{got, fmt.Sprintf("all %d bytes written: the stub never answered", len(b))}
}

// prefixed is an attack's note with the bytes it already read from the stub.
type prefixed struct {
	b    []byte
	note string
}

func (p prefixed) String() string { return p.note }

// readUnits reads what the stub sends until it closes the connection,
// rendered "ER", "ABORT r=4", "DR 0x81", ..., and "EOF" (a reset counts as
// a close). ACKs are left out: they answer the floods' TRANSFERs.
func readUnits(t *testing.T, c net.Conn, in io.Reader) []string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := minip1.NewReader(in, minip1.MaxFrame)
	var out []string
	for {
		u, err := r.ReadUnit()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return append(out, "still open after 10s")
			}
			return append(out, "EOF")
		}
		switch u.Kind {
		case minip1.KindAck:
		case minip1.KindAbort:
			out = append(out, fmt.Sprintf("ABORT r=%d", u.Reason))
		case minip1.KindDR:
			out = append(out, fmt.Sprintf("DR 0x%02x", u.Reason))
		default:
			out = append(out, u.Kind.String())
		}
	}
}

func waitEvents(t *testing.T, b *MTA, before map[int]int, want map[int]int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := b.Events().Counts()
		ok := true
		for id, n := range want {
			if now[id]-before[id] < n {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			diff := map[int]int{}
			for id, n := range now {
				if d := n - before[id]; d != 0 {
					diff[id] = d
				}
			}
			t.Errorf("events logged: %v, want at least %v", diff, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitBaseline(t *testing.T, b *MTA, mode string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := b.Snapshot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Busy == 0 && (mode == "sp0" || s.Leaked == 0) {
			if s.Leaked > 0 {
				t.Logf("sp0: %d KCBs leaked by open errors in state 2 (the Q152877 defect, by design)", s.Leaked)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("B not at baseline after the attack: busy %d leaked %d: %+v", s.Busy, s.Leaked, s.KCBs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type heapNote struct{ wrote, peak, after int64 }

// heapDuring runs write while sampling the heap; it reports the growth at
// the peak and what is still retained once the stub has handled it all.
func heapDuring(wrote int, fn func() error) any {
	h0 := heapInUse()
	var peak int64
	done := make(chan error, 1)
	go func() { done <- fn() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, int64(ms.HeapInuse)-h0)
			return heapNote{wrote: int64(wrote), peak: peak, after: heapInUse() - h0}
		case <-tick.C:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, int64(ms.HeapInuse)-h0)
		}
	}
}

func heapInUse() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// openFDs counts this process's open file descriptors (Linux), or -1.
func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

package kernel_test

// Test harness: an in-memory network of net.Pipe pairs, a kernel wrapper
// and a scripted MiniP1 peer. Everything here is meant to run inside a
// testing/synctest bubble, where time is virtual and synctest.Wait lets the
// kernel settle before the test looks at it.

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// ---------------------------------------------------------------------------
// In-memory network

// fakeNet routes dials to fake listeners by address. A dial to an address
// that is down or has no listener fails with ECONNREFUSED; a dial to a
// hanging address blocks until its context ends.
type fakeNet struct {
	mu    sync.Mutex
	ls    map[string]*fakeListener
	down  map[string]bool
	hang  map[string]bool
	dials map[string][]time.Time
	conns []net.Conn
}

func newFakeNet() *fakeNet {
	return &fakeNet{ls: map[string]*fakeListener{}, down: map[string]bool{}, hang: map[string]bool{}, dials: map[string][]time.Time{}}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "pipe" }
func (a fakeAddr) String() string  { return string(a) }

// fakeListener is a net.Listener whose Accept returns the server ends of pipes.
type fakeListener struct {
	addr string
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *fakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "pipe", Addr: fakeAddr(l.addr), Err: net.ErrClosed}
	}
}

func (l *fakeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *fakeListener) closed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

func (l *fakeListener) Addr() net.Addr { return fakeAddr(l.addr) }

func (n *fakeNet) listen(addr string) *fakeListener {
	l := &fakeListener{addr: addr, ch: make(chan net.Conn, 64), done: make(chan struct{})}
	n.mu.Lock()
	n.ls[addr] = l
	n.mu.Unlock()
	return l
}

func (n *fakeNet) setDown(addr string, down bool) {
	n.mu.Lock()
	n.down[addr] = down
	n.mu.Unlock()
}

func (n *fakeNet) setHang(addr string, hang bool) {
	n.mu.Lock()
	n.hang[addr] = hang
	n.mu.Unlock()
}

func (n *fakeNet) dialTimes(addr string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]time.Time(nil), n.dials[addr]...)
}

func refused(addr string) error {
	return &net.OpError{Op: "dial", Net: "pipe", Addr: fakeAddr(addr), Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// Dial is a kernel.Config.Dial.
func (n *fakeNet) Dial(ctx context.Context, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials[addr] = append(n.dials[addr], time.Now())
	l, down, hang := n.ls[addr], n.down[addr], n.hang[addr]
	if hang {
		n.mu.Unlock()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if down || l == nil || l.closed() {
		n.mu.Unlock()
		return nil, refused(addr)
	}
	c1, c2 := net.Pipe()
	n.conns = append(n.conns, c1, c2)
	n.mu.Unlock()
	select {
	case l.ch <- c2:
		return c1, nil
	case <-l.done:
	case <-ctx.Done():
	}
	_ = c1.Close()
	_ = c2.Close()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, refused(addr)
}

// closeAll closes every pipe end the network made (conns never accepted included).
func (n *fakeNet) closeAll() {
	n.mu.Lock()
	cs := n.conns
	n.conns = nil
	ls := n.ls
	n.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
	}
	for _, l := range ls {
		_ = l.Close()
	}
}

// ---------------------------------------------------------------------------
// Kernel harness

const waitLimit = 10 * time.Second // virtual: only reached when a test is broken

type harness struct {
	t    *testing.T
	net  *fakeNet
	name string
	log  *eventlog.Log
	k    *kernel.Kernel
	cfg  kernel.Config

	mu        sync.Mutex
	delivered []kernel.Delivery
	peers     []*peer
}

type option func(*kernel.Config)

func withWindow(n int) option           { return func(c *kernel.Config) { c.Window = n } }
func withKCBs(n int) option             { return func(c *kernel.Config) { c.KCBs = n } }
func withTimers(t kernel.Timers) option { return func(c *kernel.Config) { c.Timers = t } }
func withLeak(p float64) option         { return func(c *kernel.Config) { c.LeakProbability = &p } }
func withSeed(s int64) option           { return func(c *kernel.Config) { c.Seed = s } }
func withExtended() option              { return func(c *kernel.Config) { c.ExtendedEvents = true } }
func withStore(s store.Store) option {
	return func(c *kernel.Config) { c.Store = s }
}
func withPeer(name, addr string) option {
	return func(c *kernel.Config) {
		if c.Peers == nil {
			c.Peers = map[string]string{}
		}
		c.Peers[name] = addr
	}
}

// variant is a build with, optionally, its defect set replaced: "5.5-sp3"
// is the build as shipped, "5.5-sp3+Q229643" that build with exactly
// Q229643 (Config.OverrideDefects), "sp0+" the 4.0 build with none.
func variant(v string) (build string, defects []string, override bool) {
	build, rest, override := strings.Cut(v, "+")
	if override {
		defects = []string{}
		for kb := range strings.SplitSeq(rest, "+") {
			if kb != "" {
				defects = append(defects, kb)
			}
		}
	}
	return build, defects, override
}

// defective reports whether variant v runs with defect kb.
func defective(t *testing.T, v, kb string) bool {
	t.Helper()
	build, defects, override := variant(v)
	_, set, err := kernel.ResolveBuild(build, defects, override)
	if err != nil {
		t.Fatalf("variant %q: %v", v, err)
	}
	return slices.Contains(set, kb)
}

// startKernel starts an MTA named name listening on address name of n,
// in build variant v (see variant).
func startKernel(t *testing.T, n *fakeNet, name string, v string, opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, net: n, name: name, log: eventlog.NewLog(name, nil)}
	build, defects, override := variant(v)
	cfg := kernel.Config{
		Name:            name,
		Build:           build,
		Defects:         defects,
		OverrideDefects: override,
		Listener:        n.listen(name),
		Dial:            n.Dial,
		Events:          h.log,
		Deliver: func(d kernel.Delivery) {
			h.mu.Lock()
			h.delivered = append(h.delivered, d)
			h.mu.Unlock()
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	h.cfg = cfg
	k, err := kernel.Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	h.k = k
	return h
}

// restart stops the kernel and starts it again with the same config (and store).
func (h *harness) restart() {
	h.t.Helper()
	h.stopKernel()
	cfg := h.cfg
	cfg.Listener = h.net.listen(h.name)
	k, err := kernel.Start(cfg)
	if err != nil {
		h.t.Fatalf("restart %s: %v", h.name, err)
	}
	h.k = k
}

func (h *harness) stopKernel() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := h.k.Stop(ctx); err != nil {
		h.t.Errorf("stop %s: %v", h.name, err)
	}
}

// close stops the kernel and closes every connection; defer it first thing.
func (h *harness) close() {
	h.stopKernel()
	h.mu.Lock()
	ps := h.peers
	h.mu.Unlock()
	for _, p := range ps {
		_ = p.conn.Close()
	}
	h.net.closeAll()
	synctest.Wait()
}

func (h *harness) deliveries() []kernel.Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]kernel.Delivery(nil), h.delivered...)
}

func (h *harness) snap() kernel.Snapshot {
	h.t.Helper()
	synctest.Wait()
	s, err := h.k.Snapshot(context.Background())
	if err != nil {
		h.t.Fatalf("snapshot %s: %v", h.name, err)
	}
	return s
}

// states returns the states of KCBs 1..n.
func (h *harness) states() []kernel.State {
	s := h.snap()
	var out []kernel.State
	for _, b := range s.KCBs[1:] {
		out = append(out, b.State)
	}
	return out
}

func (h *harness) submit(id string, size int) {
	h.t.Helper()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	if err := h.k.Submit(context.Background(), store.Message{ID: id, To: "B", Payload: payload}); err != nil {
		h.t.Fatalf("submit %s: %v", id, err)
	}
}

// events renders the records with the given IDs (all four Q152877 IDs by
// default) as compact tuples, oldest first.
func (h *harness) events(ids ...int) []string {
	synctest.Wait()
	if len(ids) == 0 {
		ids = []int{eventlog.IDAssocError, eventlog.IDAssocErrorAnon, eventlog.IDStateCheck, eventlog.IDConnRefused}
	}
	want := map[int]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var out []string
	for _, r := range h.log.Records() {
		if want[r.ID] {
			out = append(out, tuple(r))
		}
	}
	return out
}

// tuple renders a record the way its event text shows it.
func tuple(r eventlog.Record) string {
	switch r.ID {
	case eventlog.IDAssocError:
		return fmt.Sprintf("1004 kcb=%d [%d %d %d %d]", r.KCB, r.State, r.Svc, r.Flavor, r.Reason)
	case eventlog.IDAssocErrorAnon:
		return fmt.Sprintf("1008 kcb=%d [%d %d]", r.KCB, r.State, r.Svc)
	case eventlog.IDStateCheck:
		return fmt.Sprintf("1198 kcb=%d [%d %d %d]", r.KCB, r.State, r.Svc, r.Flavor)
	case eventlog.IDConnRefused:
		return fmt.Sprintf("1277 kcb=%d", r.KCB)
	}
	return fmt.Sprintf("%d kcb=%d", r.ID, r.KCB)
}

// record returns the only record with id, failing otherwise.
func (h *harness) record(id int) eventlog.Record {
	h.t.Helper()
	synctest.Wait()
	var got []eventlog.Record
	for _, r := range h.log.Records() {
		if r.ID == id {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		h.t.Fatalf("%s: want exactly one %d record, got %d: %v", h.name, id, len(got), h.events())
	}
	return got[0]
}

// dialIn opens an inbound connection to the kernel, as a fake initiator.
func (h *harness) dialIn() *peer {
	h.t.Helper()
	c, err := h.net.Dial(context.Background(), h.name)
	if err != nil {
		h.t.Fatalf("dial %s: %v", h.name, err)
	}
	return h.newPeer(c)
}

// acceptOut takes the next connection the kernel dialled to l, as a fake responder.
func (h *harness) acceptOut(l *fakeListener) *peer {
	h.t.Helper()
	select {
	case c := <-l.ch:
		return h.newPeer(c)
	case <-time.After(waitLimit):
		h.t.Fatalf("%s: no connection dialled to %s", h.name, l.addr)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Scripted peer

// peer is the far end of one connection, speaking raw MiniP1 frames.
type peer struct {
	t    *testing.T
	conn net.Conn
	in   chan minip1.Unit
	eof  chan struct{}
	err  error // the read error; valid once eof is closed
}

func (h *harness) newPeer(c net.Conn) *peer {
	p := &peer{t: h.t, conn: c, in: make(chan minip1.Unit, 1024), eof: make(chan struct{})}
	h.mu.Lock()
	h.peers = append(h.peers, p)
	h.mu.Unlock()
	go func() {
		r := minip1.NewReader(c, minip1.MaxFrame)
		for {
			u, err := r.ReadUnit()
			if err != nil {
				p.err = err
				close(p.eof)
				return
			}
			p.in <- u
		}
	}()
	return p
}

func frame(u minip1.Unit) []byte {
	f, err := minip1.AppendFrame(nil, &u, minip1.MaxFrame)
	if err != nil {
		panic(fmt.Sprintf("encode %v: %v", u.Kind, err))
	}
	return f
}

// send writes one unit; it fails the test if the kernel closed the connection.
func (p *peer) send(u minip1.Unit) {
	p.t.Helper()
	if _, err := p.conn.Write(frame(u)); err != nil {
		p.t.Fatalf("peer: send %v: %v", u.Kind, err)
	}
}

// write writes raw bytes and reports the error.
func (p *peer) write(b []byte) error {
	_, err := p.conn.Write(b)
	return err
}

func (p *peer) close() { _ = p.conn.Close() }

// expect returns the next unit, failing unless it is of kind k.
func (p *peer) expect(k minip1.Kind) minip1.Unit {
	p.t.Helper()
	select {
	case u := <-p.in:
		if u.Kind != k {
			p.t.Fatalf("peer: got %v (%+v), want %v", u.Kind, u, k)
		}
		return u
	case <-p.eof:
		select {
		case u := <-p.in:
			if u.Kind != k {
				p.t.Fatalf("peer: got %v (%+v), want %v", u.Kind, u, k)
			}
			return u
		default:
		}
		p.t.Fatalf("peer: connection ended (%v), want %v", p.err, k)
	case <-time.After(waitLimit):
		p.t.Fatalf("peer: nothing received, want %v", k)
	}
	return minip1.Unit{}
}

// expectEOF waits for the kernel to close the connection; no unit may come first.
func (p *peer) expectEOF() {
	p.t.Helper()
	select {
	case u := <-p.in:
		p.t.Fatalf("peer: got %v, want the connection closed", u.Kind)
	case <-p.eof:
		select {
		case u := <-p.in:
			p.t.Fatalf("peer: got %v, want the connection closed", u.Kind)
		default:
		}
	case <-time.After(waitLimit):
		p.t.Fatalf("peer: connection still open")
	}
}

// drain returns what the peer received so far, after the bubble settled:
// "CC", "DR 0x83", "ABORT r=3", ..., and "EOF" once the connection ended.
func (p *peer) drain() []string {
	synctest.Wait()
	var out []string
	for {
		select {
		case u := <-p.in:
			out = append(out, unitString(u))
			continue
		default:
		}
		break
	}
	select {
	case <-p.eof:
		out = append(out, "EOF")
	default:
	}
	return out
}

func unitString(u minip1.Unit) string {
	switch u.Kind {
	case minip1.KindDR:
		return fmt.Sprintf("DR 0x%02x", u.Reason)
	case minip1.KindAbort:
		return fmt.Sprintf("ABORT r=%d", u.Reason)
	case minip1.KindAck:
		return fmt.Sprintf("ACK %s r=%d", u.MsgID, u.Result)
	case minip1.KindTransfer:
		return "TRANSFER " + u.MsgID
	}
	return u.Kind.String()
}

// open state helpers -------------------------------------------------------

var dnA, dnB = eventlog.DN("", "", "A"), eventlog.DN("", "", "B")

func crUnit(calling string) minip1.Unit {
	return minip1.Unit{Kind: minip1.KindCR, SrcRef: 7, TPDUSize: 13, CallingTSAP: calling, CalledTSAP: "B"}
}

// connectIn brings an inbound association to kernel B up to state 2 (CC received).
func (h *harness) connectIn(calling string) *peer {
	h.t.Helper()
	p := h.dialIn()
	p.send(crUnit(calling))
	cc := p.expect(minip1.KindCC)
	if cc.CallingTSAP != calling || cc.CalledTSAP != "B" || cc.DstRef != 7 {
		h.t.Fatalf("CC %+v does not answer CR from %s", cc, calling)
	}
	return p
}

// associateIn brings an inbound association to kernel B to state 3.
func (h *harness) associateIn(calling string) *peer {
	h.t.Helper()
	p := h.connectIn(calling)
	p.send(minip1.Unit{Kind: minip1.KindBind, MTAName: dnA, AssocID: 1, Window: 4})
	acc := p.expect(minip1.KindBindAccept)
	if acc.MTAName != dnB {
		h.t.Fatalf("BIND-ACCEPT names %q, want %q", acc.MTAName, dnB)
	}
	return p
}

// transferUnit is a one-segment TRANSFER of message id.
func transferUnit(id string, seq uint32, payload []byte) minip1.Unit {
	return minip1.Unit{Kind: minip1.KindTransfer, Seq: seq, Flags: minip1.FlagLast, MsgID: id, Payload: payload, Total: uint32(len(payload))}
}

// answerOut plays the responder for a connection kernel A dialled: it
// takes CR, answers CC and returns the CR.
func (p *peer) answerCR() minip1.Unit {
	p.t.Helper()
	cr := p.expect(minip1.KindCR)
	p.send(minip1.Unit{Kind: minip1.KindCC, DstRef: cr.SrcRef, SrcRef: 1, TPDUSize: 13, CallingTSAP: cr.CallingTSAP, CalledTSAP: "B"})
	return cr
}

// associateOut accepts kernel A's next connection to l and brings it to
// state 3, returning the peer and the CR.
func (h *harness) associateOut(l *fakeListener) (*peer, minip1.Unit) {
	h.t.Helper()
	p := h.acceptOut(l)
	cr := p.answerCR()
	bind := p.expect(minip1.KindBind)
	if bind.MTAName != dnA {
		h.t.Fatalf("BIND names %q, want %q", bind.MTAName, dnA)
	}
	p.send(minip1.Unit{Kind: minip1.KindBindAccept, MTAName: dnB, AssocID: bind.AssocID, Window: 4})
	return p, cr
}

// ---------------------------------------------------------------------------
// Goroutine accounting

// kernelGoroutines returns the stacks of live goroutines running code of
// package kernel (the tests' own package kernel_test is not counted).
func kernelGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "mtastorm/mtastub/kernel.") {
			out = append(out, g)
		}
	}
	return out
}

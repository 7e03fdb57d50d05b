package kernel_test

// FuzzKernel feeds a kernel arbitrary unit sequences from a fake peer over
// an in-memory net.Pipe, inside a synctest bubble (virtual time: a script
// that sleeps for minutes runs in microseconds, and a hang is reported as a
// deadlock instead of blocking the fuzzer).
//
// The input is a script. Byte 0 picks the build (bits 2..4: fuzzBuilds;
// 0 and the unused values leave it to bit 0: sp0/sp2) and the side the fake
// peer plays (bit 1: it dials the kernel, which responds; or it answers the
// kernel's dial, which initiates). Every following byte is an operation,
// most taking an argument byte:
//
//	0..11  send one well-formed unit of kind 1+op (CR .. ABORT), fields from the argument
//	12     write the argument's low 5 bits worth of raw script bytes (garbage, partial frames)
//	13     sleep argument × 7ms of virtual time (timers fire)
//	14     close the connection and open the next one
//	15     submit another message (an initiating kernel has more to send)
//
// Properties checked after every operation: no panic; no hang; every KCB
// state one of kernel.States() (0..4, 6); a unit with no transition in the state of the KCB it
// reached (per DESIGN.md section 3) yields a 1198 or a termination the peer
// sees (ER, ABORT, DR or the connection closed). After the script, Stop
// returns and leaves no kernel goroutine.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// maxOps bounds a script so that one input stays fast.
const maxOps = 64

// seedScripts are hand-written scripts that reach every state of both roles.
func seedScripts() map[string][]byte {
	const (
		cr, cc, dr, er, bind, bindAcc, bindRef, xfer, ack, rel, relConf, abort = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
		raw, sleep, reconnect, submit                                          = 12, 13, 14, 15
	)
	return map[string][]byte{
		"responder-happy":          {0b00, cr, 0, bind, 0, xfer, 0, xfer, 1, rel, 0, sleep, 40},
		"responder-happy-sp0":      {0b01, cr, 0, bind, 0, xfer, 0, rel, 0, sleep, 40},
		"responder-bind-in-1":      {0b00, bind, 0, sleep, 50},
		"responder-xfer-in-2":      {0b01, cr, 0, xfer, 0, sleep, 50, reconnect, cr, 0},
		"responder-cc-in-3":        {0b00, cr, 0, bind, 0, cc, 0},
		"responder-abort-in-3":     {0b01, cr, 0, bind, 0, abort, 3, cr, 0, bind, 0},
		"responder-open-timeout":   {0b01, cr, 0, sleep, 60, reconnect, cr, 0, bind, 0},
		"responder-garbage":        {0b00, raw, 9, 3, 0, 0xff, 0xff, 1, 2, 3, 4, 5},
		"responder-partial-frame":  {0b01, cr, 0, bind, 0, raw, 5, 3, 0, 0, 40, 2, sleep, 60},
		"responder-seq-gap":        {0b00, cr, 0, bind, 0, xfer, 0x80, xfer, 0x85},
		"responder-release-twice":  {0b00, cr, 0, bind, 0, rel, 0, rel, 0, sleep, 40},
		"responder-dup-tsap-sp0":   {0b01, cr, 0, sleep, 60, reconnect, cr, 0},
		"initiator-happy":          {0b10, cc, 0, bindAcc, 0, ack, 0, sleep, 200, relConf, 0},
		"initiator-happy-sp0":      {0b11, cc, 0, bindAcc, 0, ack, 0, submit, 0, ack, 1, sleep, 200},
		"initiator-dr":             {0b10, dr, 0, sleep, 20, reconnect, cc, 0},
		"initiator-bindrefuse":     {0b11, cc, 0, bindRef, 0, sleep, 20, reconnect},
		"initiator-ack-in-2":       {0b10, cc, 0, ack, 0},
		"initiator-release-in-3":   {0b10, cc, 0, bindAcc, 0, rel, 0, sleep, 40},
		"initiator-transfer-timer": {0b11, cc, 0, bindAcc, 0, sleep, 90, reconnect, cc, 0, bindAcc, 0},
		"initiator-cr":             {0b10, cr, 0, cc, 0},
		"initiator-er-in-3":        {0b11, cc, 0, bindAcc, 0, er, 0},
		// The 5.5 builds (byte 0 bits 2..4) and every defect at once.
		"initiator-transfer-timer-55sp2": {1<<2 | 0b10, cc, 0, bindAcc, 0, sleep, 90, reconnect, cc, 0, bindAcc, 0, sleep, 90, sleep, 60},
		"initiator-eof-in-3-55sp2":       {1<<2 | 0b10, cc, 0, bindAcc, 0, submit, 0, reconnect, sleep, 60, reconnect},
		"initiator-eof-in-3-55sp3":       {2<<2 | 0b10, cc, 0, bindAcc, 0, submit, 0, reconnect, sleep, 60, reconnect, cc, 0},
		"responder-partial-frame-55sp3":  {2 << 2, cr, 0, bind, 0, raw, 5, 3, 0, 0, 40, 2, sleep, 60, reconnect, cr, 0},
		"responder-partial-frame-55sp4":  {3 << 2, cr, 0, bind, 0, raw, 5, 3, 0, 0, 40, 2, sleep, 60, reconnect, cr, 0},
		"initiator-all-defects":          {4<<2 | 0b10, cc, 0, bindAcc, 0, sleep, 90, reconnect, cc, 0, bindAcc, 0, ack, 0, reconnect, sleep, 60},
		"responder-all-defects":          {4 << 2, cr, 0, bind, 0, raw, 5, 3, 0, 0, 40, 2, sleep, 60, reconnect, cr, 0, sleep, 60, reconnect, cr, 0},
	}
}

func FuzzKernel(f *testing.F) {
	for _, s := range seedScripts() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) == 0 {
			return
		}
		synctest.Test(t, func(t *testing.T) { runScript(t, script) })
	})
}

// TestKernelScripts runs the seed scripts as plain tests, so that `go
// test` checks the properties without -fuzz.
func TestKernelScripts(t *testing.T) {
	for name, s := range seedScripts() {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runScript(t, s) })
		})
	}
}

// transitions lists, per role and state, the unit kinds that have a
// transition (DESIGN.md section 3). ABORT and ER terminate any live
// association and are checked apart.
var transitions = map[kernel.Role]map[kernel.State][]minip1.Kind{
	kernel.Responder: {
		kernel.TConPending: {minip1.KindCR},
		kernel.OpenPending: {minip1.KindBind},
		kernel.Associated:  {minip1.KindTransfer, minip1.KindRelease},
	},
	kernel.Initiator: {
		kernel.TConPending: {minip1.KindCC, minip1.KindDR},
		kernel.OpenPending: {minip1.KindBindAccept, minip1.KindBindRefuse},
		kernel.Associated:  {minip1.KindAck, minip1.KindRelease},
		kernel.Releasing:   {minip1.KindAck, minip1.KindReleaseConfirm},
	},
}

type script struct {
	t     *testing.T
	h     *harness
	lb    *fakeListener // initiator: where the kernel dials
	role  kernel.Role   // the kernel's role
	p     *peer
	assoc int  // the association the current connection holds, 0 if unknown
	sync  bool // the stream is frame-aligned (no raw bytes written)
	msgs  int
}

// fuzzBuilds are the builds byte 0's bits 2..4 pick (index 0: by bit 0):
// the 5.5 builds, and every defect at once.
var fuzzBuilds = []string{"", "5.5-sp2", "5.5-sp3", "5.5-sp4", "5.5-sp4+Q152877+Q229643+Q232602+Q247419"}

func runScript(t *testing.T, in []byte) {
	mode := sp2
	if in[0]&1 != 0 {
		mode = sp0
	}
	if i := int(in[0] >> 2 & 7); i > 0 && i < len(fuzzBuilds) {
		mode = fuzzBuilds[i]
	}
	n := newFakeNet()
	s := &script{t: t, role: kernel.Responder}
	if in[0]&2 != 0 {
		s.role = kernel.Initiator
		s.h = startKernel(t, n, "A", mode, withPeer("B", "B"), withKCBs(4))
		s.lb = n.listen("B")
	} else {
		s.h = startKernel(t, n, "B", mode, withKCBs(4))
	}
	stopped := false
	defer func() {
		if !stopped {
			s.h.close()
		}
	}()
	if s.role == kernel.Initiator {
		s.submit()
	}
	s.connect()
	ops := in[1:]
	for i := 0; i < len(ops) && i < 2*maxOps; i++ {
		op := ops[i] % 16
		var arg byte
		if i+1 < len(ops) {
			arg = ops[i+1]
		}
		switch {
		case op < 12:
			i++
			s.sendUnit(minip1.Kind(op+1), arg)
		case op == 12:
			i++
			m := int(arg & 31)
			raw := ops[min(i+1, len(ops)):min(i+1+m, len(ops))]
			i += len(raw)
			s.writeRaw(raw)
		case op == 13:
			i++
			time.Sleep(time.Duration(arg) * 7 * time.Millisecond)
		case op == 14:
			s.reconnect()
		case op == 15:
			s.submit()
		}
		s.checkStates()
	}
	// Stop: it returns, and no kernel goroutine outlives it.
	s.h.close()
	stopped = true
	if g := kernelGoroutines(); len(g) > 0 {
		t.Fatalf("%d kernel goroutines after Stop:\n%s", len(g), g[0])
	}
}

func (s *script) submit() {
	if s.role != kernel.Initiator {
		return
	}
	s.msgs++
	s.h.submit(fmt.Sprintf("m%d", s.msgs), 10*s.msgs)
}

// connect opens the next connection: a dial to a responding kernel, or the
// next dial of an initiating kernel (none may come: its queue may be empty).
func (s *script) connect() {
	s.p, s.assoc, s.sync = nil, 0, true
	if s.role == kernel.Responder {
		c, err := s.h.net.Dial(context.Background(), s.h.name)
		if err != nil {
			s.t.Fatalf("dial %s: %v", s.h.name, err)
		}
		s.p = s.h.newPeer(c)
	} else {
		select {
		case c := <-s.lb.ch:
			s.p = s.h.newPeer(c)
		case <-time.After(time.Second):
			return
		}
	}
	synctest.Wait()
	// The connection's KCB is the newest association, if one took it (it may
	// have been refused for want of a KCB).
	best := 0
	for _, b := range s.h.snap().KCBs {
		if b.Live && b.Assoc > best {
			best = b.Assoc
		}
	}
	s.assoc = best
}

func (s *script) reconnect() {
	if s.p != nil {
		s.p.close()
	}
	synctest.Wait()
	s.connect()
}

// kcb returns the KCB holding the current connection's association.
func (s *script) kcb() (kernel.KCBInfo, bool) {
	if s.assoc == 0 {
		return kernel.KCBInfo{}, false
	}
	for _, b := range s.h.snap().KCBs {
		if b.Assoc == s.assoc {
			return b, true
		}
	}
	return kernel.KCBInfo{}, false
}

func (s *script) unit(k minip1.Kind, arg byte) minip1.Unit {
	u := minip1.Unit{Kind: k}
	switch k {
	case minip1.KindCR, minip1.KindCC:
		u.SrcRef, u.DstRef, u.TPDUSize = 7, uint16(arg&3), []uint8{0, 7, 13, 16}[arg>>6]
		u.CallingTSAP, u.CalledTSAP = fmt.Sprintf("A.%d", arg&3), "B"
		if k == minip1.KindCC {
			u.CallingTSAP, u.CalledTSAP = "A.1", "B"
		}
		if arg&4 != 0 {
			u.CalledTSAP = "Z"
		}
	case minip1.KindDR:
		u.Reason = []uint8{minip1.DRCongestion, minip1.DRDuplicateTSAP, minip1.DRUnknownTSAP, arg}[arg&3]
	case minip1.KindER:
		u.Cause = arg
	case minip1.KindBind, minip1.KindBindAccept:
		u.MTAName, u.AssocID, u.Window = dnA, uint32(arg), arg>>5
		if k == minip1.KindBindAccept {
			u.MTAName = dnB
		}
		if arg&1 != 0 && k == minip1.KindBind {
			u.MTAName = "" // refused
		}
	case minip1.KindBindRefuse:
		u.Provider, u.Reason = arg&1, arg>>1
	case minip1.KindTransfer:
		// Low bits: the message; bit 7 starts a two-segment message.
		id := fmt.Sprintf("m%d", arg&7)
		payload := []byte("xyz")[:arg>>3&3]
		u = transferUnit(id, uint32(arg&15)+1, payload)
		if arg&0x80 != 0 {
			u.Flags, u.Total = 0, uint32(len(payload))+1
		}
	case minip1.KindAck:
		u.Seq, u.Result, u.MsgID = uint32(arg>>2)+1, arg&3, fmt.Sprintf("m%d", arg>>4&3)
	case minip1.KindRelease, minip1.KindAbort:
		u.Reason = arg % 5
	}
	return u
}

func (s *script) sendUnit(k minip1.Kind, arg byte) {
	if s.p == nil {
		return
	}
	b, known := s.kcb()
	n1198 := s.count(eventlog.IDStateCheck)
	if err := s.p.write(frame(s.unit(k, arg))); err != nil {
		return // the kernel closed the connection
	}
	if !s.sync || !known || b.State == kernel.Idle || k == minip1.KindAbort || k == minip1.KindER {
		synctest.Wait()
		return
	}
	role := kernel.Responder
	if b.Role == kernel.Initiator.String() {
		role = kernel.Initiator
	}
	if slices.Contains(transitions[role][b.State], k) {
		synctest.Wait()
		return
	}
	// No transition: a 1198, or a termination the peer sees.
	got := s.p.drain()
	if s.count(eventlog.IDStateCheck) > n1198 {
		return
	}
	for _, g := range got {
		if g == "ER" || g == "EOF" || len(g) >= 5 && g[:5] == "ABORT" || len(g) >= 2 && g[:2] == "DR" {
			return
		}
	}
	s.t.Fatalf("%v in state %v (%s, KCB %d) had no transition, yet no 1198 and no ER/ABORT/DR/close; peer got %v; events %v",
		k, b.State, b.Role, b.Index, got, s.h.events())
}

func (s *script) writeRaw(raw []byte) {
	if s.p == nil || len(raw) == 0 {
		return
	}
	s.sync = false
	_ = s.p.write(raw)
	synctest.Wait()
}

func (s *script) count(id int) int {
	synctest.Wait()
	n := 0
	for _, r := range s.h.log.Records() {
		if r.ID == id {
			n++
		}
	}
	return n
}

func (s *script) checkStates() {
	for _, b := range s.h.snap().KCBs {
		if !slices.Contains(kernel.States(), b.State) {
			s.t.Fatalf("KCB %d in state %d, not one of %v", b.Index, b.State, kernel.States())
		}
		if b.Index == 0 && b.State != kernel.Idle {
			s.t.Fatalf("the listener's KCB 0 is in state %v", b.State)
		}
	}
}

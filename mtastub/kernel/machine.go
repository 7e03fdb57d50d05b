package kernel

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Service types and flavors used in event text (DESIGN.md section 2).
const (
	SvcTConnect    = 1
	SvcRelease     = 9
	SvcAssociate   = 13
	SvcTransfer    = 20
	SvcAbort       = 25
	SvcTDisconnect = 26
	SvcTimer       = 27
	SvcProtocol    = 28

	FlavorRequest    = 1
	FlavorIndication = 2
	FlavorResponse   = 3
	FlavorConfirm    = 4
)

// Failure reasons carried in 1004 (DESIGN.md section 4).
const (
	ReasonEOF        = 1
	ReasonReset      = 2
	ReasonOpenTimer  = 3
	ReasonXferTimer  = 4
	ReasonReasmTimer = 5
	ReasonProtocol   = 6
	ReasonPeerAbort  = 7
	ReasonOpenError  = 8
	ReasonDRReceived = 9
	ReasonRefused    = 10
)

// cause describes why an association fails.
type cause struct {
	svc, flavor, reason int
	abort               uint8 // ABORT reason to send; noAbort for none
	what                string
	keep                bool // a defect keeps the KCB out of the pool after the error abort
}

const noAbort = 0xFF

// erCauseInvalid is the ER reject cause "invalid parameter value" of ISO 8073.
const erCauseInvalid = 0x03

// unitService maps a received unit to its service type and flavor.
func unitService(k minip1.Kind) (svc, flavor int) {
	switch k {
	case minip1.KindCR:
		return SvcTConnect, FlavorIndication
	case minip1.KindCC, minip1.KindDR:
		return SvcTConnect, FlavorConfirm
	case minip1.KindER:
		return SvcProtocol, FlavorIndication
	case minip1.KindBind:
		return SvcAssociate, FlavorIndication
	case minip1.KindBindAccept, minip1.KindBindRefuse:
		return SvcAssociate, FlavorConfirm
	case minip1.KindTransfer:
		return SvcTransfer, FlavorIndication
	case minip1.KindAck:
		return SvcTransfer, FlavorConfirm
	case minip1.KindRelease:
		return SvcRelease, FlavorIndication
	case minip1.KindReleaseConfirm:
		return SvcRelease, FlavorConfirm
	case minip1.KindAbort:
		return SvcAbort, FlavorIndication
	}
	return SvcProtocol, FlavorIndication
}

func (k *Kernel) handle(e event) {
	switch e.kind {
	case evCall:
		e.fn()
	case evAccept:
		k.accepted(e.conn)
	case evDialed:
		k.dialed(e)
	case evRetry:
		if c := k.connectors[e.peer]; c != nil && c.rseq == e.seq {
			c.waiting = false
			k.retry(c)
		}
	case evTimer:
		b := k.kcbs[e.kcb]
		if b.tseq[e.timer] != e.seq {
			return // cancelled or re-armed
		}
		b.timers[e.timer] = nil
		k.timerFired(b, e.timer)
	case evUnit, evBad, evClosed, evReasm:
		k.fromPath(e)
		putFrame(e.frame)
	}
}

// fromPath routes what a path's reader saw. The dispatch hook is here: the
// fixed build drops anything from a path that is no longer the KCB's
// current one (an old generation); Q152877 has no generation check, so a
// unit from a stale path reaches whatever the KCB is now. The path loss
// and reassembly timer hooks are here too.
func (k *Kernel) fromPath(e event) {
	b, p := k.kcbs[e.kcb], e.path
	current := b.path == p && b.gen == e.gen
	if !current {
		if e.kind == evClosed || e.kind == evBad {
			k.dropStale(b, p)
			return
		}
		if b.kept || !k.dispatchStale(b, p, e.kind) {
			// A KCB kept out of the pool without a path gets nothing.
			k.log.Debug("dropped unit from old path", "kcb", b.idx, "unit", e.unit.Kind, "gen", e.gen, "now", b.gen)
			return
		}
		k.dispatch(b, e.unit)
		return
	}
	switch e.kind {
	case evUnit:
		k.dispatch(b, e.unit)
	case evBad:
		k.log.Warn("malformed frame", "kcb", b.idx, "state", b.state, "err", e.err)
		k.fail(b, cause{svc: SvcProtocol, flavor: FlavorIndication, reason: ReasonProtocol, abort: minip1.AbortProtocol, what: e.err.Error()})
	case evClosed:
		if b.state == TDiscPending {
			k.finishAssoc(b)
			return
		}
		reason := ReasonEOF
		if isReset(e.err) {
			reason = ReasonReset
		}
		c := cause{svc: SvcTDisconnect, flavor: FlavorIndication, reason: reason, abort: noAbort, what: "transport disconnected: " + errText(e.err)}
		if k.holdOnPathLoss(b, c) {
			k.hold(b, c)
			return
		}
		k.fail(b, c)
	case evReasm:
		c := cause{svc: SvcTimer, flavor: FlavorIndication, reason: ReasonReasmTimer, abort: minip1.AbortTemporary, what: "reassembly timer"}
		c.keep = b.state == Associated && k.keepOnTimer(b, tReassembly)
		k.fail(b, c)
	}
}

func isStale(b *kcb, p *path) bool {
	for _, s := range b.stale {
		if s == p {
			return true
		}
	}
	return false
}

// dropStale detaches a stale path that closed or went bad.
func (k *Kernel) dropStale(b *kcb, p *path) {
	for i, s := range b.stale {
		if s == p {
			b.stale = append(b.stale[:i], b.stale[i+1:]...)
			break
		}
	}
	p.close()
}

func errText(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return "EOF"
	}
	return err.Error()
}

// dispatch runs the state table for a unit that reached KCB b.
func (k *Kernel) dispatch(b *kcb, u minip1.Unit) {
	if b.state == Idle {
		k.stateCheck(b, u.Kind)
		return
	}
	if b.role == Initiator {
		k.initiatorUnit(b, u)
	} else {
		k.responderUnit(b, u)
	}
}

// stateCheck logs 1198 for a unit with no transition in b's state; a live
// association is then terminated.
func (k *Kernel) stateCheck(b *kcb, kind minip1.Kind) {
	svc, flavor := unitService(kind)
	k.emit(eventlog.Record{ID: eventlog.IDStateCheck, KCB: b.idx, State: int(b.state), Svc: svc, Flavor: flavor, Entity: b.entity, Assoc: b.assoc})
	k.log.Debug("state check failure", "kcb", b.idx, "state", b.state, "unit", kind)
	if b.state != Idle {
		k.fail(b, cause{svc: svc, flavor: flavor, reason: ReasonProtocol, abort: minip1.AbortProtocol, what: "state check failure on " + kind.String()})
	}
}

func (k *Kernel) initiatorUnit(b *kcb, u minip1.Unit) {
	switch {
	case b.state == TConPending && u.Kind == minip1.KindCC:
		if u.TPDUSize >= 7 && u.TPDUSize <= 16 {
			b.frameMax = min(b.frameMax, 1<<u.TPDUSize)
		}
		b.state = OpenPending
		bind := bindRequest(k.dn, b.assoc, b.window)
		k.send(b, &bind)
		k.setTimer(b, tOpen, k.cfg.Timers.Open)
	case b.state == TConPending && u.Kind == minip1.KindDR:
		k.fail(b, cause{svc: SvcTConnect, flavor: FlavorConfirm, reason: ReasonDRReceived, abort: noAbort, what: fmt.Sprintf("DR reason 0x%02x", u.Reason)})
	case b.state == OpenPending && u.Kind == minip1.KindBindAccept:
		if u.Window > 0 {
			b.window = min(b.window, int(u.Window))
		}
		b.state = Associated
		b.stopTimer(tOpen)
		k.pump(b)
	case b.state == OpenPending && u.Kind == minip1.KindBindRefuse:
		k.fail(b, cause{svc: SvcAssociate, flavor: FlavorConfirm, reason: ReasonRefused, abort: noAbort, what: "BIND refused"})
	case (b.state == Associated || b.state == Releasing) && u.Kind == minip1.KindAck:
		k.acked(b, u)
	case b.state == Associated && u.Kind == minip1.KindRelease:
		k.requeue(b)
		k.send(b, &minip1.Unit{Kind: minip1.KindReleaseConfirm})
		b.state = TDiscPending
		b.stopTimers()
		k.setTimer(b, tDisconnect, k.cfg.Timers.Disconnect)
	case b.state == Releasing && u.Kind == minip1.KindReleaseConfirm:
		// 4 → 6 → 0: the initiator closes the transport connection itself.
		b.state = TDiscPending
		k.finishAssoc(b)
	default:
		k.peerTerminated(b, u)
	}
}

func (k *Kernel) responderUnit(b *kcb, u minip1.Unit) {
	switch {
	case b.state == TConPending && u.Kind == minip1.KindCR:
		k.connectRequest(b, u)
	case b.state == OpenPending && u.Kind == minip1.KindBind:
		if u.MTAName == "" {
			k.send(b, &minip1.Unit{Kind: minip1.KindBindRefuse, Provider: 1, Reason: 1})
			k.fail(b, cause{svc: SvcAssociate, flavor: FlavorIndication, reason: ReasonOpenError, abort: noAbort, what: "BIND without MTA name"})
			return
		}
		b.entity, b.peer = u.MTAName, cnOf(u.MTAName)
		if u.Window > 0 {
			b.window = min(b.window, int(u.Window))
		}
		b.state = Associated
		b.stopTimer(tOpen)
		k.send(b, &minip1.Unit{Kind: minip1.KindBindAccept, MTAName: k.dn, AssocID: u.AssocID, Window: uint8(b.window)})
	case b.state == Associated && u.Kind == minip1.KindTransfer:
		k.transfer(b, u)
	case b.state == Associated && u.Kind == minip1.KindRelease:
		k.send(b, &minip1.Unit{Kind: minip1.KindReleaseConfirm})
		b.state = TDiscPending
		b.stopTimers()
		k.setTimer(b, tDisconnect, k.cfg.Timers.Disconnect)
	default:
		k.peerTerminated(b, u)
	}
}

// peerTerminated handles ABORT and ER in any live state, and otherwise
// fails the state check.
func (k *Kernel) peerTerminated(b *kcb, u minip1.Unit) {
	switch u.Kind {
	case minip1.KindAbort:
		k.fail(b, cause{svc: SvcAbort, flavor: FlavorIndication, reason: ReasonPeerAbort, abort: noAbort, what: fmt.Sprintf("ABORT reason %d from peer", u.Reason)})
	case minip1.KindER:
		k.fail(b, cause{svc: SvcProtocol, flavor: FlavorIndication, reason: ReasonProtocol, abort: noAbort, what: fmt.Sprintf("ER cause %d from peer", u.Cause)})
	default:
		k.stateCheck(b, u.Kind)
	}
}

// connectRequest answers a CR on responder KCB b: CC, or DR and 1277.
func (k *Kernel) connectRequest(b *kcb, u minip1.Unit) {
	refuse := func(reason uint8, idx int, why string) {
		k.counters.Refused++
		k.emit(eventlog.Record{ID: eventlog.IDConnRefused, KCB: idx})
		k.log.Debug("transport connection refused", "kcb", idx, "why", why, "calling", u.CallingTSAP)
		p := b.path
		k.toIdle(b)
		p.finish(k.encode(&minip1.Unit{Kind: minip1.KindDR, DstRef: u.SrcRef, SrcRef: uint16(b.idx), Reason: reason, Text: why}, minip1.MaxFrame), k.cfg.Timers.Disconnect)
	}
	if u.CalledTSAP != "" && u.CalledTSAP != k.cfg.Name {
		refuse(minip1.DRUnknownTSAP, b.idx, "unknown called TSAP "+u.CalledTSAP)
		return
	}
	if reason, idx, why, ok := k.refuseCR(b, u); ok {
		refuse(reason, idx, why)
		return
	}
	b.callingTSAP = u.CallingTSAP
	if u.TPDUSize >= 7 && u.TPDUSize <= 16 {
		b.frameMax = min(b.frameMax, 1<<u.TPDUSize)
	}
	b.state = OpenPending
	k.send(b, &minip1.Unit{Kind: minip1.KindCC, DstRef: u.SrcRef, SrcRef: uint16(b.idx), TPDUSize: log2(b.frameMax),
		CallingTSAP: u.CallingTSAP, CalledTSAP: k.cfg.Name})
	k.setTimer(b, tOpen, k.cfg.Timers.Open)
}

// transfer takes one TRANSFER segment on responder KCB b.
func (k *Kernel) transfer(b *kcb, u minip1.Unit) {
	if q := b.path.queued(); q > maxUnreadAcks(b.window) {
		// The peer sends but does not read: every ACK would wait in memory.
		k.fail(b, cause{svc: SvcTransfer, flavor: FlavorIndication, reason: ReasonProtocol, abort: noAbort,
			what: fmt.Sprintf("peer does not read: %d frames queued", q)})
		return
	}
	payload, done, err := b.reasm.Add(&u)
	if err == nil && !done && b.reasm.Pending() > b.window {
		// An initiator has at most window messages in flight, and sends
		// each whole: more partial messages than that is a protocol error,
		// and unbounded memory if let be.
		b.reasm.Reset()
		err = fmt.Errorf("%d messages in reassembly at once, window %d", b.window+1, b.window)
	}
	if err != nil {
		k.fail(b, cause{svc: SvcTransfer, flavor: FlavorIndication, reason: ReasonProtocol, abort: minip1.AbortProtocol, what: err.Error()})
		return
	}
	if !done {
		return
	}
	result := uint8(minip1.ResultAccepted)
	first, err := k.cfg.Store.MarkReceived(u.MsgID)
	switch {
	case err != nil:
		k.log.Error("store", "err", err)
		result = minip1.ResultTransient
	case !first:
		result = minip1.ResultDuplicate
		k.counters.Duplicates++
	default:
		k.counters.Delivered++
		if k.cfg.Deliver != nil {
			k.cfg.Deliver(Delivery{ID: u.MsgID, From: b.peer, To: k.cfg.Name, Size: len(payload), At: time.Now(), Assoc: b.assoc, KCB: b.idx})
		}
	}
	k.send(b, &minip1.Unit{Kind: minip1.KindAck, Seq: u.Seq, Result: result, MsgID: u.MsgID})
}

// maxUnreadAcks is how many frames may wait on a responder's path before a
// TRANSFER: the ACKs of a window, many times over. Past it the peer is
// not reading, and the association fails rather than buffer without bound.
func maxUnreadAcks(window int) int { return 4*window + 16 }

// acked takes an ACK on initiator KCB b.
func (k *Kernel) acked(b *kcb, u minip1.Unit) {
	i := -1
	for j, m := range b.inflight {
		if m.ID == u.MsgID {
			i = j
			break
		}
	}
	if i < 0 {
		k.log.Debug("ACK for a message not in flight", "kcb", b.idx, "id", u.MsgID)
		return
	}
	m := b.inflight[i]
	b.inflight = append(b.inflight[:i], b.inflight[i+1:]...)
	switch u.Result {
	case minip1.ResultTransient:
		// Retried after what is already queued, not hammered at once.
		b.conn.queue = append(b.conn.queue, m)
	default: // accepted, duplicate, permanent: done with it
		if err := k.cfg.Store.Remove(b.peer, m.ID); err != nil {
			k.log.Error("store", "err", err)
		}
		k.counters.Acked++
	}
	b.stopTimer(tTransfer)
	k.pump(b)
}

// pump sends queued messages up to the window and arms the transfer or
// lifetime timer.
func (k *Kernel) pump(b *kcb) {
	c := b.conn
	for len(b.inflight) < b.window && len(c.queue) > 0 {
		m := c.queue[0]
		c.queue = c.queue[1:]
		for _, seg := range minip1.Segment(m.ID, m.Priority, b.nextSeq, m.Payload, b.frameMax) {
			k.send(b, &seg)
			b.nextSeq++
		}
		if m.sent > 0 {
			k.counters.Resent++
		}
		m.sent++
		b.inflight = append(b.inflight, m)
	}
	if len(b.inflight) > 0 {
		b.stopTimer(tLifetime)
		if b.timers[tTransfer] == nil {
			bytes := 0
			for _, m := range b.inflight {
				bytes += len(m.Payload)
			}
			k.setTimer(b, tTransfer, k.cfg.Timers.Transfer+time.Duration(bytes)*time.Second/FloorRate)
		}
		return
	}
	b.stopTimer(tTransfer)
	if b.state == Associated && b.timers[tLifetime] == nil {
		k.setTimer(b, tLifetime, k.cfg.Timers.Lifetime)
	}
}

func (k *Kernel) timerFired(b *kcb, t timerKind) {
	switch {
	case t == tOpen && (b.state == TConPending || b.state == OpenPending):
		k.fail(b, cause{svc: SvcTimer, flavor: FlavorIndication, reason: ReasonOpenTimer, abort: noAbort, what: "open timer"})
	case t == tTransfer && (b.state == Associated || b.state == Releasing):
		c := cause{svc: SvcTimer, flavor: FlavorIndication, reason: ReasonXferTimer, abort: minip1.AbortTemporary, what: "transfer timer"}
		c.keep = k.keepOnTimer(b, tTransfer)
		k.fail(b, c)
	case t == tLifetime && b.state == Associated && len(b.inflight) == 0 && len(b.conn.queue) == 0:
		b.state = Releasing
		k.send(b, &minip1.Unit{Kind: minip1.KindRelease})
		k.setTimer(b, tTransfer, k.cfg.Timers.Transfer)
	case t == tLifetime && b.state == Associated:
		k.pump(b)
	case t == tDisconnect && b.state == TDiscPending:
		k.finishAssoc(b)
	}
}

// fail ends b's association after cause: an open error in states 1–2, an
// error abort in states 3–4 (state 5, Aborting, is never entered).
func (k *Kernel) fail(b *kcb, c cause) {
	if b.state == TDiscPending || b.state == Idle {
		k.finishAssoc(b)
		return
	}
	k.failureEvent(b, c)
	k.log.Debug("association failed", "kcb", b.idx, "state", b.state, "role", b.role, "peer", b.peer, "why", c.what)
	conn := b.conn
	k.requeue(b)
	if conn != nil && b.role == Initiator && b.state <= OpenPending {
		k.openFailed(conn, b.idx)
	}
	if b.state <= OpenPending {
		if c.abort == minip1.AbortProtocol && b.path != nil {
			// A protocol error before the association exists is answered
			// at the transport layer (DESIGN.md section 2: ER or ABORT).
			b.path.finish(k.encode(&minip1.Unit{Kind: minip1.KindER, Cause: erCauseInvalid}, b.frameMax), k.cfg.Timers.Disconnect)
		}
		k.openError(b)
	} else {
		k.errorAbort(b, c)
	}
	if conn != nil {
		k.scheduleRetry(conn)
	}
}

// failureEvent emits 1004 (entity known) or 1008 (not yet known).
func (k *Kernel) failureEvent(b *kcb, c cause) {
	svc, flavor, reason := c.svc, c.flavor, c.reason
	if b.role == Initiator && (len(b.inflight) > 0 || len(b.conn.queue) > 0) {
		svc, flavor = SvcTransfer, FlavorRequest
	}
	if b.state <= OpenPending && reason != ReasonDRReceived && reason != ReasonRefused {
		reason = ReasonOpenError
	}
	if b.entity == "" {
		k.emit(eventlog.Record{ID: eventlog.IDAssocErrorAnon, KCB: b.idx, State: int(b.state), Svc: svc, Flavor: flavor, Reason: reason, Assoc: b.assoc})
	} else {
		k.emit(eventlog.Record{ID: eventlog.IDAssocError, KCB: b.idx, State: int(b.state), Svc: svc, Flavor: flavor, Reason: reason, Assoc: b.assoc, Entity: b.entity})
	}
	if !k.companions {
		return
	}
	if c.reason == ReasonReset {
		k.emit(eventlog.Record{ID: eventlog.IDConnReset, KCB: b.idx, Entity: b.entity})
	}
	if b.state >= Associated {
		k.emit(eventlog.Record{ID: eventlog.IDAbnormalEnd, KCB: b.idx, State: int(b.state), Svc: svc, Flavor: flavor, Reason: reason, Assoc: b.assoc, Entity: b.entity})
	}
}

// openError returns b to the pool after an open error: close, bump
// generation, clear, Idle. The open error hook may keep it instead (Q152877:
// a responder KCB in OpenPending stays OpenPending with its entity and
// calling TSAP, and no socket: leaked).
func (k *Kernel) openError(b *kcb) {
	if b.path != nil && !b.path.finishing() {
		b.path.close()
	}
	if k.keepOnOpenError(b) {
		b.stopTimers()
		b.path, b.leaked = nil, true
		k.log.Debug("KCB leaked in OpenPending", "kcb", b.idx, "calling", b.callingTSAP)
		return
	}
	k.toIdle(b)
}

// errorAbort ends b's association after a failure in states 3–5: ABORT,
// close now, bump generation, Idle. With c.keep (the timer expiry hook) the
// KCB is not returned (keep). The error abort hook may leave the old
// socket attached instead (Q152877: Idle at once, but the socket stays
// attached, stale, until the disconnect timer, and what it still carries
// is dispatched to the KCB).
func (k *Kernel) errorAbort(b *kcb, c cause) {
	p := b.path
	var abort outFrame
	if c.abort != noAbort {
		abort = k.encode(&minip1.Unit{Kind: minip1.KindAbort, Reason: c.abort, Source: 0}, b.frameMax)
	}
	if c.keep {
		k.keep(b, abort)
		return
	}
	k.toIdle(b)
	if p == nil {
		return
	}
	if !k.staleOnErrorAbort(b) {
		p.finish(abort, k.cfg.Timers.Disconnect)
		return
	}
	if abort.buf != nil {
		p.send(abort)
	}
	b.stale = append(b.stale, p)
	idx := b.idx
	time.AfterFunc(k.cfg.Timers.Disconnect, func() {
		k.post(event{kind: evCall, fn: func() { k.dropStale(k.kcbs[idx], p) }})
	})
}

// requeue puts b's in-flight messages back at the head of its connector's queue.
func (k *Kernel) requeue(b *kcb) {
	if b.conn == nil || len(b.inflight) == 0 {
		return
	}
	b.conn.queue = append(append([]*outMsg(nil), b.inflight...), b.conn.queue...)
	b.inflight = nil
}

// finishAssoc ends an association that closed normally (or was already
// terminating): socket closed, KCB Idle, and its connector opens the next
// association at once if mail is waiting.
func (k *Kernel) finishAssoc(b *kcb) {
	conn := b.conn
	if b.path != nil {
		b.path.close()
	}
	k.toIdle(b)
	if conn != nil {
		k.kick(conn)
	}
}

func (k *Kernel) scheduleRetry(c *connector) {
	if c.retry != nil {
		c.retry.Stop()
	}
	c.rseq++
	c.waiting = true
	seq, peer := c.rseq, c.peer
	c.retry = time.AfterFunc(k.cfg.Timers.OpenInterval, func() {
		k.post(event{kind: evRetry, peer: peer, seq: seq})
	})
}

// kick opens an association for c if it has mail and none is open.
func (k *Kernel) kick(c *connector) {
	if c.kcb >= 0 {
		b := k.kcbs[c.kcb]
		switch {
		case b.state == Associated && b.held:
			// Held without a path (Q232602): the connector does not dial;
			// its retries find the association and fail (retry).
			if !c.waiting && len(c.queue) > 0 {
				k.scheduleRetry(c)
			}
		case b.state == Associated:
			k.pump(b)
		}
		return
	}
	if c.waiting || len(c.queue) == 0 {
		return
	}
	addr := k.cfg.Peers[c.peer]
	if addr == "" {
		return
	}
	idx := k.allocIdle()
	if idx < 0 {
		if k.companions {
			k.emit(eventlog.Record{ID: eventlog.IDNoControlBlocks, Entity: k.peerDN(c.peer), Limit: len(k.kcbs)})
		}
		k.scheduleRetry(c)
		return
	}
	b := k.kcbs[idx]
	k.claim(b, Initiator, TConPending)
	c.kcb, c.connSeq = idx, c.connSeq+1
	b.conn, b.peer, b.entity = c, c.peer, k.peerDN(c.peer)
	// The calling TSAP names the MTA and the connection: a restarted MTA
	// counts again from 1, which is how it can collide with a KCB that its
	// previous life left OpenPending at the peer.
	b.callingTSAP = callingTSAP(k.cfg.Name, c.connSeq)
	b.dialing = true
	k.setTimer(b, tOpen, k.cfg.Timers.Open)
	k.dial(b, addr)
}

func (k *Kernel) dialed(e event) {
	b := k.kcbs[e.kcb]
	if b.gen != e.gen || !b.dialing {
		if e.conn != nil {
			_ = e.conn.Close()
		}
		return
	}
	b.dialing = false
	delete(k.dialCancel, b.idx)
	if e.err != nil {
		if k.companions && isRefused(e.err) {
			k.emit(eventlog.Record{ID: eventlog.IDConnectRefused, KCB: b.idx, Entity: b.entity, Socket: 10061})
		}
		k.fail(b, cause{svc: SvcTConnect, flavor: FlavorConfirm, reason: ReasonOpenError, abort: noAbort, what: "dial: " + e.err.Error()})
		return
	}
	b.path = k.attach(e.conn, b)
	cr := connectRequest(b.idx, k.cfg.FrameMax, b.callingTSAP, b.peer)
	k.send(b, &cr)
}

// accepted claims a KCB for an inbound transport connection, or refuses it
// (1277) when no KCB is Idle.
func (k *Kernel) accepted(conn net.Conn) {
	idx := k.allocIdle()
	if idx < 0 {
		k.counters.Refused++
		k.emit(eventlog.Record{ID: eventlog.IDConnRefused, KCB: k.refusalIndex()})
		if k.companions {
			k.emit(eventlog.Record{ID: eventlog.IDNoControlBlocks, Limit: len(k.kcbs)})
		}
		k.refuseNoKCB(conn)
		return
	}
	b := k.kcbs[idx]
	k.claim(b, Responder, TConPending)
	b.path = k.attach(conn, b)
	k.setTimer(b, tOpen, k.cfg.Timers.Open)
}

// refusalIndex is the control block a congestion refusal names: the
// lowest leaked KCB when there is one (the conflicting path), else the last.
func (k *Kernel) refusalIndex() int {
	for _, b := range k.kcbs[1:] {
		if b.leaked {
			return b.idx
		}
	}
	return len(k.kcbs) - 1
}

// refuseNoKCB answers the CR of a connection no KCB could take with DR
// congestion, outside the pool.
func (k *Kernel) refuseNoKCB(conn net.Conn) {
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		defer conn.Close()
		stop := time.AfterFunc(k.cfg.Timers.Open, func() { _ = conn.Close() })
		defer stop.Stop()
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-k.done:
				_ = conn.Close()
			case <-done:
			}
		}()
		u, err := minip1.NewReader(conn, k.cfg.FrameMax).ReadUnit()
		if err != nil || u.Kind != minip1.KindCR {
			return
		}
		f, err := minip1.AppendFrame(nil, &minip1.Unit{Kind: minip1.KindDR, DstRef: u.SrcRef, Reason: minip1.DRCongestion}, minip1.MaxFrame)
		if err == nil {
			_, _ = conn.Write(f)
		}
	}()
}

// send encodes u and queues it on b's path.
func (k *Kernel) send(b *kcb, u *minip1.Unit) {
	if b.path == nil {
		return
	}
	if f := k.encode(u, b.frameMax); f.buf != nil {
		b.path.send(f)
	}
}

// encode encodes u into a pooled buffer; a TRANSFER payload larger than
// inlinePayload is not copied but referenced, for the writer's writev. On
// an error it logs and returns a frame with a nil buf.
func (k *Kernel) encode(u *minip1.Unit, max int) outFrame {
	var f outFrame
	var err error
	if u.Kind == minip1.KindTransfer && len(u.Payload) > inlinePayload {
		f.buf, f.at, err = minip1.AppendFrameParts(getFrame(0), u, max)
		f.payload = u.Payload
	} else {
		f.buf, err = minip1.AppendFrame(getFrame(0), u, max)
		f.at = len(f.buf)
	}
	if err != nil {
		k.log.Error("encode", "unit", u.Kind, "err", err)
		putFrame(f.buf)
		return outFrame{}
	}
	return f
}

func (k *Kernel) emit(r eventlog.Record) {
	r.OwnDN = k.dn
	k.cfg.Events.Emit(r)
}

// cnOf returns the MTA name in a DN (the CN before CN=MICROSOFT MTA).
func cnOf(dn string) string {
	parts := strings.Split(dn, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if p := parts[i]; strings.HasPrefix(strings.ToUpper(p), "CN=") && !strings.EqualFold(p, "CN=MICROSOFT MTA") {
			return p[3:]
		}
	}
	return dn
}

func log2(n int) uint8 { return uint8(bits.Len(uint(n)) - 1) }

// keep leaves b out of the pool after its error abort (the timer expiry
// hook: Q229643, Q247419): the ABORT is written and the socket closed,
// timers stopped, the generation bumped, the in-flight messages already
// re-queued; b stays in its state with its peer and entity, no socket
// (leaked). Its connector lets it go, so its next open claims another KCB.
func (k *Kernel) keep(b *kcb, abort outFrame) {
	b.stopTimers()
	b.gen++
	if b.path != nil {
		b.path.finish(abort, k.cfg.Timers.Disconnect)
	} else {
		putFrame(abort.buf)
	}
	b.path, b.leaked, b.kept = nil, true, true
	if b.conn != nil && b.conn.kcb == b.idx {
		b.conn.kcb = -1
	}
	b.conn, b.inflight = nil, nil
	if b.reasm != nil {
		b.reasm.Reset()
	}
	k.log.Debug("KCB leaked in state 3", "kcb", b.idx, "role", b.role, "peer", b.peer)
}

// hold keeps initiator b as its connector's association after its path
// ended (the path loss hook: Q232602): 2035 (and 9221 for a reset, with
// the companions), the socket closed, timers stopped, the in-flight
// messages back in the queue. b stays Associated with no socket (leaked)
// and its connector never dials while it lasts: each retry finds it and
// fails (retry).
func (k *Kernel) hold(b *kcb, c cause) {
	k.emit(eventlog.Record{ID: eventlog.IDLostConnections, KCB: b.idx, Assoc: b.assoc, Entity: b.entity})
	if k.companions && c.reason == ReasonReset {
		k.emit(eventlog.Record{ID: eventlog.IDConnReset, KCB: b.idx, Entity: b.entity})
	}
	k.log.Debug("association held without a path", "kcb", b.idx, "peer", b.peer, "why", c.what)
	k.requeue(b)
	b.stopTimers()
	b.gen++
	if b.path != nil {
		b.path.close()
	}
	b.path, b.leaked, b.kept, b.held = nil, true, true, true
	if b.reasm != nil {
		b.reasm.Reset()
	}
	k.scheduleRetry(b.conn)
}

// retry is a connector's open_interval retry: it opens an association if
// mail waits. A connector whose association is held without a path
// (Q232602) does not dial: the attempt fails at once, logging 4284 and
// 4287 while mail is queued, and is tried again open_interval later.
func (k *Kernel) retry(c *connector) {
	if c.kcb >= 0 {
		if b := k.kcbs[c.kcb]; b.held {
			if len(c.queue) > 0 {
				k.openFailed(c, b.idx)
				k.scheduleRetry(c)
			}
			return
		}
	}
	k.kick(c)
}

// openFailed logs a failed outbound open of connector c (on KCB idx) while
// mail is queued: 4284 and 4287 on a 5.5 build (Q175354); nothing on 4.0.
func (k *Kernel) openFailed(c *connector, idx int) {
	if !k.pop4 || len(c.queue) == 0 {
		return
	}
	entity := k.peerDN(c.peer)
	k.emit(eventlog.Record{ID: eventlog.IDConnError, KCB: idx, Entity: entity})
	k.emit(eventlog.Record{ID: eventlog.IDInternalError, KCB: idx, Entity: entity})
}

package kernel

import (
	"github.com/mtastorm/mtastorm/minip1"
)

// Where CATALOGUE.md is silent, the kernel does this (derived from the
// state tables of DESIGN.md section 3 and the KB articles):
//
//   - Q229643 and Q247419 keep the KCB, not the socket: the ABORT is sent
//     and the connection closed exactly as in the fixed build; the KCB stays
//     in state 3 with its peer and entity (leaked) and its connector lets it
//     go. Only state 3 triggers them: the transfer timer that guards a
//     RELEASE (state 4) and the reassembly timer of an initiator's path do
//     the fixed thing.
//   - Q232602 does not terminate the association, so it logs 2035 and no
//     1004 or 1294 at the loss; a reset still logs 9221 (companions on: the
//     socket layer saw it). Its connector's first failed retry comes
//     open_interval after the loss; a Submit or a new peer address does not
//     retry sooner. leak_probability decides whether the association is held.
//   - 4284 + 4287 follow the 1004 of every failed outbound open (an
//     initiator's open error in state 1 or 2) while its connector has mail
//     queued, and each retry of a held connector (Q232602), on a 5.5 build
//     only: a property of the build, not of a defect. An open that finds no
//     Idle KCB logs 9156 alone (companions on, any build: Q166602/Q200259);
//     an inbound connection refused for want of a KCB logs 1277 and 9156.
//     The records of 2035, 4284 and 4287 carry the KCB index and the peer's
//     DN (their texts have no variable fields).
//   - A 5.5 build logs the companions whatever Config.ExtendedEvents says.
//     Both banners (9298 and 9299) carry the build number.
//   - A KCB kept out of the pool without a path gets nothing from an old
//     path, even beside Q152877's stale dispatch (a defect-set experiment).
//
// A defect is one known defect of CATALOGUE.md C2: a value that implements
// some of the kernel's hook points below. A build is a list of defects
// (builds.go); where no defect of the kernel's list implements a hook, the
// kernel does the fixed thing. The hooks decide; the kernel acts, so that a
// defect's whole difference from the fixed build reads in a few lines.
type defect interface {
	// kb is the defect's KB id.
	kb() string
}

// openErrorHook decides the open error hook: whether responder or
// initiator KCB b, failing in state 1 or 2, is kept out of the pool (left
// in its state with its entity and calling TSAP, no socket: leaked)
// instead of returned to Idle.
type openErrorHook interface {
	keepOnOpenError(k *Kernel, b *kcb) bool
}

// errorAbortHook decides the error abort hook: whether b's old path stays
// attached (stale) until the disconnect timer when b returns to Idle after
// an error abort, instead of being closed at once.
type errorAbortHook interface {
	staleOnErrorAbort(k *Kernel, b *kcb) bool
}

// timerExpiryHook decides the timer expiry hook: whether b, whose timer t
// expired (tReassembly for the reassembly timer), is kept out of the pool
// after its error abort (1004 logged, ABORT sent, socket closed, in-flight
// messages re-queued) instead of returned to Idle.
type timerExpiryHook interface {
	keepOnTimer(k *Kernel, b *kcb, t timerKind) bool
}

// pathLossHook decides the path loss hook: whether b, whose current path
// ended (EOF or reset: c), keeps its association without a path instead
// of failing with an error abort. A kept association stays its
// connector's: the connector does not dial while it lasts.
type pathLossHook interface {
	holdOnPathLoss(k *Kernel, b *kcb, c cause) bool
}

// dispatchHook decides the dispatch hook: whether an event of kind from
// path p, which is not b's current path (an old generation), still reaches
// b's state table.
type dispatchHook interface {
	dispatchStale(k *Kernel, b *kcb, p *path, kind evKind) bool
}

// inboundCRHook decides the inbound CR hook: whether the CR u reaching
// responder KCB b is refused because of another KCB. It returns the DR
// reason, the KCB index 1277 names and why; ok is false to go on.
type inboundCRHook interface {
	refuseCR(k *Kernel, b *kcb, u minip1.Unit) (reason uint8, idx int, why string, ok bool)
}

// tReassembly names the reassembly timer to the timer expiry hook. The
// reassembly timer is a read deadline on the path, not one of a KCB's
// timers, so it has no slot in kcb.timers.
const tReassembly = nTimers

// defectValues maps each KB id of defectTable to its value.
var defectValues = map[string]defect{
	KBQ152877: q152877{},
	KBQ229643: q229643{},
	KBQ232602: q232602{},
	KBQ247419: q247419{},
}

// hooks are a kernel's defects sorted by hook point, in catalogue order.
type hooks struct {
	openError  []openErrorHook
	errorAbort []errorAbortHook
	timer      []timerExpiryHook
	pathLoss   []pathLossHook
	dispatch   []dispatchHook
	inboundCR  []inboundCRHook
}

// hooksFor collects the hook implementations of the defects kbs.
func hooksFor(kbs []string) hooks {
	var h hooks
	for _, kb := range kbs {
		d := defectValues[kb]
		if x, ok := d.(openErrorHook); ok {
			h.openError = append(h.openError, x)
		}
		if x, ok := d.(errorAbortHook); ok {
			h.errorAbort = append(h.errorAbort, x)
		}
		if x, ok := d.(timerExpiryHook); ok {
			h.timer = append(h.timer, x)
		}
		if x, ok := d.(pathLossHook); ok {
			h.pathLoss = append(h.pathLoss, x)
		}
		if x, ok := d.(dispatchHook); ok {
			h.dispatch = append(h.dispatch, x)
		}
		if x, ok := d.(inboundCRHook); ok {
			h.inboundCR = append(h.inboundCR, x)
		}
	}
	return h
}

func (k *Kernel) keepOnOpenError(b *kcb) bool {
	for _, h := range k.hooks.openError {
		if h.keepOnOpenError(k, b) {
			return true
		}
	}
	return false
}

func (k *Kernel) staleOnErrorAbort(b *kcb) bool {
	for _, h := range k.hooks.errorAbort {
		if h.staleOnErrorAbort(k, b) {
			return true
		}
	}
	return false
}

func (k *Kernel) keepOnTimer(b *kcb, t timerKind) bool {
	for _, h := range k.hooks.timer {
		if h.keepOnTimer(k, b, t) {
			return true
		}
	}
	return false
}

func (k *Kernel) holdOnPathLoss(b *kcb, c cause) bool {
	for _, h := range k.hooks.pathLoss {
		if h.holdOnPathLoss(k, b, c) {
			return true
		}
	}
	return false
}

func (k *Kernel) dispatchStale(b *kcb, p *path, kind evKind) bool {
	for _, h := range k.hooks.dispatch {
		if h.dispatchStale(k, b, p, kind) {
			return true
		}
	}
	return false
}

func (k *Kernel) refuseCR(b *kcb, u minip1.Unit) (uint8, int, string, bool) {
	for _, h := range k.hooks.inboundCR {
		if reason, idx, why, ok := h.refuseCR(k, b, u); ok {
			return reason, idx, why, true
		}
	}
	return 0, 0, "", false
}

// q152877 is Exchange 4.0 before SP2 (DESIGN.md section 3): a responder
// KCB that fails in OpenPending is not returned; after an error abort the
// old socket stays attached until the disconnect timer and what it still
// carries reaches the KCB (no generation check); and a CR from the calling
// TSAP of a leaked OpenPending KCB is refused as a duplicate.
type q152877 struct{}

func (q152877) kb() string { return KBQ152877 }

func (q152877) keepOnOpenError(k *Kernel, b *kcb) bool {
	return b.state == OpenPending && b.role == Responder && k.leakDraw()
}

func (q152877) staleOnErrorAbort(*Kernel, *kcb) bool { return true }

func (q152877) dispatchStale(_ *Kernel, b *kcb, p *path, kind evKind) bool {
	return kind == evUnit && (!p.closed.Load() || isStale(b, p))
}

func (q152877) refuseCR(k *Kernel, b *kcb, u minip1.Unit) (uint8, int, string, bool) {
	// A KCB left OpenPending by an open error still claims its calling
	// TSAP, so a new CR from the same TSAP conflicts with it.
	for _, o := range k.kcbs[1:] {
		if o != b && o.state == OpenPending && o.role == Responder && o.callingTSAP == u.CallingTSAP {
			return minip1.DRDuplicateTSAP, o.idx, "duplicate calling TSAP " + u.CallingTSAP, true
		}
	}
	return 0, 0, "", false
}

// q229643 is Exchange 5.5 SP2 (fixed in SP3): an initiator association in
// state 3 whose transfer timer expires is aborted, but its KCB is not
// returned; the connector opens a new association on another KCB.
type q229643 struct{}

func (q229643) kb() string { return KBQ229643 }

func (q229643) keepOnTimer(k *Kernel, b *kcb, t timerKind) bool {
	return t == tTransfer && b.role == Initiator && b.state == Associated && k.leakDraw()
}

// q232602 is Exchange 5.5 SP2 (fixed in SP3): an initiator association in
// state 3 that loses its path while messages are unacknowledged or queued
// is not aborted (2035): it stays its connector's association, without a
// socket, and the connector never dials again until a restart.
type q232602 struct{}

func (q232602) kb() string { return KBQ232602 }

func (q232602) holdOnPathLoss(k *Kernel, b *kcb, _ cause) bool {
	return b.role == Initiator && b.state == Associated && (len(b.inflight) > 0 || len(b.conn.queue) > 0) && k.leakDraw()
}

// q247419 is Exchange 5.5 SP3 (fixed in SP4): a responder in state 3 whose
// reassembly timer expires is aborted, but its KCB is not returned.
type q247419 struct{}

func (q247419) kb() string { return KBQ247419 }

func (q247419) keepOnTimer(k *Kernel, b *kcb, t timerKind) bool {
	return t == tReassembly && b.role == Responder && b.state == Associated && k.leakDraw()
}

// Package kernel is the MTA kernel of a stub MTA (DESIGN.md section 3): a
// fixed pool of kernel control blocks (KCBs), the association state
// machine of both roles, the protocol timers, and the builds of
// CATALOGUE.md C1 (Exchange 4.0 before and after SP2, alias sp0 and sp2,
// and 5.5 SP2 to SP4), each a set of known defects.
//
// # One goroutine owns the pool
//
// [Start] starts the kernel goroutine, which alone reads and writes the
// KCBs, the connectors (one outbound queue per peer) and the counters.
// Everything else posts to it: each transport connection (a path) has a
// reader that posts every unit, malformed frame, slow frame and disconnect
// tagged with its KCB index and the generation it was attached under, and
// a writer that drains an unbounded queue so the kernel goroutine never
// blocks on a slow link; timers post their expiry tagged with a sequence
// number, so a cancelled or re-armed timer is ignored; [Kernel.Submit],
// [Kernel.SetPeer] and [Kernel.Snapshot] run a function on the kernel
// goroutine and wait for it.
//
// # States
//
// KCB index 0 is the listener and never allocated. A KCB is [Idle],
// [TConPending] (dialing or CR sent; accepted, waiting for CR),
// [OpenPending] (BIND sent; CC sent, waiting for BIND), [Associated],
// [Releasing] or [TDiscPending] (waiting for the transport to close). A
// failure in states 1–2 is an open error, in states 3–4 an error abort;
// both log 1004 (1008 while the peer's entity is unknown). A unit reaching
// a state with no transition for it is a state check failure (1198). State
// number 5 (Aborting) is never entered: see [State].
//
// # Builds and defects
//
// A build ([Builds], Config.Build) is a banner and a list of defects
// ([Defects]); Config.OverrideDefects replaces the list for an
// experiment. Each defect is one small value in defects.go implementing
// some of the kernel's hook points, each asked where the kernel decides:
// the open error (return the KCB to Idle or keep it), the error abort
// (close the old path or leave it attached, stale), timer expiry and path
// loss (return the KCB or keep it in state 3 without a socket), dispatch
// (drop a unit from a path of an older generation or deliver it) and the
// inbound CR (refuse it for another KCB's sake). Where no defect of the
// list implements a hook, the kernel does the fixed thing.
//
// Q152877 (4.0) leaves a responder KCB failing in OpenPending leaked with
// its entity and calling TSAP, leaves the old path of an error abort
// attached until the disconnect timer, delivers units from it, and refuses
// a CR whose calling TSAP matches a leaked KCB (DR 0x83, event 1277).
// Q229643 (5.5 SP2) keeps an initiator KCB whose transfer timer expired in
// state 3; Q232602 (5.5 SP2) keeps an initiator association whose path was
// lost with mail pending as its connector's, which never dials again (2035,
// then 4284 and 4287 every open_interval); Q247419 (5.5 SP3) keeps a
// responder KCB whose reassembly timer expired. Config.LeakProbability
// applies to each. A 5.5 build also logs 4284 and 4287 for every failed
// outbound open while mail is queued, and the companion events.
//
// # Delivery
//
// A connector sends up to Config.Window unacknowledged TRANSFERs; what is
// not acknowledged when an association fails is re-sent on the next one.
// The receiver records message ids in its store and answers a repeat with
// ACK result 1, so a message is delivered to the local user exactly once.
// Timers and the pool size take the test-scale defaults of [DefaultTimers]
// and [Config].
package kernel

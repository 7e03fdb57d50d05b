// Package kernel is the MTA kernel of a stub MTA (DESIGN.md section 3): a
// fixed pool of kernel control blocks (KCBs), the association state
// machine of both roles, the protocol timers, and the two builds, sp2 (the
// fixed Exchange 4.0 SP2) and sp0 (before SP2, with the KB Q152877 defect).
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
// # The two builds
//
// The builds share the machine and differ at three hooks, each in one
// function: the open error (sp2 returns the KCB to Idle; sp0 leaves a
// responder KCB in OpenPending with its entity and calling TSAP, leaked,
// with probability Config.LeakProbability), the error abort (sp2 closes
// the path after the ABORT; sp0 returns the KCB to Idle at once but leaves
// the old path attached until the disconnect timer) and dispatch (sp2 drops
// a unit from a path of an older generation; sp0 delivers it to whatever
// the KCB is now). An sp0 responder refuses a CR whose calling TSAP matches
// a leaked KCB (DR 0x83, event 1277), as it refuses one when no KCB is Idle.
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

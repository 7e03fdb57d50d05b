package kernel

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// State is a KCB state (DESIGN.md section 3). The numbers are the ones
// event records carry (1004's and 1198's state), so they never change.
type State int

// The KCB states. Number 5 (Aborting in DESIGN.md's table: "ABORT sent,
// draining") is never entered: an error abort returns the KCB to Idle at
// once (errorAbort; Q229643 and Q247419 keep it in state 3 instead), and
// the ABORT drains on the path, which the fixed build closes after it and
// Q152877 leaves attached as a stale path.
// The number stays reserved so that TDiscPending remains 6.
const (
	Idle         State = 0
	TConPending  State = 1
	OpenPending  State = 2
	Associated   State = 3
	Releasing    State = 4
	TDiscPending State = 6
)

var stateNames = map[State]string{Idle: "Idle", TConPending: "TConPending", OpenPending: "OpenPending",
	Associated: "Associated", Releasing: "Releasing", TDiscPending: "TDiscPending"}

// States returns every state a KCB can be in, in numeric order.
func States() []State {
	return []State{Idle, TConPending, OpenPending, Associated, Releasing, TDiscPending}
}

// String returns the state's name, or State(N) for a number no KCB takes.
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Role tells which side opened a KCB's association.
type Role int

// The roles.
const (
	NoRole Role = iota
	Initiator
	Responder
)

// String returns "initiator", "responder" or "".
func (r Role) String() string {
	switch r {
	case Initiator:
		return "initiator"
	case Responder:
		return "responder"
	}
	return ""
}

type timerKind int

const (
	tOpen timerKind = iota
	tTransfer
	tLifetime
	tDisconnect
	nTimers
)

// kcb is one kernel control block; only the kernel goroutine touches it.
type kcb struct {
	idx   int
	state State
	role  Role
	gen   uint64
	since time.Time

	path    *path
	dialing bool
	stale   []*path // Q152877: paths left attached after an error abort

	peer        string
	entity      string
	callingTSAP string
	assoc       int
	leaked      bool
	// kept is a KCB a defect kept out of the pool in state 3 without a
	// path (Q229643, Q232602, Q247419); held is one that also stays its
	// connector's association (Q232602).
	kept, held bool

	conn     *connector
	inflight []*outMsg
	window   int
	frameMax int
	nextSeq  uint32
	reasm    *minip1.Reassembler

	timers [nTimers]*time.Timer
	tseq   [nTimers]uint64
}

func (b *kcb) stopTimer(t timerKind) {
	if b.timers[t] != nil {
		b.timers[t].Stop()
		b.timers[t] = nil
	}
	b.tseq[t]++
}

func (b *kcb) stopTimers() {
	for t := range nTimers {
		b.stopTimer(t)
	}
}

// live reports whether the KCB has a socket or a dial in progress.
func (b *kcb) live() bool { return b.path != nil || b.dialing }

// connector is the outbound side toward one peer: its queue and retry state.
type connector struct {
	peer    string
	queue   []*outMsg // waiting, oldest first; in-flight messages live on the KCB
	kcb     int       // the KCB of the current association, -1 if none
	retry   *time.Timer
	rseq    uint64
	waiting bool // a retry is scheduled
	connSeq int
}

// has reports whether message id is queued or in flight on c.
func (c *connector) has(k *Kernel, id string) bool {
	for _, m := range c.queue {
		if m.ID == id {
			return true
		}
	}
	if c.kcb >= 0 {
		for _, m := range k.kcbs[c.kcb].inflight {
			if m.ID == id {
				return true
			}
		}
	}
	return false
}

type outMsg struct {
	store.Message
	sent int
}

type evKind int

const (
	evCall evKind = iota
	evAccept
	evDialed
	evUnit
	evBad
	evClosed
	evReasm
	evTimer
	evRetry
)

// event is what goroutines post to the kernel goroutine.
type event struct {
	kind  evKind
	kcb   int
	gen   uint64
	path  *path
	conn  net.Conn
	unit  minip1.Unit
	frame []byte // evUnit: the buffer unit.Payload aliases, recycled after handling
	err   error
	timer timerKind
	seq   uint64
	peer  string
	fn    func()
}

// setTimer (re)arms timer t of b; expiry posts evTimer tagged with its sequence.
func (k *Kernel) setTimer(b *kcb, t timerKind, d time.Duration) {
	b.stopTimer(t)
	seq, idx := b.tseq[t], b.idx
	b.timers[t] = time.AfterFunc(d, func() {
		k.post(event{kind: evTimer, kcb: idx, timer: t, seq: seq})
	})
}

// allocIdle returns the lowest Idle KCB index (never 0), or -1.
func (k *Kernel) allocIdle() int {
	for _, b := range k.kcbs[1:] {
		if b.state == Idle { // with Q152877 an Idle KCB may still have stale paths attached
			return b.idx
		}
	}
	return -1
}

// claim prepares an Idle KCB for a new association.
func (k *Kernel) claim(b *kcb, role Role, state State) {
	b.gen++
	b.role, b.state, b.since = role, state, time.Now()
	k.nextAssoc++
	b.assoc = k.nextAssoc
	b.window, b.frameMax, b.nextSeq = k.cfg.Window, k.cfg.FrameMax, 1
	if b.reasm == nil {
		b.reasm = minip1.NewReassembler(16 << 20)
	} else {
		b.reasm.Reset() // kept from the KCB's last association, buffers released
	}
}

// toIdle returns b to the pool: timers stopped, generation bumped, entity cleared.
func (k *Kernel) toIdle(b *kcb) {
	b.stopTimers()
	b.gen++
	b.state, b.role, b.since = Idle, NoRole, time.Now()
	b.path, b.dialing = nil, false
	b.peer, b.entity, b.callingTSAP, b.assoc, b.leaked = "", "", "", 0, false
	b.kept, b.held = false, false
	if b.conn != nil && b.conn.kcb == b.idx {
		b.conn.kcb = -1
	}
	b.conn, b.inflight = nil, nil
	if b.reasm != nil {
		b.reasm.Reset()
	}
	if cancel := k.dialCancel[b.idx]; cancel != nil {
		cancel()
		delete(k.dialCancel, b.idx)
	}
}

// dial starts a transport connection for b in the background.
func (k *Kernel) dial(b *kcb, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.Timers.Open)
	k.dialCancel[b.idx] = cancel
	idx, gen := b.idx, b.gen
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		conn, err := k.cfg.Dial(ctx, addr)
		cancel()
		if !k.post(event{kind: evDialed, kcb: idx, gen: gen, conn: conn, err: err}) && conn != nil {
			_ = conn.Close()
		}
	}()
}

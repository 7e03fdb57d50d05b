package kernel

import (
	"context"
	"time"
)

// KCBInfo is one control block as a snapshot sees it.
type KCBInfo struct {
	Index       int       `json:"index"`
	State       State     `json:"state"`
	StateName   string    `json:"state_name"`
	Role        string    `json:"role,omitempty"`
	Peer        string    `json:"peer,omitempty"`
	Entity      string    `json:"entity,omitempty"`
	CallingTSAP string    `json:"calling_tsap,omitempty"`
	Assoc       int       `json:"assoc,omitempty"`
	Live        bool      `json:"live"`
	Leaked      bool      `json:"leaked"`
	StalePaths  int       `json:"stale_paths,omitempty"`
	InFlight    int       `json:"in_flight,omitempty"`
	Since       time.Time `json:"since"`
}

// Snapshot is a consistent view of an MTA's pool, queues and counters.
type Snapshot struct {
	Name string `json:"name"`
	DN   string `json:"dn"`
	// Mode is the build's alias, or its name when it has none (kept for
	// readers of the old field).
	Mode string `json:"mode"`
	// Build is the build's name; Defects the KB ids of its defects.
	Build   string    `json:"build"`
	Defects []string  `json:"defects"`
	KCBs    []KCBInfo `json:"kcbs"`
	// Idle, Busy and Leaked count the KCBs other than the listener. A KCB is
	// leaked when it is not Idle and has no live socket (DESIGN.md section 6).
	Idle   int `json:"idle"`
	Busy   int `json:"busy"`
	Leaked int `json:"leaked"`
	// Queues gives, per peer, the messages not yet acknowledged (queued or in flight).
	Queues map[string]int `json:"queues"`
	// Queued is the sum of Queues.
	Queued int `json:"queued"`
	Counters
}

// Baseline reports whether every KCB but the listener is Idle.
func (s Snapshot) Baseline() bool { return s.Busy == 0 && s.Leaked == 0 }

// Snapshot returns the pool, queues and counters, taken on the kernel goroutine.
func (k *Kernel) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	err := k.do(ctx, func() { s = k.snapshot() })
	return s, err
}

func (k *Kernel) snapshot() Snapshot {
	s := Snapshot{Name: k.cfg.Name, DN: k.dn, Mode: k.build.ModeName(), Build: k.build.Name, Defects: k.Defects(),
		Queues: map[string]int{}, Counters: k.counters}
	for _, b := range k.kcbs {
		info := KCBInfo{Index: b.idx, State: b.state, StateName: b.state.String(), Role: b.role.String(), Peer: b.peer,
			Entity: b.entity, CallingTSAP: b.callingTSAP, Assoc: b.assoc, Live: b.live(), StalePaths: len(b.stale),
			InFlight: len(b.inflight), Since: b.since}
		if b.idx > 0 {
			switch {
			case b.state == Idle:
				s.Idle++
			case !b.live():
				info.Leaked = true
				s.Leaked++
			default:
				s.Busy++
			}
		}
		s.KCBs = append(s.KCBs, info)
	}
	for peer, c := range k.connectors {
		n := len(c.queue)
		if c.kcb >= 0 {
			n += len(k.kcbs[c.kcb].inflight)
		}
		if n > 0 {
			s.Queues[peer] = n
			s.Queued += n
		}
	}
	return s
}

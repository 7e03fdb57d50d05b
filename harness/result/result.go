// Package result holds the records of a judged run as its bundle keeps
// them: summary.json with its checks, and the lines of deliveries.jsonl,
// samples.jsonl and ledger.jsonl. harness produces them and
// harness/report draws them; this package sits below both, so the report
// does not import harness (which calls the report).
package result

import (
	"time"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Verdicts are three-valued.
const (
	Passed  = "passed"
	Failed  = "failed"
	Unknown = "unknown"
)

// Check is one checker's verdict.
type Check struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Detail  string `json:"detail"`
}

// MTASummary is one MTA's totals in summary.json.
type MTASummary struct {
	// Mode is the build's alias (sp0, sp2), or its name when it has none.
	Mode string `json:"mode"`
	// Build is the MTA's build (CATALOGUE.md C1) and Defects the KB ids of
	// the defects it ran with (its build's, or the scenario's defects:).
	Build     string   `json:"build"`
	Defects   []string `json:"defects"`
	Submitted int      `json:"submitted"`
	// Refused counts messages the traffic offered while this MTA was
	// stopped: recorded, never submitted.
	Refused    int `json:"refused"`
	Delivered  int `json:"delivered"`
	Duplicates int `json:"duplicates"`
	// KCBsLeaked is the most KCBs seen leaked at once during the run.
	KCBsLeaked int `json:"kcbs_leaked"`
	// LeakedAtEnd is the number leaked when the run ended.
	LeakedAtEnd int            `json:"kcbs_leaked_at_end"`
	Events      map[string]int `json:"events"`
}

// Summary is summary.json (DESIGN.md section 7).
type Summary struct {
	Scenario string `json:"scenario"`
	Seed     int64  `json:"seed"`
	// Started is the wall-clock time of the run's offset 0.
	Started   time.Time              `json:"started"`
	Verdict   string                 `json:"verdict"`
	DurationS float64                `json:"duration_s"`
	Checks    []Check                `json:"checks"`
	MTAs      map[string]*MTASummary `json:"mtas"`
	// RecoveryS is from the recovery anchor (last heal or action) to the
	// last delivery; null when not everything was delivered.
	RecoveryS *float64 `json:"recovery_s"`
	// AnchorS is the recovery anchor's offset.
	AnchorS float64 `json:"anchor_s"`
	// LeakedBeforeAnchor is the most KCBs leaked at once, over all MTAs,
	// before the recovery anchor.
	LeakedBeforeAnchor int `json:"leaked_before_anchor"`
	// Pairs accounts every sender and receiver pair the traffic declares.
	Pairs []PairSummary `json:"pairs"`
}

// PairSummary accounts one sender→receiver pair's messages: those the
// traffic declared, those submitted (accepted by the sender), those
// refused (offered while the sender was stopped), those delivered at least
// once, those never delivered and the extra deliveries of a message.
type PairSummary struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Declared    int    `json:"declared"`
	Submitted   int    `json:"submitted"`
	Refused     int    `json:"refused"`
	Delivered   int    `json:"delivered"`
	Undelivered int    `json:"undelivered"`
	Duplicates  int    `json:"duplicates"`
}

// DeliveryRecord is one message delivered to an MTA's user.
type DeliveryRecord struct {
	kernel.Delivery
	// T is the offset from the run start in seconds.
	T float64 `json:"t"`
}

// Sample is one MTA's pool and queue at one moment.
type Sample struct {
	T      float64 `json:"t"`
	MTA    string  `json:"mta"`
	Idle   int     `json:"idle"`
	Busy   int     `json:"busy"`
	Leaked int     `json:"leaked"`
	Queued int     `json:"queued"`
	// States lists every KCB's state, index 0 (the listener) first.
	States []int `json:"states"`
	// Running is false while the MTA is stopped.
	Running bool `json:"running"`
}

// LedgerEntry is one line of ledger.jsonl: a fault toggle planned, applied
// (or healed, for the toggle that ends a fault), verified (its effect seen
// on the wire) or unverified, failed; or an action carried out.
type LedgerEntry struct {
	// Phase is planned, applied, healed, verified, unverified, failed or action.
	Phase string `json:"phase"`
	// Planned is the planned offset; At when this phase happened (seconds
	// from the run start); LagMS is At − Planned for applied and healed.
	Planned float64 `json:"planned_s"`
	At      float64 `json:"at_s"`
	LagMS   float64 `json:"lag_ms,omitempty"`
	Link    string  `json:"link,omitempty"`
	Fault   int     `json:"fault"`
	Type    string  `json:"type,omitempty"`
	Action  string  `json:"action"`
	MTA     string  `json:"mta,omitempty"`
	// Detail says what the probe observed.
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`
}

package kernel

import "time"

// TimerKeys name the timers of Timers, in DESIGN.md order: the keys of a
// scenario's `timers:` mapping and of mtastub's --timers flag.
var TimerKeys = []string{"open", "open_interval", "transfer", "reassembly", "lifetime", "disconnect"}

// Field returns the timer named key (one of TimerKeys), or nil for any
// other key.
func (t *Timers) Field(key string) *time.Duration {
	switch key {
	case "open":
		return &t.Open
	case "open_interval":
		return &t.OpenInterval
	case "transfer":
		return &t.Transfer
	case "reassembly":
		return &t.Reassembly
	case "lifetime":
		return &t.Lifetime
	case "disconnect":
		return &t.Disconnect
	}
	return nil
}

package kernel_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestTimerKeysNameEveryTimer: each key names a field of its own, every
// field of Timers has a key, and an unknown key names none.
func TestTimerKeysNameEveryTimer(t *testing.T) {
	var ts kernel.Timers
	v := reflect.ValueOf(&ts).Elem()
	fields := map[*time.Duration]string{}
	for i := range v.NumField() {
		fields[v.Field(i).Addr().Interface().(*time.Duration)] = v.Type().Field(i).Name
	}
	seen := map[*time.Duration]string{}
	for _, k := range kernel.TimerKeys {
		p := ts.Field(k)
		if p == nil {
			t.Errorf("Field(%q) = nil", k)
			continue
		}
		if _, ok := fields[p]; !ok {
			t.Errorf("Field(%q) is not a field of Timers", k)
		}
		if o, dup := seen[p]; dup {
			t.Errorf("keys %q and %q name the same timer", o, k)
		}
		seen[p] = k
	}
	if len(seen) != len(fields) {
		t.Errorf("%d timers have a key, Timers has %d fields", len(seen), len(fields))
	}
	if ts.Field("opne") != nil {
		t.Error(`Field("opne") is not nil`)
	}
}

package stubconfig

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestTimerKeysAreTheKernels pins the stub's timer table (its --timers flag,
// its config file and, through Config.Args, harness.StubArgs) to the
// kernel's: the same keys in the same order, each setting the field the
// kernel names.
func TestTimerKeysAreTheKernels(t *testing.T) {
	if len(timerKeys) != len(kernel.TimerKeys) {
		t.Fatalf("mtastub has %d timer keys, the kernel %d (%v)", len(timerKeys), len(kernel.TimerKeys), kernel.TimerKeys)
	}
	var ts kernel.Timers
	for i, k := range timerKeys {
		if k.key != kernel.TimerKeys[i] {
			t.Errorf("timer key %d is %q, the kernel's is %q", i, k.key, kernel.TimerKeys[i])
		}
		if k.get(&ts) != ts.Field(k.key) {
			t.Errorf("timer %q sets another field than kernel.Timers.Field(%q)", k.key, k.key)
		}
	}
}

// TestTimersHelpShowsKernelDefaults checks the defaults the --timers help
// text shows are the kernel's.
func TestTimersHelpShowsKernelDefaults(t *testing.T) {
	var help bytes.Buffer
	if _, err := Parse([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parse -h: %v", err)
	}
	d := kernel.DefaultTimers()
	var kv []string
	for _, k := range kernel.TimerKeys {
		kv = append(kv, k+"="+d.Field(k).String())
	}
	want := "(defaults " + strings.Join(kv, ",") + ")"
	if !strings.Contains(help.String(), want) {
		t.Errorf("mtastub -h does not show the kernel's timer defaults %s:\n%s", want, help.String())
	}
}

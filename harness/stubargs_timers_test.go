package harness

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestStubArgsTimersAreTheKernels pins the --timers StubArgs writes to the
// kernel's timer keys: every key, in the kernel's order, with its value.
func TestStubArgsTimersAreTheKernels(t *testing.T) {
	spec := scenario.BuiltinDefaults()
	spec.Name = "A"
	for i, k := range kernel.TimerKeys {
		*spec.Timers.Field(k) = time.Duration(i+1) * time.Millisecond // each timer its own value
	}
	args := StubArgs(spec, 1)
	i := slices.Index(args, "--timers")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("StubArgs has no --timers: %v", args)
	}
	var want []string
	for _, k := range kernel.TimerKeys {
		want = append(want, k+"="+spec.Timers.Field(k).String())
	}
	if got := args[i+1]; got != strings.Join(want, ",") {
		t.Errorf("--timers %s, want %s", got, strings.Join(want, ","))
	}
}

package harness

import (
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/stubconfig"
)

// StubArgs returns the mtastub flags that make a standalone stub the MTA
// the harness would start in-process for spec in a run seeded with seed:
// name, mode, pool size, window, DN, timers, seed, leak probability and
// extended events. Where it listens, its admin address, token and store
// are the caller's to add. A remote MTA's mode, pool size and DN are
// checked when a run connects to it; its timers, window, seed and leak
// probability cannot be seen over the admin API, so start it with these.
// The flags are written by stubconfig.Config.Args, beside the stub's
// parser; a zero seed or window is left to the stub's default.
func StubArgs(spec scenario.MTASpec, seed int64) []string {
	lp := spec.LeakProbability
	c := stubconfig.Config{
		Name: spec.Name, KCBs: spec.KCBs, Window: spec.Window, Org: spec.Org, Site: spec.Site,
		Timers: stubconfig.FormatTimers(kernel.Timers(spec.Timers)), Seed: seed, LeakProbability: &lp,
		ExtendedEvents: spec.ExtendedEvents,
	}
	// A build with an alias is written as --mode, as earlier stubs and
	// the lab's compose file have it.
	if b, ok := kernel.LookupBuild(spec.BuildName()); ok && b.Alias != "" {
		c.Mode = b.Alias
	} else {
		c.Build = spec.BuildName()
	}
	if spec.OverrideDefects {
		c.Defects = append([]string{}, spec.Defects...) // not nil: even none overrides the build's
	}
	return c.Args()
}

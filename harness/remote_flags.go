package harness

import (
	"strconv"
	"strings"

	"github.com/mtastorm/mtastorm/harness/scenario"
)

// StubArgs returns the mtastub flags that make a standalone stub the MTA
// the harness would start in-process for spec in a run seeded with seed:
// name, mode, pool size, window, DN, timers, seed, leak probability and
// extended events. Where it listens, its admin address, token and store
// are the caller's to add. A remote MTA's mode, pool size and DN are
// checked when a run connects to it; its timers, window, seed and leak
// probability cannot be seen over the admin API, so start it with these.
func StubArgs(spec scenario.MTASpec, seed int64) []string {
	t := spec.Timers
	timers := []string{
		"open=" + t.Open.String(),
		"open_interval=" + t.OpenInterval.String(),
		"transfer=" + t.Transfer.String(),
		"reassembly=" + t.Reassembly.String(),
		"lifetime=" + t.Lifetime.String(),
		"disconnect=" + t.Disconnect.String(),
	}
	args := []string{
		"--name", spec.Name,
		"--mode", spec.Mode,
		"--kcbs", strconv.Itoa(spec.KCBs),
		"--window", strconv.Itoa(spec.Window),
		"--org", spec.Org,
		"--site", spec.Site,
		"--timers", strings.Join(timers, ","),
		"--seed", strconv.FormatInt(seed, 10),
		"--leak-probability", strconv.FormatFloat(spec.LeakProbability, 'g', -1, 64),
	}
	if spec.ExtendedEvents {
		args = append(args, "--extended-events")
	}
	return args
}

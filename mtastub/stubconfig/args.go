package stubconfig

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Args returns the command-line flags that Parse reads back into c. A
// field left at its zero value is left out (Parse gives it the flag's
// default), so Parse(c.Args()) equals c wherever c sets a field. The order
// is fixed: name, listen, admin, build, mode, defects, kcbs, window, org, site, timers (in
// the kernel's order, unknown keys after them by name), one --peer per
// peer by name, store, token, seed, leak-probability, extended-events,
// log-level. A token given here shows in the process list; a caller that
// can should leave it out and set MTASTUB_TOKEN instead.
func (c *Config) Args() []string {
	var args []string
	str := func(flag, v string) {
		if v != "" {
			args = append(args, "--"+flag, v)
		}
	}
	num := func(flag string, v int64) {
		if v != 0 {
			args = append(args, "--"+flag, strconv.FormatInt(v, 10))
		}
	}
	str("name", c.Name)
	str("listen", c.Listen)
	str("admin", c.Admin)
	str("build", c.Build)
	str("mode", c.Mode)
	if c.Defects != nil {
		args = append(args, "--defects", strings.Join(c.Defects, ","))
	}
	num("kcbs", int64(c.KCBs))
	num("window", int64(c.Window))
	str("org", c.Org)
	str("site", c.Site)
	str("timers", timerList(c.Timers))
	for _, name := range sortedKeys(c.Peers) {
		args = append(args, "--peer", name+"="+c.Peers[name])
	}
	str("store", c.Store)
	str("token", c.Token)
	num("seed", c.Seed)
	if c.LeakProbability != nil {
		args = append(args, "--leak-probability", strconv.FormatFloat(*c.LeakProbability, 'g', -1, 64))
	}
	if c.ExtendedEvents {
		args = append(args, "--extended-events")
	}
	str("log-level", c.LogLevel)
	return args
}

// timerList writes timers as the value of --timers: KEY=DURATION pairs,
// comma-separated, the known keys in the kernel's order first.
func timerList(timers map[string]string) string {
	var parts []string
	for _, k := range timerKeys {
		if v, ok := timers[k.key]; ok {
			parts = append(parts, k.key+"="+v)
		}
	}
	for _, k := range sortedKeys(timers) {
		if !slices.ContainsFunc(timerKeys, func(t timerKey) bool { return t.key == k }) {
			parts = append(parts, k+"="+timers[k])
		}
	}
	return strings.Join(parts, ",")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// FormatTimers returns every timer of t under its key, as Config.Timers
// holds them ("open": "300ms", ...). A zero timer is written too ("0s"),
// which Validate refuses: give every timer.
func FormatTimers(t kernel.Timers) map[string]string {
	m := make(map[string]string, len(timerKeys))
	for _, k := range timerKeys {
		m[k.key] = k.get(&t).String()
	}
	return m
}

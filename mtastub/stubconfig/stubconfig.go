// Package stubconfig is the configuration of a standalone stub MTA
// (cmd/mtastub, DESIGN.md section 10): its flags and --config file keys,
// parsed by Parse and checked by Validate, and Args, which writes a Config
// back as the flags Parse reads, so that a tool starting stubs (ci/labgen,
// docker-compose.yml, harness.StubArgs) and the stub agree on every flag.
package stubconfig

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/admin"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Config is the stub's configuration: the keys of a --config file, which
// the flags of the same names override. Parse fills in the flags'
// defaults; Validate checks it.
type Config struct {
	Name            string            `yaml:"name"`
	Listen          string            `yaml:"listen"`
	Admin           string            `yaml:"admin"`
	Build           string            `yaml:"build"`
	Mode            string            `yaml:"mode"`
	Defects         []string          `yaml:"defects"`
	KCBs            int               `yaml:"kcbs"`
	Window          int               `yaml:"window"`
	Org             string            `yaml:"org"`
	Site            string            `yaml:"site"`
	Timers          map[string]string `yaml:"timers"`
	Peers           map[string]string `yaml:"peers"`
	Store           string            `yaml:"store"`
	Token           string            `yaml:"token"`
	Seed            int64             `yaml:"seed"`
	LeakProbability *float64          `yaml:"leak_probability"`
	ExtendedEvents  bool              `yaml:"extended_events"`
	LogLevel        string            `yaml:"log_level"`
}

// timerKey is one key of `timers:` and the field it sets.
type timerKey struct {
	key string
	get func(*kernel.Timers) *time.Duration
}

// timerKeys maps the timer keys (scenario `timers:`) to kernel.Timers fields.
var timerKeys = []timerKey{
	{"open", func(t *kernel.Timers) *time.Duration { return &t.Open }},
	{"open_interval", func(t *kernel.Timers) *time.Duration { return &t.OpenInterval }},
	{"transfer", func(t *kernel.Timers) *time.Duration { return &t.Transfer }},
	{"reassembly", func(t *kernel.Timers) *time.Duration { return &t.Reassembly }},
	{"lifetime", func(t *kernel.Timers) *time.Duration { return &t.Lifetime }},
	{"disconnect", func(t *kernel.Timers) *time.Duration { return &t.Disconnect }},
}

func timerKeyNames() string {
	var names []string
	for _, k := range timerKeys {
		names = append(names, k.key)
	}
	return strings.Join(names, ", ")
}

// usageError is bad input: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf("mtastub: "+format, args...)}
}

// kvList is a repeatable or comma-separated flag of KEY=VALUE pairs.
type kvList struct {
	what  string // "peer" or "timer", for messages
	pairs [][2]string
}

func (l *kvList) String() string {
	var parts []string
	for _, p := range l.pairs {
		parts = append(parts, p[0]+"="+p[1])
	}
	return strings.Join(parts, ",")
}

func (l *kvList) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("%q: want %s", part, map[string]string{"peer": "NAME=HOST:PORT", "timer": "KEY=DURATION"}[l.what])
		}
		l.pairs = append(l.pairs, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
	}
	return nil
}

// optList is a comma-separated list flag that knows whether it was given
// (an empty value is an empty list, not none).
type optList struct {
	v   []string
	set bool
}

func (l *optList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(l.v, ",")
}

func (l *optList) Set(s string) error {
	l.v, l.set = []string{}, true
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			l.v = append(l.v, part)
		}
	}
	return nil
}

// buildList names the builds for -h: "4.0 (sp0), 4.0-sp2 (sp2), 5.5-sp2, ...".
func buildList() string {
	var names []string
	for _, b := range kernel.Builds() {
		n := b.Name
		if b.Alias != "" {
			n += " (" + b.Alias + ")"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// defectList names the KB ids for -h.
func defectList() string {
	var names []string
	for _, d := range kernel.Defects() {
		names = append(names, d.KB)
	}
	return strings.Join(names, ", ")
}

// optFloat is a float flag that knows whether it was given.
type optFloat struct{ v *float64 }

func (f *optFloat) String() string {
	if f == nil || f.v == nil {
		return ""
	}
	return strconv.FormatFloat(*f.v, 'g', -1, 64)
}

func (f *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	f.v = &v
	return nil
}

const usageHead = `usage: mtastub --name NAME [flags]

mtastub runs one stub MTA (DESIGN.md section 10): it speaks MiniP1 on
--listen, dials its --peer addresses, and serves the admin API on --admin
(GET /v1/status, /v1/kcbs, /v1/events[?follow=1], /v1/deliveries[?follow=1],
/metrics; POST /v1/messages, /v1/restart; PUT /v1/peers/{name}).
On start it prints one line to stdout:

    mtastub NAME listening on ADDR admin on http://ADMIN

Logs are JSON (log/slog) on stderr. SIGTERM or SIGINT stops it cleanly.
An admin address that is not loopback needs a token (--token or
MTASTUB_TOKEN); every admin request must then carry
"Authorization: Bearer TOKEN".

--config FILE reads a YAML file with the keys name, listen, admin, build,
mode, defects (a list: [Q229643, ...]), kcbs, window, org, site, timers (a
map: open: 300ms, ...), peers (a map: A: HOST:PORT), store, token, seed,
leak_probability, extended_events and log_level; flags given on the
command line override it. mode is the old name of build (sp0 is 4.0, sp2
is 4.0-sp2); given both, they must name the same build.

Exit codes: 0 stopped by a signal; 2 bad flags or config; 3 cannot listen
or open the store.

flags:
`

// Parse reads the stub's command-line flags (and the config file they
// name) into a Config; a token not given there is taken from $MTASTUB_TOKEN.
// It returns flag.ErrHelp, after writing the usage to stderr, for -h.
// Errors start with "mtastub: ", the command whose flags these are.
func Parse(args []string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("mtastub", flag.ContinueOnError)
	var errOut bytes.Buffer
	fs.SetOutput(&errOut)
	var (
		cfgFile = fs.String("config", "", "YAML config `FILE` (flags override its keys)")
		name    = fs.String("name", "", "MTA name: its CN and transport selector (required)")
		listen  = fs.String("listen", "127.0.0.1:0", "`ADDR` to listen on for MiniP1 (port 0: any free port; the line on stdout tells which)")
		adminAt = fs.String("admin", "127.0.0.1:0", "`ADDR` to serve the admin API on; not loopback needs --token")
		build   = fs.String("build", "", "MTA build: "+buildList()+" (default "+kernel.DefaultBuild+")")
		mode    = fs.String("mode", "", "old name of --build: sp0 (4.0, the Q152877 defect) or sp2 (4.0-sp2, fixed)")
		defects optList
		kcbs    = fs.Int("kcbs", 8, "KCB pool size, listener included (min 2)")
		window  = fs.Int("window", 4, "most unacknowledged messages per association (1..255)")
		org     = fs.String("org", "ORG", "organisation of the MTA's DN")
		site    = fs.String("site", "SITE", "site of the MTA's DN")
		st      = fs.String("store", "", "durable store `DIR`ectory (default: in memory, lost on exit)")
		token   = fs.String("token", "", "admin bearer token (default $MTASTUB_TOKEN)")
		seed    = fs.Int64("seed", 0, "seed of the MTA's random choices")
		ext     = fs.Bool("extended-events", false, "also write the companion events (9156, 9215, 9221, 1294, 9298, 9299)")
		level   = fs.String("log-level", "info", "log level: debug, info, warn or error")
		leak    optFloat
		peers   = kvList{what: "peer"}
		timers  = kvList{what: "timer"}
	)
	fs.Var(&defects, "defects", "replace the build's defects by exactly these KB ids, as `Q1,Q2` (empty: none), from "+defectList())
	fs.Var(&leak, "leak-probability", "chance a leaking defect leaks the KCB when its trigger occurs, 0..1 (default 1)")
	fs.Var(&peers, "peer", "a peer and the address to dial it at, as `NAME=HOST:PORT` (repeatable, or comma-separated)")
	fs.Var(&timers, "timers", "protocol timers as `KEY=DURATION,...`, keys "+timerKeyNames()+
		" (defaults open=300ms,open_interval=100ms,transfer=500ms,reassembly=300ms,lifetime=1s,disconnect=200ms)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.Copy(stderr, &errOut)
			return nil, err
		}
		return nil, usagef("%s (mtastub -h lists the flags)", strings.TrimSpace(strings.SplitN(errOut.String(), "\n", 2)[0]))
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q (mtastub -h lists the flags)", fs.Arg(0))
	}

	c := &Config{}
	if *cfgFile != "" {
		if err := loadFile(*cfgFile, c); err != nil {
			return nil, err
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	str := func(dst *string, flagName string, v string) {
		if set[flagName] || *dst == "" {
			*dst = v
		}
	}
	str(&c.Name, "name", *name)
	str(&c.Listen, "listen", *listen)
	str(&c.Admin, "admin", *adminAt)
	str(&c.Build, "build", *build)
	str(&c.Mode, "mode", *mode)
	if defects.set {
		c.Defects = defects.v
	}
	str(&c.Org, "org", *org)
	str(&c.Site, "site", *site)
	str(&c.Store, "store", *st)
	str(&c.Token, "token", *token)
	str(&c.LogLevel, "log-level", *level)
	if set["kcbs"] || c.KCBs == 0 {
		c.KCBs = *kcbs
	}
	if set["window"] || c.Window == 0 {
		c.Window = *window
	}
	if set["seed"] {
		c.Seed = *seed
	}
	if set["extended-events"] {
		c.ExtendedEvents = *ext
	}
	if leak.v != nil {
		c.LeakProbability = leak.v
	}
	if len(peers.pairs) > 0 && c.Peers == nil {
		c.Peers = map[string]string{}
	}
	for _, p := range peers.pairs {
		c.Peers[p[0]] = p[1]
	}
	if len(timers.pairs) > 0 && c.Timers == nil {
		c.Timers = map[string]string{}
	}
	for _, p := range timers.pairs {
		c.Timers[p[0]] = p[1]
	}
	if c.Token == "" {
		c.Token = os.Getenv(admin.EnvToken)
	}
	return c, nil
}

// loadFile reads a YAML config file into c; unknown keys are errors.
func loadFile(path string, c *Config) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return usagef("config: %v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return usagef("config %s: %v", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return nil
}

// Settings are a validated Config, converted: ready to start the stub.
type Settings struct {
	Config
	// BuildInfo is the build Config.Build (or Config.Mode) names.
	BuildInfo kernel.BuildInfo
	// DefectSet is the KB ids of the defects the MTA runs with: the
	// build's, or Config.Defects when that is given (not nil).
	DefectSet []string
	// KernelTimers are Config.Timers parsed; a timer not given is zero,
	// which the kernel replaces by its default.
	KernelTimers kernel.Timers
	// Level is Config.LogLevel parsed.
	Level slog.Level
}

// Validate checks c and converts it; every message names the key.
func (c *Config) Validate() (*Settings, error) {
	s := &Settings{Config: *c}
	if c.Name == "" {
		return nil, usagef("--name is required")
	}
	if strings.ContainsFunc(c.Name, func(r rune) bool { return r <= ' ' || r == '/' || r == '=' }) {
		return nil, usagef("name: %q has a space, '/', '=' or a control character", c.Name)
	}
	build := c.Build
	if c.Mode != "" {
		b, ok := kernel.LookupBuild(c.Mode)
		if !ok || b.Alias == "" {
			return nil, usagef("mode: %q (want sp0 or sp2; --build names every build)", c.Mode)
		}
		if bb, ok := kernel.LookupBuild(c.Build); c.Build != "" && (!ok || bb.Name != b.Name) {
			return nil, usagef("build: %q and mode: %q disagree (mode is the old name of build: give one)", c.Build, c.Mode)
		}
		build = b.Name
	}
	b, set, err := kernel.ResolveBuild(build, c.Defects, c.Defects != nil)
	if err != nil {
		key := "build"
		if c.Defects != nil && strings.HasPrefix(err.Error(), "defect") {
			key = "defects"
		}
		return nil, usagef("%s: %v", key, err)
	}
	s.BuildInfo, s.DefectSet = b, set
	if c.KCBs < 2 {
		return nil, usagef("kcbs: %d (want at least 2: index 0 is the listener)", c.KCBs)
	}
	if c.Window < 1 || c.Window > 255 {
		return nil, usagef("window: %d (want 1..255)", c.Window)
	}
	if c.LeakProbability != nil && (*c.LeakProbability < 0 || *c.LeakProbability > 1) {
		return nil, usagef("leak_probability: %v (want 0..1)", *c.LeakProbability)
	}
	keys := make([]string, 0, len(c.Timers))
	for k := range c.Timers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		i := slices.IndexFunc(timerKeys, func(t timerKey) bool { return t.key == k })
		if i < 0 {
			return nil, usagef("timers: unknown timer %q (want %s)", k, timerKeyNames())
		}
		d, err := time.ParseDuration(c.Timers[k])
		if err != nil || d <= 0 {
			return nil, usagef("timers: %s: %q is not a positive duration (e.g. 300ms)", k, c.Timers[k])
		}
		*timerKeys[i].get(&s.KernelTimers) = d
	}
	for n, a := range c.Peers {
		if n == "" {
			return nil, usagef("peers: empty peer name")
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, usagef("peers: %s: %q is not HOST:PORT", n, a)
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return nil, usagef("listen: %q is not HOST:PORT", c.Listen)
	}
	if _, _, err := net.SplitHostPort(c.Admin); err != nil {
		return nil, usagef("admin: %q is not HOST:PORT", c.Admin)
	}
	if !loopback(c.Admin) && c.Token == "" {
		return nil, usagef("admin: %s is not a loopback address: refusing to serve the admin API without a token (give --token or MTASTUB_TOKEN)", c.Admin)
	}
	if err := s.Level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, usagef("log_level: %q (want debug, info, warn or error)", c.LogLevel)
	}
	return s, nil
}

// loopback reports whether addr's host is a loopback address or localhost.
// An empty host (all interfaces) is not loopback.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MTAConfig returns the configuration to start the MTA with, logging to
// log. Its Store is the caller's to open (Config.Store names the directory).
func (s *Settings) MTAConfig(log *slog.Logger) mtastub.Config {
	return mtastub.Config{
		Name: s.Name, Org: s.Org, Site: s.Site, Build: s.BuildInfo.Name, Defects: s.Defects,
		OverrideDefects: s.Defects != nil, KCBs: s.KCBs, Window: s.Window,
		Timers: s.KernelTimers, LeakProbability: s.LeakProbability, Seed: s.Seed, ExtendedEvents: s.ExtendedEvents,
		Listen: s.Listen, Peers: s.Peers, Logger: log,
	}
}

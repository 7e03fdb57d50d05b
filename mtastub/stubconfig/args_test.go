package stubconfig

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/admin"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// usageFlags returns the flags -h lists.
func usageFlags(t *testing.T) []string {
	t.Helper()
	var help bytes.Buffer
	if _, err := Parse([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Parse -h = %v, want flag.ErrHelp", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z-]+)`).FindAllStringSubmatch(help.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("-h lists %d flags: %q\n%s", len(names), names, help.String())
	}
	return names
}

func parseArgs(t *testing.T, args []string) *Config {
	t.Helper()
	c, err := Parse(args, io.Discard)
	if err != nil {
		t.Fatalf("Parse %q: %v", args, err)
	}
	return c
}

// TestArgsRoundTrip writes a config that sets every field, each to a value
// other than its default, as flags and parses them back: the same config.
// Every flag -h lists (but --config, the file) must be among the flags
// written, and every field of Config must be set, so a flag or a field
// added on one side only fails here.
func TestArgsRoundTrip(t *testing.T) {
	t.Setenv(admin.EnvToken, "")
	leak := 0.25
	full := Config{
		Name:            "B",
		Listen:          "127.0.0.1:7001",
		Admin:           "127.0.0.2:7071",
		Build:           "4.0",
		Mode:            "sp0",
		Defects:         []string{"Q229643", "Q247419"},
		KCBs:            5,
		Window:          3,
		Org:             "LAB",
		Site:            "WEST",
		Timers:          map[string]string{"open": "301ms", "open_interval": "101ms", "transfer": "501ms", "reassembly": "302ms", "lifetime": "2s", "disconnect": "201ms"},
		Peers:           map[string]string{"C": "mta-c:7003", "A": "127.0.0.1:7000"},
		Store:           "/var/lib/mtastub/B",
		Token:           "t0k3n",
		Seed:            152877,
		LeakProbability: &leak,
		ExtendedEvents:  true,
		LogLevel:        "debug",
	}
	defaults := parseArgs(t, nil)
	fv, dv := reflect.ValueOf(full), reflect.ValueOf(*defaults)
	for i := range fv.NumField() {
		name := fv.Type().Field(i).Name
		if fv.Field(i).IsZero() {
			t.Errorf("the test's config leaves %s unset: set it, or the round trip proves nothing for it", name)
		}
		if reflect.DeepEqual(fv.Field(i).Interface(), dv.Field(i).Interface()) {
			t.Errorf("the test's config sets %s to its default: a flag Args left out would still come back", name)
		}
	}

	args := full.Args()
	got := parseArgs(t, args)
	if !reflect.DeepEqual(*got, full) {
		t.Errorf("Parse(Args) =\n %+v\nwant\n %+v\nargs %q", *got, full, args)
	}
	for _, f := range usageFlags(t) {
		if f != "config" && !slices.Contains(args, "--"+f) {
			t.Errorf("flag --%s is not written by Args: %q", f, args)
		}
	}
	if _, err := got.Validate(); err != nil {
		t.Errorf("the round-tripped config does not validate: %v", err)
	}

	// The defaults come back as themselves, and no field means no flag.
	if again := parseArgs(t, defaults.Args()); !reflect.DeepEqual(again, defaults) {
		t.Errorf("defaults: Parse(Args) = %+v, want %+v", again, defaults)
	}
	if a := (&Config{}).Args(); len(a) != 0 {
		t.Errorf("Config{}.Args() = %q, want none", a)
	}
}

// TestArgsTimersOrder writes the known timer keys in the kernel's order,
// unknown ones after them by name (Validate names those), and the round
// trip keeps them all.
func TestArgsTimersOrder(t *testing.T) {
	t.Setenv(admin.EnvToken, "")
	c := Config{Name: "B", Timers: map[string]string{"zeta": "1s", "lifetime": "2s", "alpha": "3s", "open": "4s"}}
	args := c.Args()
	if want := []string{"--name", "B", "--timers", "open=4s,lifetime=2s,alpha=3s,zeta=1s"}; !slices.Equal(args, want) {
		t.Errorf("Args = %q, want %q", args, want)
	}
	if got := parseArgs(t, args); !reflect.DeepEqual(got.Timers, c.Timers) {
		t.Errorf("timers came back as %v, want %v", got.Timers, c.Timers)
	}
	if _, err := parseArgs(t, args).Validate(); err == nil || !strings.Contains(err.Error(), `unknown timer "alpha"`) {
		t.Errorf("Validate = %v, want it to name the first unknown timer", err)
	}
}

// TestFormatTimers sends kernel timers through FormatTimers, Args, Parse
// and Validate: the same timers.
func TestFormatTimers(t *testing.T) {
	t.Setenv(admin.EnvToken, "")
	want := kernel.Timers{Open: 300 * time.Millisecond, OpenInterval: 100 * time.Millisecond, Transfer: 1500 * time.Millisecond,
		Reassembly: 250 * time.Microsecond, Lifetime: time.Minute, Disconnect: 7 * time.Second}
	c := Config{Name: "B", Timers: FormatTimers(want)}
	if len(c.Timers) != reflect.TypeFor[kernel.Timers]().NumField() {
		t.Errorf("FormatTimers wrote %d timers, kernel.Timers has %d: %v", len(c.Timers), reflect.TypeFor[kernel.Timers]().NumField(), c.Timers)
	}
	s, err := parseArgs(t, c.Args()).Validate()
	if err != nil {
		t.Fatal(err)
	}
	if s.KernelTimers != want {
		t.Errorf("timers came back as %+v, want %+v", s.KernelTimers, want)
	}
}

// TestBuildModeDefects: --build names any build, --mode is its old name,
// both given must agree, and --defects replaces the build's set (empty:
// none); each mistake names its key.
func TestBuildModeDefects(t *testing.T) {
	t.Setenv(admin.EnvToken, "")
	cases := []struct {
		args     []string
		build    string
		defects  []string
		override bool
		err      string
	}{
		{nil, "4.0-sp2", []string{}, false, ""},
		{[]string{"--mode", "sp0"}, "4.0", []string{"Q152877"}, false, ""},
		{[]string{"--build", "sp0"}, "4.0", []string{"Q152877"}, false, ""},
		{[]string{"--build", "5.5-sp2"}, "5.5-sp2", []string{"Q229643", "Q232602"}, false, ""},
		{[]string{"--build", "4.0", "--mode", "sp0"}, "4.0", []string{"Q152877"}, false, ""},
		{[]string{"--build", "5.5-sp3", "--defects", "Q232602,Q229643"}, "5.5-sp3", []string{"Q229643", "Q232602"}, true, ""},
		{[]string{"--build", "5.5-sp2", "--defects="}, "5.5-sp2", []string{}, true, ""},
		{[]string{"--build", "5.5-sp2", "--mode", "sp2"}, "", nil, false, `build: "5.5-sp2" and mode: "sp2" disagree`},
		{[]string{"--mode", "5.5-sp2"}, "", nil, false, `mode: "5.5-sp2"`},
		{[]string{"--build", "5.5-sp5"}, "", nil, false, `build: build "5.5-sp5"`},
		{[]string{"--defects", "Q1"}, "", nil, false, `defects: defect "Q1"`},
	}
	for _, tc := range cases {
		s, err := parseArgs(t, append([]string{"--name", "B"}, tc.args...)).Validate()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: Validate = %v, want an error with %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		mc := s.MTAConfig(nil)
		if s.BuildInfo.Name != tc.build || !slices.Equal(s.DefectSet, tc.defects) || mc.Build != tc.build || mc.OverrideDefects != tc.override {
			t.Errorf("%q: build %q defects %q, MTA config %q override %v; want %q %q override %v",
				tc.args, s.BuildInfo.Name, s.DefectSet, mc.Build, mc.OverrideDefects, tc.build, tc.defects, tc.override)
		}
	}
}

// TestConfigFileBuildDefects reads build and defects from a --config file:
// "defects: []" is an empty set (no defects), no defects key the build's.
func TestConfigFileBuildDefects(t *testing.T) {
	t.Setenv(admin.EnvToken, "")
	for _, tc := range []struct {
		yaml     string
		defects  []string
		override bool
	}{
		{"name: B\nbuild: 5.5-sp2\ndefects: []\n", []string{}, true},
		{"name: B\nbuild: 5.5-sp2\n", []string{"Q229643", "Q232602"}, false},
		{"name: B\nmode: sp2\ndefects: [Q247419]\n", []string{"Q247419"}, true},
	} {
		f := t.TempDir() + "/stub.yaml"
		if err := os.WriteFile(f, []byte(tc.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := parseArgs(t, []string{"--config", f}).Validate()
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		if !slices.Equal(s.DefectSet, tc.defects) || s.MTAConfig(nil).OverrideDefects != tc.override {
			t.Errorf("%q: defects %q override %v, want %q %v", tc.yaml, s.DefectSet, s.MTAConfig(nil).OverrideDefects, tc.defects, tc.override)
		}
	}
}

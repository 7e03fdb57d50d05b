package kernel_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestBuildsTable pins CATALOGUE.md C1: names, aliases, banners, defects, order.
func TestBuildsTable(t *testing.T) {
	want := []kernel.BuildInfo{
		{Name: "4.0", Alias: "sp0", Banner: "838.10", Product: "Microsoft Exchange Server 4.0", Defects: []string{"Q152877"}},
		{Name: "4.0-sp2", Alias: "sp2", Banner: "993.6", Product: "Microsoft Exchange Server 4.0"},
		{Name: "5.5-sp2", Banner: "2448.4", Product: "Microsoft Exchange Server 5.5", Defects: []string{"Q229643", "Q232602"}},
		{Name: "5.5-sp3", Banner: "2650.24", Product: "Microsoft Exchange Server 5.5", Defects: []string{"Q247419"}},
		{Name: "5.5-sp4", Banner: "2653.23", Product: "Microsoft Exchange Server 5.5"},
	}
	got := kernel.Builds()
	if len(got) != len(want) {
		t.Fatalf("%d builds, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Alias != w.Alias || g.Banner != w.Banner || g.Product != w.Product || !slices.Equal(g.Defects, w.Defects) {
			t.Errorf("build %d = %+v, want %+v", i, g, w)
		}
	}
	got[0].Defects[0] = "changed"
	if b, _ := kernel.LookupBuild("4.0"); b.Defects[0] != "Q152877" {
		t.Errorf("Builds returned the table itself: a caller changed it")
	}
}

// TestLookupBuild finds builds by name and alias, and nothing else.
func TestLookupBuild(t *testing.T) {
	for in, name := range map[string]string{"sp0": "4.0", "SP2": "4.0-sp2", "4.0": "4.0", "5.5-sp3": "5.5-sp3", "5.5-SP4": "5.5-sp4"} {
		b, ok := kernel.LookupBuild(in)
		if !ok || b.Name != name {
			t.Errorf("LookupBuild(%q) = %q, %v; want %q", in, b.Name, ok, name)
		}
	}
	for _, in := range []string{"", "sp1", "5.5", "5.5-sp1", "4.0 "} {
		if b, ok := kernel.LookupBuild(in); ok {
			t.Errorf("LookupBuild(%q) = %q, want none", in, b.Name)
		}
	}
}

// TestDefectsTable: every defect is carried by exactly the build it names
// and is absent from the build it is fixed in.
func TestDefectsTable(t *testing.T) {
	ds := kernel.Defects()
	if got := len(ds); got != 4 {
		t.Fatalf("%d defects, want 4", got)
	}
	for _, d := range ds {
		in, ok1 := kernel.LookupBuild(d.Build)
		fixed, ok2 := kernel.LookupBuild(d.FixedIn)
		if !ok1 || !ok2 || !slices.Contains(in.Defects, d.KB) || slices.Contains(fixed.Defects, d.KB) {
			t.Errorf("%s: build %q (%v) fixed in %q (%v)", d.KB, d.Build, in.Defects, d.FixedIn, fixed.Defects)
		}
		if got, ok := kernel.LookupDefect(strings.ToLower(d.KB)); !ok || got != d {
			t.Errorf("LookupDefect(%q) = %+v, %v", strings.ToLower(d.KB), got, ok)
		}
	}
	if _, ok := kernel.LookupDefect("Q175354"); ok {
		t.Errorf("Q175354 is a condition, not a defect")
	}
}

// TestResolveBuild covers the default, overrides and the errors.
func TestResolveBuild(t *testing.T) {
	cases := []struct {
		build    string
		defects  []string
		override bool
		name     string
		want     []string
		err      string
	}{
		{"", nil, false, "4.0-sp2", []string{}, ""},
		{"sp0", nil, false, "4.0", []string{"Q152877"}, ""},
		{"5.5-sp2", nil, false, "5.5-sp2", []string{"Q229643", "Q232602"}, ""},
		{"5.5-sp3", []string{"q232602", "Q229643", "Q229643"}, true, "5.5-sp3", []string{"Q229643", "Q232602"}, ""},
		{"5.5-sp2", nil, true, "5.5-sp2", []string{}, ""},
		{"5.5", nil, false, "", nil, `build "5.5"`},
		{"5.5-sp3", []string{"Q999999"}, true, "", nil, `defect "Q999999"`},
		{"5.5-sp3", []string{"Q229643"}, false, "", nil, "without OverrideDefects"},
	}
	for _, tc := range cases {
		b, d, err := kernel.ResolveBuild(tc.build, tc.defects, tc.override)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveBuild(%q, %v, %v) error %v, want %q", tc.build, tc.defects, tc.override, err, tc.err)
			}
			continue
		}
		if err != nil || b.Name != tc.name || !slices.Equal(d, tc.want) || d == nil {
			t.Errorf("ResolveBuild(%q, %v, %v) = %q %#v %v, want %q %#v", tc.build, tc.defects, tc.override, b.Name, d, err, tc.name, tc.want)
		}
	}
}

package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

// TestProbeSlicer runs the slicer probe against an embedded Toxiproxy in
// front of an echo server, as the harness does on a link's probe twin: it
// must see the fragments of every slice fault the shipped scenarios and
// storms use, and must not see any once the slicer is removed (a probe that
// passes without the toxic would verify nothing).
func TestProbeSlicer(t *testing.T) {
	b := wireEmbedded(t)
	echo, err := NewEcho("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = echo.Close() })
	cases := []struct {
		name string
		p    tp
	}{
		{"slice.yaml", tp{"average_size": int64(100), "size_variation": int64(0), "delay": 40 * time.Millisecond, "stream": "up"}},
		{"slice-short.yaml", tp{"average_size": int64(100), "size_variation": int64(0), "delay": 2 * time.Millisecond, "stream": "up"}},
		{"storm smallest", tp{"average_size": int64(8), "size_variation": int64(0), "delay": time.Millisecond, "stream": "down"}},
		{"storm largest", tp{"average_size": int64(64), "size_variation": int64(0), "delay": 20 * time.Millisecond, "stream": "both"}},
		{"variation", tp{"average_size": int64(10), "size_variation": int64(4), "delay": 5 * time.Millisecond, "stream": "both"}},
		{"defaults", tp{}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			link := fmt.Sprintf("P%d->E", i)
			listen := wireProxy(t, b, link, echo.Addr())
			s, err := Expand("probe", 1, []Spec{{Link: link, Type: "slice", Until: 10 * time.Second, Params: c.p}})
			if err != nil {
				t.Fatal(err)
			}
			var added []Toggle
			for _, g := range s.Toggles {
				if g.Heal {
					continue
				}
				if err := Apply(testkit.Context(t), b, wireProxyName(link), g); err != nil {
					t.Fatalf("Apply(%+v): %v", g, err)
				}
				added = append(added, g)
			}
			if len(added) == 0 {
				t.Fatalf("no toxic to probe in %+v", s.Toggles)
			}
			for _, g := range added {
				detail, err := Probe(context.Background(), listen, g)
				if err != nil {
					t.Errorf("Probe(%s %s) with the slicer on: %v", g.Action, g.Toxic.Name, err)
				} else {
					t.Logf("%s: %s", g.Toxic.Name, detail)
				}
			}
			for _, g := range s.Toggles {
				if g.Heal {
					if err := Apply(testkit.Context(t), b, wireProxyName(link), g); err != nil {
						t.Fatalf("Apply(%+v): %v", g, err)
					}
				}
			}
			for _, g := range added {
				detail, err := Probe(context.Background(), listen, g)
				if err == nil || !strings.Contains(err.Error(), "no slicing seen") {
					t.Errorf("Probe(%s %s) with the slicer removed = %q, %v; want the error \"no slicing seen\"", g.Action, g.Toxic.Name, detail, err)
				}
			}
		})
	}
}

package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// Org200Scenario is the 200-MTA organisation, relative to the repository
// root: one hub, 199 spokes, 398 links, a seeded storm on every link.
const Org200Scenario = "scenarios/org-200.yaml"

// runOrg200 runs Org200Scenario as `mtastorm run` does (bundle included)
// and reports its harness overhead (wall / scenario time, as
// harness_overhead) and the messages it lost: undelivered or delivered
// twice, over every sender→receiver pair.
func runOrg200(ctx context.Context, o *Options) []Result {
	path := filepath.Join(o.Root, Org200Scenario)
	sc, err := scenario.Load(path)
	if err != nil {
		return []Result{failed("org200_overhead", "ratio", err), failed("org200_lost", "count", err)}
	}
	dir, err := os.MkdirTemp("", "mtastorm-bench-org200-")
	if err != nil {
		return []Result{failed("org200_overhead", "ratio", err), failed("org200_lost", "count", err)}
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	res, err := harness.Run(ctx, sc, harness.Options{Out: filepath.Join(dir, sc.Name)})
	wall := time.Since(start)
	if err != nil {
		return []Result{failed("org200_overhead", "ratio", err), failed("org200_lost", "count", err)}
	}
	s := res.Summary
	scen := time.Duration(s.DurationS * float64(time.Second))
	if scen <= 0 {
		err := fmt.Errorf("bench: %s: no scenario time", Org200Scenario)
		return []Result{failed("org200_overhead", "ratio", err), failed("org200_lost", "count", err)}
	}
	var declared, delivered, undelivered, dups, refused int
	for _, p := range s.Pairs {
		declared += p.Declared
		delivered += p.Delivered
		undelivered += p.Undelivered
		dups += p.Duplicates
		refused += p.Refused
	}
	return []Result{
		measured("org200_overhead", wall.Seconds()/scen.Seconds(), fmt.Sprintf(
			"%d MTAs, %d links, %d faults: wall %.3fs (setup, timeline, heal, teardown, bundle) / scenario time %.3fs; %d events, %d deliveries; verdict %s",
			len(sc.MTAs), len(sc.Links), len(sc.Faults), wall.Seconds(), scen.Seconds(), len(res.Events), len(res.Deliveries), s.Verdict)),
		measured("org200_lost", float64(undelivered+dups), fmt.Sprintf(
			"%d declared over %d pairs: %d delivered, %d undelivered, %d duplicated, %d refused by a stopped MTA",
			declared, len(s.Pairs), delivered, undelivered, dups, refused)),
	}
}

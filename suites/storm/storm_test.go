package storm_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	. "github.com/mtastorm/mtastorm/suites/suitekit"
)

// links of the storm topology: a ring of four sites plus two cross links,
// so every MTA both initiates and responds, on two links each way.
var links = []string{"A->B", "B->C", "C->D", "D->A", "A->C", "C->A"}

// perLink messages at 100/s: 6 × 500 = 3000 messages over 5s.
const perLink = 500

// storm: from 1s to 5s a storm starts rate sub-faults per second, each of a
// drawn kind (DESIGN.md section 5's defaults, cut_at excluded so a stock
// toxiproxy-server can run it) on a drawn link, while every link carries
// traffic. All sp2.
const storm = `
version: 1
name: storm-seed%[1]d
seed: %[1]d
defaults: {mode: sp2, kcbs: 8, timers: {lifetime: 300ms}}
mtas: [{name: A}, {name: B}, {name: C}, {name: D}]
links: [%[2]s]
traffic: [%[3]s]
faults:
  - {at: 1s, until: 5s, type: storm, rate: %[4]g/s, links: [%[5]s]}
expect:
  events:
    - {mta: "*", id: 1277, max: 0}
  leaked:
    - {mta: "*", max: 0}
  recovery: {within: %[6]s, delivered: all, kcbs: baseline}
duration: 40s
`

// within bounds recovery after the storm: a held association fails on its
// transfer timer (500ms), then open_interval and open (400ms), the backlog
// of up to six links drains, and the last associations idle out (300ms).
const within = 3 * time.Second

func stormScenario(seed int64, rate float64) string {
	var ls, traffic []string
	for _, l := range links {
		from, to, _ := strings.Cut(l, "->")
		ls = append(ls, fmt.Sprintf("{from: %s, to: %s}", from, to))
		traffic = append(traffic, fmt.Sprintf("{from: %s, to: %s, messages: %d, size: 1KiB, rate: 100/s, start: 0s}", from, to, perLink))
	}
	return fmt.Sprintf(storm, seed, strings.Join(ls, ", "), strings.Join(traffic, ", "), rate,
		strings.Join(links, ", "), within)
}

var _ = Describe("net storms", Label("fault:storm", "mode:sp2", "speed:soak", "backend:external"), func() {
	DescribeTable("a seeded storm over six links and four MTAs",
		func(ctx SpecContext, seed int64, rate float64) {
			ownSoak(fmt.Sprintf("storm seed %d", seed))
			res := Run(ctx, Scenario("storm.yaml", stormScenario(seed, rate)))

			Expect(res.Summary.MTAs).To(HaveLen(4))
			submitted := 0
			for _, m := range res.Summary.MTAs {
				submitted += m.Submitted
			}
			Expect(submitted).To(Equal(len(links)*perLink), "every message must have been submitted")
			ExpectAll(res, fmt.Sprintf("storm seed %d, %g sub-faults/s, sp2", seed, rate),
				HaveDeliveredExactlyOnce(),
				HaveNoLeakedKCBs(),
				Not(HaveEmitted(eventlog.IDConnRefused)),
				Not(HaveEmitted(eventlog.IDStateCheck)),
				HavePoolsAtBaseline(),
				HaveRecoveredWithin(within),
				HaveVerdict(harness.Passed),
			)
		},
		func(seed int64, rate float64) string { return fmt.Sprintf("seed %d, %g/s", seed, rate) },
		stormEntries(),
	)
})

// stormEntries makes one table entry per seed of stormSeeds.
func stormEntries() []TableEntry {
	var es []TableEntry
	for _, s := range stormSeeds {
		es = append(es, Entry(nil, s.seed, s.rate, SpecTimeout(2*time.Minute)))
	}
	return es
}

// Package storm_test is the soak set (label speed:soak, left out of the
// default run): seeded net storms over several links and MTAs, thousands
// of messages, judged on exactly-once delivery and no leaked KCB in sp2;
// and a long storm on one link (10,000 messages, 120 link cycles, resets,
// truncations and slicings) under both builds, sp0 with the KB workaround.
//
// The soak set is sharded (internal/shard): with $MTASTORM_SHARD=I/N, or a
// Kubernetes Indexed Job's $JOB_COMPLETION_INDEX and $JOB_COMPLETIONS, this
// process runs the soak specs at positions i mod N == I of soakItems and
// skips the others, naming the shard that owns them.
package storm_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/internal/shard"
	"github.com/mtastorm/mtastorm/suites/suitekit"
)

// soakShard is this process's shard of the soak set, from the environment.
var soakShard, _, soakShardErr = shard.FromEnv(os.Getenv)

// stormSeed is one seeded storm of the soak set.
type stormSeed struct {
	seed int64
	rate float64 // sub-faults per second
}

// stormSeeds and longModes are the soak set; soakItems orders them.
var (
	stormSeeds = []stormSeed{{1, 4}, {2, 4}, {3, 8}, {152877, 8}}
	longModes  = []string{"sp2", "sp0"}
)

// soakItems names every soak spec in the fixed order the shards split.
func soakItems() []string {
	var items []string
	for _, s := range stormSeeds {
		items = append(items, fmt.Sprintf("storm seed %d", s.seed))
	}
	for _, m := range longModes {
		items = append(items, "long storm "+m)
	}
	return items
}

// ownSoak skips the current spec unless this process's shard owns item.
func ownSoak(item string) {
	GinkgoHelper()
	Expect(soakShardErr).NotTo(HaveOccurred(), "the soak shard")
	i := slices.Index(soakItems(), item)
	Expect(i).To(BeNumerically(">=", 0), "soak item %q is not in soakItems", item)
	if !soakShard.Owns(i) {
		Skip(fmt.Sprintf("%s belongs to shard %v; this is shard %v", item, shard.Owner(i, soakShard.Count), soakShard))
	}
}

func TestStorm(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "storm")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suitekit.SetupBackend(ctx)
}, NodeTimeout(30*time.Second))

// No goroutine or socket survives a spec.
var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)

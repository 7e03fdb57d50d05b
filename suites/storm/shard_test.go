package storm_test

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/internal/shard"
)

var _ = Describe("the soak set's shards", Label("shard"), func() {
	It("splits the soak items into disjoint shards whose union is the whole set, for 1 to 8 shards", func(_ SpecContext) {
		items := soakItems()
		Expect(items).To(HaveLen(len(stormSeeds)+len(longModes)), "one item per storm seed and long-storm build")
		Expect(slices.Compact(slices.Sorted(slices.Values(items)))).To(HaveLen(len(items)), "soak items are distinct: %v", items)
		for n := 1; n <= 8; n++ {
			owner := map[string]int{}
			for i := range n {
				for _, it := range shard.Select(shard.Shard{Index: i, Count: n}, items) {
					prev, dup := owner[it]
					Expect(dup).To(BeFalse(), "%d shards: %q in shard %d and %d", n, it, prev, i)
					owner[it] = i
				}
			}
			Expect(owner).To(HaveLen(len(items)), "%d shards: every soak item in some shard", n)
		}
	}, SpecTimeout(10*time.Second))
})

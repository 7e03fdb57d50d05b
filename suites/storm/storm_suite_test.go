// Package storm_test is the soak set (label speed:soak, left out of the
// default run): seeded net storms over several links and MTAs, thousands
// of messages, judged on exactly-once delivery and no leaked KCB in sp2;
// and a long storm on one link (10,000 messages, 120 link cycles, resets,
// truncations and slicings) under both builds, sp0 with the KB workaround.
package storm_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/suites/suitekit"
)

func TestStorm(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "storm")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suitekit.SetupBackend(ctx)
}, NodeTimeout(30*time.Second))

// No goroutine or socket survives a spec.
var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)

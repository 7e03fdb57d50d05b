package kb_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/suites/suitekit"
)

func TestKB(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "kb")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suitekit.SetupBackend(ctx)
}, NodeTimeout(30*time.Second))

// No goroutine or socket survives a spec (or an ordered container).
var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)

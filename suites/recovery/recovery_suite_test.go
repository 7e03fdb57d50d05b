// Package recovery_test checks what "recovery works" means (DESIGN.md
// section 6) after each fault type heals: every message delivered exactly
// once, every pool back to baseline, the last delivery within a bound of
// the heal.
package recovery_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/suites/suitekit"
)

func TestRecovery(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "recovery")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suitekit.SetupBackend(ctx)
}, NodeTimeout(30*time.Second))

// No goroutine or socket survives a spec.
var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)

// Package regression_test holds the named reproduction of KB Q152877 (the
// shipped scenarios/q152877-*.yaml pair), the deterministic leak generator
// (a cut inside BIND), and every other shipped scenario under scenarios/.
package regression_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mtastorm/mtastorm/suites/suitekit"
)

func TestRegression(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "regression")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	suitekit.SetupBackend(ctx)
}, NodeTimeout(30*time.Second))

// No goroutine or socket survives a spec (or an ordered container).
var _ = BeforeEach(suitekit.Hygiene, OncePerOrdered)

package eventlog

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (a subscription's
// drain goroutine in particular) outlives them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

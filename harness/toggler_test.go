package harness

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/internal/testkit"
)

// failAfterToggler bounds a blocking step of the toggler tests so that a
// bug fails instead of hanging; it is not a guess at how long anything takes.
const failAfterToggler = 10 * time.Second

func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(failAfterToggler):
		t.Fatalf("%s did not happen", what)
	}
}

// TestTogglerHeldLinkHoldsOnlyItself holds one link's job and checks that
// another link's jobs run meanwhile, while the held link's next job waits
// for it, and that each link's jobs run in the order submitted.
func TestTogglerHeldLinkHoldsOnlyItself(t *testing.T) {
	tg := newToggler(4)
	started, release := make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(release)
		}
		tg.wait()
	}()
	var mu sync.Mutex
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	tg.submit("A->B", func() { close(started); <-release; note("A1") })
	within(t, started, "the first job of A->B")
	behind := make(chan struct{})
	tg.submit("A->B", func() { note("A2"); close(behind) })
	other := make(chan struct{})
	for i := range 3 {
		tg.submit("B->A", func() {
			note(fmt.Sprint("B", i+1))
			if i == 2 {
				close(other)
			}
		})
	}
	within(t, other, "B->A's jobs while A->B's first job is held")
	select {
	case <-behind:
		t.Fatal("A->B's second job ran before its first ended")
	default:
	}
	close(release)
	released = true
	within(t, behind, "A->B's second job after the release")
	tg.wait()
	want := map[string][]string{"A": {"A1", "A2"}, "B": {"B1", "B2", "B3"}}
	for prefix, w := range want {
		var got []string
		for _, s := range order {
			if s[:1] == prefix {
				got = append(got, s)
			}
		}
		if !slices.Equal(got, w) {
			t.Errorf("jobs of %s ran as %v, want %v", prefix, got, w)
		}
	}
}

// TestTogglerBound checks that no more jobs run at once than the toggler
// has workers: with one worker, a held job on one link keeps another
// link's job waiting.
func TestTogglerBound(t *testing.T) {
	tg := newToggler(1)
	started, release := make(chan struct{}), make(chan struct{})
	released := false
	defer func() {
		if !released {
			close(release)
		}
		tg.wait()
	}()
	tg.submit("A->B", func() { close(started); <-release })
	within(t, started, "the held job")
	ran := make(chan struct{})
	tg.submit("B->A", func() { close(ran) })
	// B->A's runner has taken its job off the queue: it waits for a slot,
	// or (the bug) has run it.
	testkit.Eventually(t, failAfterToggler, "B->A's runner taking its job", func() bool {
		tg.mu.Lock()
		defer tg.mu.Unlock()
		q, ok := tg.queues["B->A"]
		select {
		case <-ran:
			return true
		default:
			return ok && len(q) == 0
		}
	})
	select {
	case <-ran:
		t.Fatal("a second job ran beside the held one with one worker")
	default:
	}
	close(release)
	released = true
	within(t, ran, "the second job after the release")
	tg.wait()
	if len(tg.queues) != 0 {
		t.Fatalf("queues left after wait: %v", tg.queues)
	}
}

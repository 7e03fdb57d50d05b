package harness

import (
	"sync"
)

// DefaultToggleWorkers bounds how many links' toggles are applied at once
// by default: one, i.e. one toggle after another. Applying the toggles of
// different links in parallel was measured on the 2-core machine with
// scenarios/org-200.yaml (398 links, 6,036 toggles, the first 1,509 due in
// the first second) and made them later, not sooner: planned-vs-applied lag
// p50/p99 3.7/196 ms with one worker, 6.2/4,128 ms with two, 2,047/5,439 ms
// with eight (BENCHMARKS.md, org200). Each Toxiproxy call is a few tens of
// microseconds alone, but a Disable waits for the proxy's accept loop and
// closes its connections, and many at once on two cores stretched every
// call (the sum of the calls' durations went from ≈ 3.5 s to ≈ 126 s). The
// bound stays an option (Options.ToggleWorkers) for machines with more
// cores.
const DefaultToggleWorkers = 1

// toggler applies jobs keyed by link: the jobs of one link run one at a
// time in the order given (a link's toggles must not overtake each other,
// and a slow call on one link, such as a Toxiproxy RemoveToxic flushing a
// congested link's backlog, holds back that link's next toggle only),
// jobs of different links run in parallel, at most workers at once.
type toggler struct {
	slots chan struct{} // one per job running
	wg    sync.WaitGroup

	mu     sync.Mutex
	queues map[string][]func() // per link: jobs waiting; present while the link has a runner
}

func newToggler(workers int) *toggler {
	if workers <= 0 {
		workers = DefaultToggleWorkers
	}
	return &toggler{slots: make(chan struct{}, workers), queues: map[string][]func(){}}
}

// submit queues job behind link's earlier jobs; it never blocks.
func (t *toggler) submit(link string, job func()) {
	t.mu.Lock()
	q, running := t.queues[link]
	t.queues[link] = append(q, job)
	t.mu.Unlock()
	if running {
		return
	}
	t.wg.Add(1)
	go t.run(link)
}

// run is link's runner: it applies the link's jobs in order, each holding
// a slot, and ends once the link's queue is empty.
func (t *toggler) run(link string) {
	defer t.wg.Done()
	for {
		t.mu.Lock()
		q := t.queues[link]
		if len(q) == 0 {
			delete(t.queues, link)
			t.mu.Unlock()
			return
		}
		job := q[0]
		t.queues[link] = q[1:]
		t.mu.Unlock()
		t.slots <- struct{}{}
		job()
		<-t.slots
	}
}

// wait blocks until every job submitted so far has run.
func (t *toggler) wait() { t.wg.Wait() }

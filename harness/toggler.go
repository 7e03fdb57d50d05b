package harness

import (
	"sync"
)

// DefaultToggleWorkers bounds how many links' toggles are applied at once.
// A storm over 400 links plans hundreds of toggles at the same offset;
// applied one after another they were up to ≈ 220 ms late at the 99th
// percentile (BENCHMARKS.md, org200). Each toggle is a few tens of
// microseconds of work on the embedded backend, so a handful in flight
// covers a burst; more would only add to a loaded machine's run queue.
const DefaultToggleWorkers = 8

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

package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Wake measures event emitted → subscriber woken on one event log with subs
// subscribers: n events, one at a time, each emitted once every subscriber
// has seen the previous one and gap has passed (so waiters are parked, as a
// harness waiter is). A latency runs from just before Log.Emit to the
// subscriber's receive from Subscription.C; it returns one per subscriber
// per event.
func Wake(ctx context.Context, subs, n int, gap time.Duration) ([]time.Duration, error) {
	log := eventlog.NewLog("bench", nil)
	defer log.Close()
	sent := make([]time.Time, n)
	lat := make([][]time.Duration, subs)
	seen := make(chan struct{}, subs)
	var wg sync.WaitGroup
	for s := range subs {
		sub := log.Subscribe()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer sub.Close()
			for rec := range sub.C() {
				now := time.Now()
				lat[s] = append(lat[s], now.Sub(sent[rec.Assoc]))
				seen <- struct{}{}
				if rec.Assoc == n-1 {
					return
				}
			}
		}()
	}
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	var err error
loop:
	for i := range n {
		sent[i] = time.Now()
		log.Emit(eventlog.Record{ID: eventlog.IDAssocError, KCB: 1, State: 2, Svc: 13, Flavor: 4, Reason: 8, Assoc: i, Entity: "/O=ORG/OU=SITE/CN=B"})
		for range subs {
			select {
			case <-seen:
			case <-timeout.C:
				err = fmt.Errorf("wake: event %d not seen by every subscriber in 30s", i)
				break loop
			case <-ctx.Done():
				err = ctx.Err()
				break loop
			}
		}
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	log.Close()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	return all, nil
}

func runWake(ctx context.Context, o *Options) []Result {
	n := 3000
	if o.Quick {
		n = 1000
	}
	one, err := Wake(ctx, 1, n, 100*time.Microsecond)
	if err != nil {
		return []Result{failed("event_wake_p99", "ms", err)}
	}
	fan, err := Wake(ctx, 8, n/2, 100*time.Microsecond)
	if err != nil {
		return []Result{failed("event_wake_p99", "ms", err)}
	}
	d := fmt.Sprintf("1 subscriber, %d events; with 8 subscribers p50 %.3fms p99 %.3fms max %.3fms",
		n, ms(percentile(fan, 50)), ms(percentile(fan, 99)), ms(percentile(fan, 100)))
	return []Result{
		info("event_wake_p50", ms(percentile(one, 50)), "ms", d),
		measured("event_wake_p99", ms(percentile(one, 99)), fmt.Sprintf("max %.3fms", ms(percentile(one, 100)))),
	}
}

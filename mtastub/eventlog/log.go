package eventlog

import (
	"sync"
	"time"
)

// Log is one MTA's event log: an append-only history, per-ID counts, push
// subscriptions and an optional synchronous sink. A Log is safe for
// concurrent use.
type Log struct {
	mta string
	now func() time.Time

	// emitMu serialises Emit so that history, subscribers and the sink all
	// see one order. It is held while the sink runs; mu is not.
	emitMu sync.Mutex

	mu     sync.Mutex
	recs   []Record
	counts map[int]int
	subs   map[*Subscription]struct{}
	sink   func(Record)
	closed bool
}

// NewLog returns an empty log for the MTA named mta. now supplies the time of
// records emitted without one; nil means time.Now.
func NewLog(mta string, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{
		mta:    mta,
		now:    now,
		counts: make(map[int]int),
		subs:   make(map[*Subscription]struct{}),
	}
}

// MTA returns the name of the MTA the log belongs to.
func (l *Log) MTA() string { return l.mta }

// SetSink installs f (nil removes it) as the log's sink: Emit calls it
// synchronously with every completed record after appending it, in emit
// order, without holding the lock that Records, Counts, Len, Subscribe and
// Close take, so f may call those. Several logs may share one sink, which
// must then be safe for concurrent use. f must not call Emit on the same log.
func (l *Log) SetSink(f func(Record)) {
	l.mu.Lock()
	l.sink = f
	l.mu.Unlock()
}

// Emit completes r and records it. Time is set from the log's clock when
// zero and is truncated to the microsecond in UTC; MTA is set to the log's
// MTA when empty; Source, Category, Type, Severity, Socket and Text are
// completed as Complete does. The record is appended to the history, queued
// to every subscriber and handed to the sink. Emit never blocks on a slow
// subscriber and never drops an event for one. It returns the completed record.
func (l *Log) Emit(r Record) Record {
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = r.Time.UTC().Truncate(time.Microsecond)
	if r.MTA == "" {
		r.MTA = l.mta
	}
	r = Complete(r)

	l.emitMu.Lock()
	defer l.emitMu.Unlock()
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.counts[r.ID]++
	for s := range l.subs {
		s.push(r)
	}
	sink := l.sink
	l.mu.Unlock()
	if sink != nil {
		sink(r)
	}
	return r
}

// Records returns a copy of the history, oldest first.
func (l *Log) Records() []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Record, len(l.recs))
	copy(out, l.recs)
	return out
}

// Len returns the number of records emitted so far.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recs)
}

// Counts returns a fresh map from event ID to the number of records with it.
func (l *Log) Counts() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]int, len(l.counts))
	for id, n := range l.counts {
		out[id] = n
	}
	return out
}

// Count returns the number of records emitted with event ID id.
func (l *Log) Count(id int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[id]
}

// Subscribe returns a subscription that receives every record emitted after
// the call, in emit order. The caller must Close it. Subscribing to a closed
// log returns a subscription whose channel is already closed.
func (l *Log) Subscribe() *Subscription {
	return l.subscribe(false)
}

// SubscribeAll is Subscribe preceded by a replay: the subscription receives
// the whole history first, then every later record, with no gap and no
// duplicate between the two. It lets a waiter check past events and wait
// for future ones without a race.
func (l *Log) SubscribeAll() *Subscription {
	return l.subscribe(true)
}

func (l *Log) subscribe(replay bool) *Subscription {
	s := newSubscription(l)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		s.Close()
		return s
	}
	if replay {
		s.queue = append(s.queue, l.recs...)
	}
	l.subs[s] = struct{}{}
	l.mu.Unlock()
	go s.run()
	return s
}

// Close closes every subscription of the log and makes later subscriptions
// start closed. Emit keeps recording after Close. Close is idempotent.
func (l *Log) Close() {
	l.mu.Lock()
	l.closed = true
	subs := make([]*Subscription, 0, len(l.subs))
	for s := range l.subs {
		subs = append(subs, s)
	}
	l.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}

func (l *Log) remove(s *Subscription) {
	l.mu.Lock()
	delete(l.subs, s)
	l.mu.Unlock()
}

// Subscription is a push feed of a Log's records. Records are queued without
// bound and delivered on C in emit order by the subscription's goroutine.
type Subscription struct {
	log *Log
	out chan Record

	mu    sync.Mutex
	queue []Record

	wake    chan struct{} // capacity 1: "the queue may be non-empty"
	done    chan struct{} // closed by Close
	exited  chan struct{} // closed when run returns (or at once if it never ran)
	once    sync.Once
	started bool
}

func newSubscription(l *Log) *Subscription {
	return &Subscription{
		log:    l,
		out:    make(chan Record),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
	}
}

// C returns the channel the records arrive on. It is closed after Close.
func (s *Subscription) C() <-chan Record { return s.out }

// Close ends the subscription: undelivered records are discarded, the
// goroutine exits and C is closed before Close returns. Close is idempotent
// and safe to call concurrently with receives from C.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.log.remove(s)
		s.mu.Lock()
		started := s.started
		s.started = true // a run that has not begun yet must not begin
		s.queue = nil
		s.mu.Unlock()
		close(s.done)
		if !started {
			close(s.out)
			close(s.exited)
		}
	})
	<-s.exited
}

func (s *Subscription) push(r Record) {
	s.mu.Lock()
	s.queue = append(s.queue, r)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Subscription) run() {
	s.mu.Lock()
	if s.started { // closed before the goroutine got going
		s.mu.Unlock()
		return
	}
	s.started = true
	s.mu.Unlock()
	defer close(s.exited)
	defer close(s.out)
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for i := range batch {
			select {
			case s.out <- batch[i]:
			case <-s.done:
				return
			}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-s.wake:
		case <-s.done:
			return
		}
	}
}

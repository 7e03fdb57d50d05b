package eventlog

import (
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/feed"
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
	feed   feed.Feed[Record]

	mu     sync.Mutex
	counts map[int]int
	sink   func(Record)
}

// Subscription is a push feed of a Log's records: queued without bound and
// delivered on C in emit order by the subscription's own goroutine.
type Subscription = feed.Sub[Record]

// NewLog returns an empty log for the MTA named mta. now supplies the time of
// records emitted without one; nil means time.Now.
func NewLog(mta string, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{mta: mta, now: now, counts: make(map[int]int)}
}

// MTA returns the name of the MTA the log belongs to.
func (l *Log) MTA() string { return l.mta }

// SetSink installs f (nil removes it) as the log's sink: f first receives
// every record emitted so far (an MTA logs its start banner as it starts,
// before a caller can install a sink), then Emit calls it synchronously
// with every completed record after appending it, in emit order, with no
// gap and no repeat, without holding the lock that Records, Counts, Len,
// Subscribe and Close take, so f may call those. Several logs may share one
// sink, which must then be safe for concurrent use. f must not call Emit on
// the same log.
func (l *Log) SetSink(f func(Record)) {
	l.emitMu.Lock()
	defer l.emitMu.Unlock()
	if f != nil {
		for _, r := range l.feed.History() {
			f(r)
		}
	}
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
	l.feed.Publish(r)
	l.mu.Lock()
	l.counts[r.ID]++
	sink := l.sink
	l.mu.Unlock()
	if sink != nil {
		sink(r)
	}
	return r
}

// Records returns a copy of the history, oldest first.
func (l *Log) Records() []Record { return l.feed.History() }

// Len returns the number of records emitted so far.
func (l *Log) Len() int { return l.feed.Len() }

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
func (l *Log) Subscribe() *Subscription { return l.feed.Subscribe(false) }

// SubscribeAll is Subscribe preceded by a replay: the subscription receives
// the whole history first, then every later record, with no gap and no
// duplicate between the two. It lets a waiter check past events and wait
// for future ones without a race.
func (l *Log) SubscribeAll() *Subscription { return l.feed.Subscribe(true) }

// Close closes every subscription of the log and makes later subscriptions
// start closed. Emit keeps recording after Close. Close is idempotent.
func (l *Log) Close() { l.feed.Close() }

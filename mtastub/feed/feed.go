// Package feed is an append-only history with push subscriptions: every
// subscriber receives every item published after it subscribed, in order,
// through its own unbounded queue, so a publisher never blocks on a slow
// subscriber and no item is dropped.
package feed

import "sync"

// Feed is a history of items of type T with push subscriptions. The zero
// value is ready to use; a Feed is safe for concurrent use.
type Feed[T any] struct {
	mu     sync.Mutex
	items  []T
	subs   map[*Sub[T]]struct{}
	closed bool
}

// Publish appends v to the history and queues it to every subscriber.
func (f *Feed[T]) Publish(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items = append(f.items, v)
	for s := range f.subs {
		s.push(v)
	}
}

// History returns a copy of every item published so far, oldest first.
func (f *Feed[T]) History() []T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]T(nil), f.items...)
}

// Len returns the number of items published so far.
func (f *Feed[T]) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

// Subscribe returns a subscription to every item published after the call;
// with replay it first receives the whole history, with no gap and no
// duplicate between the two. The caller must Close it.
func (f *Feed[T]) Subscribe(replay bool) *Sub[T] {
	s := &Sub[T]{feed: f, out: make(chan T), wake: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		close(s.out)
		close(s.exited)
		s.once.Do(func() { close(s.done) })
		return s
	}
	if replay {
		s.queue = append(s.queue, f.items...)
	}
	if f.subs == nil {
		f.subs = map[*Sub[T]]struct{}{}
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	go s.run()
	return s
}

// Close closes every subscription; later subscriptions start closed.
// Publishing after Close still records. Close is idempotent.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	f.closed = true
	subs := make([]*Sub[T], 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		s.Close()
	}
}

// Sub is one subscription to a Feed.
type Sub[T any] struct {
	feed   *Feed[T]
	out    chan T
	mu     sync.Mutex
	queue  []T
	wake   chan struct{}
	done   chan struct{}
	exited chan struct{}
	once   sync.Once
}

// C returns the channel items arrive on; it is closed after Close.
func (s *Sub[T]) C() <-chan T { return s.out }

// Close ends the subscription: undelivered items are discarded and C is
// closed before Close returns. Close is idempotent.
func (s *Sub[T]) Close() {
	s.once.Do(func() {
		s.feed.mu.Lock()
		delete(s.feed.subs, s)
		s.feed.mu.Unlock()
		close(s.done)
	})
	<-s.exited
}

func (s *Sub[T]) push(v T) {
	s.mu.Lock()
	s.queue = append(s.queue, v)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Sub[T]) run() {
	defer close(s.exited)
	defer close(s.out)
	for {
		s.mu.Lock()
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		for _, v := range batch {
			select {
			case s.out <- v:
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

// Package store keeps what a stub MTA must not lose across a restart: the
// outbound queue (messages accepted but not yet acknowledged by the peer) and
// the set of message ids already delivered to the local user.
//
// A restart of an MTA (the KB workaround, Q247419) re-initialises its KCB pool
// but keeps its store, so a re-sent message is recognised as a duplicate and
// every message is delivered exactly once.
package store

import (
	"errors"
	"slices"
	"sync"
	"time"
)

// Message is one message accepted for transfer to a peer MTA.
type Message struct {
	// ID is unique across the lab; the receiver de-duplicates by it.
	ID string `json:"id"`
	// From and To are MTA names.
	From string `json:"from"`
	To   string `json:"to"`
	// Priority is carried in TRANSFER parameter 0x11.
	Priority uint8 `json:"priority"`
	// Payload is the message body. It is shared, not copied, from Submit to
	// the store and the frames on the wire: nobody modifies it once the
	// message is submitted.
	Payload []byte `json:"payload"`
	// Submitted is when the message was accepted.
	Submitted time.Time `json:"submitted"`
}

// ErrClosed is returned by every method of a closed store.
var ErrClosed = errors.New("store: closed")

// Store is the durable state of one MTA. Implementations are safe for
// concurrent use.
type Store interface {
	// Enqueue appends m to the outbound queue for m.To. Enqueueing an id that
	// is already queued is a no-op. The store may keep m.Payload itself
	// rather than a copy: the caller must not modify it afterwards.
	Enqueue(m Message) error
	// Queued returns the outbound queue for peer, oldest first. The
	// payloads may be shared with the store: read them, never modify them.
	Queued(peer string) ([]Message, error)
	// Peers returns the peers that have queued messages, sorted.
	Peers() ([]string, error)
	// Remove drops message id from peer's queue once the peer acknowledged it.
	Remove(peer, id string) error
	// MarkReceived records that message id was delivered; first is false when
	// it had been recorded before (a duplicate).
	MarkReceived(id string) (first bool, err error)
	// Close releases the store.
	Close() error
}

// Memory is an in-memory Store. It survives an MTA restart within one
// process, not a process crash.
type Memory struct {
	mu       sync.Mutex
	queues   map[string][]Message
	received map[string]struct{}
	closed   bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{queues: map[string][]Message{}, received: map[string]struct{}{}}
}

// Enqueue implements Store.
func (s *Memory) Enqueue(m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	q := s.queues[m.To]
	if slices.ContainsFunc(q, func(x Message) bool { return x.ID == m.ID }) {
		return nil
	}
	// m.Payload is kept as is (Store.Enqueue): a copy here would be the
	// one copy of a message between Submit and the socket.
	s.queues[m.To] = append(q, m)
	return nil
}

// Queued implements Store.
func (s *Memory) Queued(peer string) ([]Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return slices.Clone(s.queues[peer]), nil
}

// Peers implements Store.
func (s *Memory) Peers() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	var out []string
	for p, q := range s.queues {
		if len(q) > 0 {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Remove implements Store.
func (s *Memory) Remove(peer, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.queues[peer] = slices.DeleteFunc(s.queues[peer], func(x Message) bool { return x.ID == id })
	return nil
}

// MarkReceived implements Store.
func (s *Memory) MarkReceived(id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, ErrClosed
	}
	if _, ok := s.received[id]; ok {
		return false, nil
	}
	s.received[id] = struct{}{}
	return true, nil
}

// Close implements Store.
func (s *Memory) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

package store

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the name of the database file Open keeps in its directory.
const FileName = "mtastub.db"

// Bucket names of the durable store.
var (
	bucketQueues   = []byte("queues")   // peer -> (8-byte big-endian seq -> JSON Message)
	bucketIndex    = []byte("index")    // peer -> (message id -> 8-byte seq)
	bucketReceived = []byte("received") // message id -> receipt (seq, time, session)
	bucketMeta     = []byte("meta")     // "session" -> 8-byte open counter
)

var keySession = []byte("session")

// Receipt is one message id of the received-id set of a durable store.
type Receipt struct {
	// ID is the message id.
	ID string `json:"id"`
	// Seq orders receipts: the n-th id ever received has Seq n.
	Seq uint64 `json:"seq"`
	// At is when the id was first recorded.
	At time.Time `json:"time"`
	// Session is the number of the Open (1 for the first) that recorded it.
	Session uint64 `json:"session"`
}

// Receipts is implemented by stores that remember, across process crashes,
// which message ids were received, in which order and in which session.
type Receipts interface {
	// Receipts returns the received-id set in the order the ids were received.
	Receipts() ([]Receipt, error)
	// Session returns the number of the current session (Open) of the store.
	Session() uint64
}

// Bolt is a durable Store kept in a bbolt database. Every change is
// committed and synced to disk before the method returns, so an accepted
// message and a recorded receipt survive a crash of the process (SIGKILL)
// and of the machine. Bolt is safe for concurrent use; only one process may
// have a directory's store open at a time.
type Bolt struct {
	db      *bolt.DB
	path    string
	session uint64

	mu     sync.RWMutex // held for reading by every method, for writing by Close
	closed bool
}

var (
	_ Store    = (*Bolt)(nil)
	_ Receipts = (*Bolt)(nil)
)

// Open opens (creating if needed) the durable store in directory dir. It
// waits up to a second for another process holding the store to let go.
func Open(dir string) (*Bolt, error) {
	if dir == "" {
		return nil, errors.New("store: open: directory is empty")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Bolt{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketQueues, bucketIndex, bucketReceived, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySession); len(v) == 8 {
			s.session = binary.BigEndian.Uint64(v)
		}
		s.session++
		return meta.Put(keySession, u64(s.session))
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// Path returns the database file's path.
func (s *Bolt) Path() string { return s.path }

// Session implements Receipts: 1 for the first Open of the directory, 2 for
// the next, and so on.
func (s *Bolt) Session() uint64 { return s.session }

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// use runs fn with the store held open.
func (s *Bolt) use(fn func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return fn()
}

// Enqueue implements Store. The message is on disk when Enqueue returns.
func (s *Bolt) Enqueue(m Message) error {
	if m.To == "" {
		return fmt.Errorf("store: enqueue %q: peer (to) is empty", m.ID)
	}
	val, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("store: enqueue %q: %w", m.ID, err)
	}
	err = s.use(func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			idx, err := tx.Bucket(bucketIndex).CreateBucketIfNotExists([]byte(m.To))
			if err != nil {
				return err
			}
			if idx.Get([]byte(m.ID)) != nil {
				return nil // already queued
			}
			q, err := tx.Bucket(bucketQueues).CreateBucketIfNotExists([]byte(m.To))
			if err != nil {
				return err
			}
			seq, err := q.NextSequence()
			if err != nil {
				return err
			}
			if err := q.Put(u64(seq), val); err != nil {
				return err
			}
			return idx.Put([]byte(m.ID), u64(seq))
		})
	})
	if err != nil {
		return fmt.Errorf("store: enqueue %q for %s: %w", m.ID, m.To, err)
	}
	return nil
}

// Queued implements Store.
func (s *Bolt) Queued(peer string) ([]Message, error) {
	var out []Message
	err := s.use(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			q := tx.Bucket(bucketQueues).Bucket([]byte(peer))
			if q == nil {
				return nil
			}
			return q.ForEach(func(k, v []byte) error {
				var m Message
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("message at seq %d: %w", binary.BigEndian.Uint64(k), err)
				}
				out = append(out, m)
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: queued for %s: %w", peer, err)
	}
	return out, nil
}

// Peers implements Store.
func (s *Bolt) Peers() ([]string, error) {
	var out []string
	err := s.use(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			index := tx.Bucket(bucketIndex)
			return index.ForEach(func(k, _ []byte) error {
				if b := index.Bucket(k); b != nil {
					if first, _ := b.Cursor().First(); first != nil {
						out = append(out, string(k))
					}
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: peers: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// Remove implements Store. The removal is on disk when Remove returns.
func (s *Bolt) Remove(peer, id string) error {
	err := s.use(func() error {
		// Most calls remove a queued message; a read first spares a sync
		// for the rest.
		var present bool
		if err := s.db.View(func(tx *bolt.Tx) error {
			idx := tx.Bucket(bucketIndex).Bucket([]byte(peer))
			present = idx != nil && idx.Get([]byte(id)) != nil
			return nil
		}); err != nil || !present {
			return err
		}
		return s.db.Update(func(tx *bolt.Tx) error {
			idx := tx.Bucket(bucketIndex).Bucket([]byte(peer))
			if idx == nil {
				return nil
			}
			seq := idx.Get([]byte(id))
			if seq == nil {
				return nil
			}
			if q := tx.Bucket(bucketQueues).Bucket([]byte(peer)); q != nil {
				if err := q.Delete(seq); err != nil {
					return err
				}
			}
			return idx.Delete([]byte(id))
		})
	})
	if err != nil {
		return fmt.Errorf("store: remove %q for %s: %w", id, peer, err)
	}
	return nil
}

// MarkReceived implements Store. A first receipt is on disk when
// MarkReceived returns.
func (s *Bolt) MarkReceived(id string) (bool, error) {
	var first bool
	err := s.use(func() error {
		var seen bool
		if err := s.db.View(func(tx *bolt.Tx) error {
			seen = tx.Bucket(bucketReceived).Get([]byte(id)) != nil
			return nil
		}); err != nil || seen {
			return err
		}
		return s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketReceived)
			if b.Get([]byte(id)) != nil {
				return nil
			}
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			v := make([]byte, 24)
			binary.BigEndian.PutUint64(v[0:], seq)
			binary.BigEndian.PutUint64(v[8:], uint64(time.Now().UnixNano()))
			binary.BigEndian.PutUint64(v[16:], s.session)
			first = true
			return b.Put([]byte(id), v)
		})
	})
	if err != nil {
		return false, fmt.Errorf("store: mark received %q: %w", id, err)
	}
	return first, nil
}

// Receipts implements Receipts.
func (s *Bolt) Receipts() ([]Receipt, error) {
	var out []Receipt
	err := s.use(func() error {
		return s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketReceived).ForEach(func(k, v []byte) error {
				if len(v) != 24 {
					return fmt.Errorf("receipt %q: %d bytes, want 24", k, len(v))
				}
				out = append(out, Receipt{
					ID:      string(k),
					Seq:     binary.BigEndian.Uint64(v[0:]),
					At:      time.Unix(0, int64(binary.BigEndian.Uint64(v[8:]))).UTC(),
					Session: binary.BigEndian.Uint64(v[16:]),
				})
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: receipts: %w", err)
	}
	slices.SortFunc(out, func(a, b Receipt) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// Close implements Store. Closing a closed store is a no-op.
func (s *Bolt) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// stores returns a fresh instance of every Store implementation.
func stores(t *testing.T) map[string]func(t *testing.T) Store {
	return map[string]func(t *testing.T) Store{
		"memory": func(*testing.T) Store { return NewMemory() },
		"bolt": func(t *testing.T) Store {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	}
}

func ids(t *testing.T, s Store, peer string) []string {
	t.Helper()
	q, err := s.Queued(peer)
	if err != nil {
		t.Fatalf("Queued(%s): %v", peer, err)
	}
	out := make([]string, len(q))
	for i, m := range q {
		out[i] = m.ID
	}
	return out
}

func mustEnqueue(t *testing.T, s Store, to string, idList ...string) {
	t.Helper()
	for _, id := range idList {
		if err := s.Enqueue(Message{ID: id, From: "A", To: to}); err != nil {
			t.Fatalf("Enqueue(%s→%s): %v", id, to, err)
		}
	}
}

// TestContract runs the Store contract against every implementation.
func TestContract(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("order per peer", func(t *testing.T) {
				s := open(t)
				for i := range 20 {
					mustEnqueue(t, s, "B", fmt.Sprintf("b%02d", i))
					mustEnqueue(t, s, "C", fmt.Sprintf("c%02d", i))
				}
				var wantB, wantC []string
				for i := range 20 {
					wantB = append(wantB, fmt.Sprintf("b%02d", i))
					wantC = append(wantC, fmt.Sprintf("c%02d", i))
				}
				if got := ids(t, s, "B"); !slices.Equal(got, wantB) {
					t.Errorf("B = %v, want %v", got, wantB)
				}
				if got := ids(t, s, "C"); !slices.Equal(got, wantC) {
					t.Errorf("C = %v, want %v", got, wantC)
				}
				if got := ids(t, s, "nobody"); len(got) != 0 {
					t.Errorf("unknown peer queue = %v, want empty", got)
				}
			})
			t.Run("enqueue of a queued id is a no-op", func(t *testing.T) {
				s := open(t)
				mustEnqueue(t, s, "B", "m1", "m2", "m1", "m3", "m2")
				if got, want := ids(t, s, "B"), []string{"m1", "m2", "m3"}; !slices.Equal(got, want) {
					t.Errorf("queue = %v, want %v", got, want)
				}
			})
			t.Run("remove", func(t *testing.T) {
				s := open(t)
				mustEnqueue(t, s, "B", "m1", "m2", "m3")
				for _, r := range [][2]string{{"B", "m2"}, {"B", "nope"}, {"Z", "m1"}} {
					if err := s.Remove(r[0], r[1]); err != nil {
						t.Fatalf("Remove(%s, %s): %v", r[0], r[1], err)
					}
				}
				if got, want := ids(t, s, "B"), []string{"m1", "m3"}; !slices.Equal(got, want) {
					t.Errorf("queue = %v, want %v", got, want)
				}
				// A removed id enqueued again goes to the back.
				mustEnqueue(t, s, "B", "m2")
				if got, want := ids(t, s, "B"), []string{"m1", "m3", "m2"}; !slices.Equal(got, want) {
					t.Errorf("queue after re-enqueue = %v, want %v", got, want)
				}
			})
			t.Run("peers sorted and non-empty", func(t *testing.T) {
				s := open(t)
				mustEnqueue(t, s, "C", "c1")
				mustEnqueue(t, s, "B", "b1")
				mustEnqueue(t, s, "D", "d1")
				if err := s.Remove("D", "d1"); err != nil {
					t.Fatal(err)
				}
				peers, err := s.Peers()
				if err != nil {
					t.Fatal(err)
				}
				if want := []string{"B", "C"}; !slices.Equal(peers, want) {
					t.Errorf("peers = %v, want %v", peers, want)
				}
			})
			t.Run("fields round-trip", func(t *testing.T) {
				s := open(t)
				at := time.Date(2026, 11, 28, 21, 0, 0, 123456789, time.UTC)
				in := Message{ID: "m1", From: "A", To: "B", Priority: 2, Payload: []byte("hello\x00world"), Submitted: at}
				if err := s.Enqueue(in); err != nil {
					t.Fatal(err)
				}
				q, err := s.Queued("B")
				if err != nil || len(q) != 1 {
					t.Fatalf("Queued = %v, %v", q, err)
				}
				got := q[0]
				if got.ID != "m1" || got.From != "A" || got.To != "B" || got.Priority != 2 ||
					!bytes.Equal(got.Payload, []byte("hello\x00world")) || !got.Submitted.Equal(at) {
					t.Errorf("round trip = %+v", got)
				}
			})
			t.Run("mark received", func(t *testing.T) {
				s := open(t)
				for _, c := range []struct {
					id    string
					first bool
				}{{"x", true}, {"y", true}, {"x", false}, {"y", false}, {"z", true}} {
					first, err := s.MarkReceived(c.id)
					if err != nil {
						t.Fatal(err)
					}
					if first != c.first {
						t.Errorf("MarkReceived(%s) = %v, want %v", c.id, first, c.first)
					}
				}
			})
			t.Run("concurrent use", func(t *testing.T) {
				s := open(t)
				var wg sync.WaitGroup
				for w := range 4 {
					wg.Go(func() {
						for i := range 10 {
							id := fmt.Sprintf("w%d-%d", w, i)
							if err := s.Enqueue(Message{ID: id, To: "B"}); err != nil {
								t.Error(err)
							}
							if _, err := s.MarkReceived(id); err != nil {
								t.Error(err)
							}
						}
					})
				}
				wg.Wait()
				if got := ids(t, s, "B"); len(got) != 40 {
					t.Errorf("queued %d, want 40", len(got))
				}
				// Each worker's messages keep their order.
				for w := range 4 {
					var mine []string
					for _, id := range ids(t, s, "B") {
						if id[1] == byte('0'+w) {
							mine = append(mine, id)
						}
					}
					for i, id := range mine {
						if want := fmt.Sprintf("w%d-%d", w, i); id != want {
							t.Errorf("worker %d position %d = %s, want %s", w, i, id, want)
						}
					}
				}
			})
			t.Run("closed", func(t *testing.T) {
				s := open(t)
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				if err := s.Enqueue(Message{ID: "m", To: "B"}); !errors.Is(err, ErrClosed) {
					t.Errorf("Enqueue after Close: %v", err)
				}
				if _, err := s.Queued("B"); !errors.Is(err, ErrClosed) {
					t.Errorf("Queued after Close: %v", err)
				}
				if _, err := s.Peers(); !errors.Is(err, ErrClosed) {
					t.Errorf("Peers after Close: %v", err)
				}
				if err := s.Remove("B", "m"); !errors.Is(err, ErrClosed) {
					t.Errorf("Remove after Close: %v", err)
				}
				if _, err := s.MarkReceived("m"); !errors.Is(err, ErrClosed) {
					t.Errorf("MarkReceived after Close: %v", err)
				}
			})
		})
	}
}

func TestBoltReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Session() != 1 {
		t.Errorf("first session = %d, want 1", s.Session())
	}
	var want []string
	for i := range 50 {
		id := fmt.Sprintf("m%03d", i)
		mustEnqueue(t, s, "B", id)
		if i%7 == 3 {
			if err := s.Remove("B", id); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want = append(want, id)
	}
	mustEnqueue(t, s, "C", "c1")
	for _, id := range []string{"r2", "r1"} {
		if _, err := s.MarkReceived(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Session() != 2 {
		t.Errorf("second session = %d, want 2", s.Session())
	}
	if got := ids(t, s, "B"); !slices.Equal(got, want) {
		t.Errorf("B after reopen = %v\nwant %v", got, want)
	}
	if peers, _ := s.Peers(); !slices.Equal(peers, []string{"B", "C"}) {
		t.Errorf("peers after reopen = %v", peers)
	}
	if first, err := s.MarkReceived("r1"); err != nil || first {
		t.Errorf("MarkReceived(r1) after reopen = %v, %v; want false (a duplicate)", first, err)
	}
	if first, err := s.MarkReceived("r3"); err != nil || !first {
		t.Errorf("MarkReceived(r3) after reopen = %v, %v; want true", first, err)
	}
	// Enqueue after reopen continues the sequence: new ids go to the back.
	mustEnqueue(t, s, "B", "late")
	if got := ids(t, s, "B"); got[len(got)-1] != "late" || len(got) != len(want)+1 {
		t.Errorf("B after late enqueue = %v", got)
	}
	rs, err := s.Receipts()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, r := range rs {
		got = append(got, fmt.Sprintf("%s@%d", r.ID, r.Session))
		if r.Seq != uint64(i+1) || r.At.IsZero() {
			t.Errorf("receipt %d = %+v", i, r)
		}
	}
	if want := []string{"r2@1", "r1@1", "r3@2"}; !slices.Equal(got, want) {
		t.Errorf("receipts = %v, want %v", got, want)
	}
}

func TestBoltOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The file lock keeps a second opener out (it gives up after a second).
	if s2, err := Open(dir); err == nil {
		_ = s2.Close()
		t.Error("a second Open of an open store succeeded")
	}
}

package store

import (
	"errors"
	"testing"
)

func TestMemoryQueueAndDedupe(t *testing.T) {
	s := NewMemory()
	for _, id := range []string{"m1", "m2", "m1"} {
		if err := s.Enqueue(Message{ID: id, From: "A", To: "B"}); err != nil {
			t.Fatal(err)
		}
	}
	q, _ := s.Queued("B")
	if len(q) != 2 || q[0].ID != "m1" || q[1].ID != "m2" {
		t.Fatalf("queue = %+v, want m1, m2", q)
	}
	if err := s.Remove("B", "m1"); err != nil {
		t.Fatal(err)
	}
	q, _ = s.Queued("B")
	if len(q) != 1 || q[0].ID != "m2" {
		t.Fatalf("queue after remove = %+v", q)
	}
	if peers, _ := s.Peers(); len(peers) != 1 || peers[0] != "B" {
		t.Fatalf("peers = %v", peers)
	}
	first, _ := s.MarkReceived("x")
	again, _ := s.MarkReceived("x")
	if !first || again {
		t.Fatalf("MarkReceived first=%v again=%v, want true false", first, again)
	}
	_ = s.Close()
	if err := s.Enqueue(Message{ID: "m3", To: "B"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

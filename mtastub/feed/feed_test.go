package feed

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSlowSubscriberGetsEverythingInOrder(t *testing.T) {
	var f Feed[int]
	f.Publish(-1)
	s := f.Subscribe(true)
	defer s.Close()
	const n = 10000
	for i := range n {
		f.Publish(i) // never blocks: nobody reads yet
	}
	for want := -1; want < n; want++ {
		if got := <-s.C(); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	if f.Len() != n+1 || len(f.History()) != n+1 {
		t.Fatalf("history has %d items, want %d", f.Len(), n+1)
	}
}

func TestCloseReleasesSubscribers(t *testing.T) {
	var f Feed[string]
	s1 := f.Subscribe(false)
	s2 := f.Subscribe(false)
	f.Publish("x")
	s1.Close()
	s1.Close() // idempotent
	if _, ok := <-s1.C(); ok {
		t.Fatal("closed subscription still delivers")
	}
	f.Close()
	for range s2.C() {
	}
	s3 := f.Subscribe(true)
	if _, ok := <-s3.C(); ok {
		t.Fatal("subscription to a closed feed is open")
	}
	s3.Close()
}

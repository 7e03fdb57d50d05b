package eventlog

import (
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

func fixedClock() func() time.Time {
	var mu sync.Mutex
	t := designTime
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func TestEmitCompletes(t *testing.T) {
	l := NewLog("B", fixedClock())
	defer l.Close()
	got := l.Emit(Record{ID: IDConnRefused, KCB: 6, OwnDN: DN("", "", "B")})
	if got.Time.IsZero() || got.Time.Location() != time.UTC || got.MTA != "B" || got.Source != Source ||
		got.Category != "Interoperability" || got.Type != "Warning" || got.Severity != 14 || got.Text != Render(got) {
		t.Errorf("Emit returned %+v", got)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 6789, time.UTC)
	if got := l.Emit(Record{ID: IDStart, Time: at}); !got.Time.Equal(at.Truncate(time.Microsecond)) {
		t.Errorf("given time %v became %v", at, got.Time)
	}
	recs := l.Records()
	if len(recs) != 2 || recs[0].ID != IDConnRefused || recs[1].ID != IDStart {
		t.Fatalf("Records = %+v", recs)
	}
	recs[0].ID = 0 // a copy: the log is unaffected
	if l.Records()[0].ID != IDConnRefused {
		t.Error("Records shares memory with the log")
	}
	if c := l.Counts(); !reflect.DeepEqual(c, map[int]int{IDConnRefused: 1, IDStart: 1}) {
		t.Errorf("Counts = %v", c)
	}
	if l.Count(IDConnRefused) != 1 || l.Len() != 2 || l.MTA() != "B" {
		t.Errorf("Count %d, Len %d, MTA %q", l.Count(IDConnRefused), l.Len(), l.MTA())
	}
}

// TestSlowSubscriber emits 10k events to a subscriber that reads nothing
// until every Emit has returned: the emitter must not block and the
// subscriber must then receive all of them, in order.
func TestSlowSubscriber(t *testing.T) {
	const n = 10000
	l := NewLog("A", nil)
	defer l.Close()
	slow := l.Subscribe()
	defer slow.Close()
	fast := l.Subscribe()
	defer fast.Close()

	fastDone := make(chan int)
	go func() {
		i := 0
		for r := range fast.C() {
			if r.Assoc != i {
				t.Errorf("fast subscriber: record %d has assoc %d", i, r.Assoc)
			}
			if i++; i == n {
				break
			}
		}
		fastDone <- i
	}()

	emitted := make(chan struct{})
	go func() {
		defer close(emitted)
		for i := 0; i < n; i++ {
			l.Emit(Record{ID: IDAssocError, Assoc: i})
		}
	}()
	select {
	case <-emitted:
	case <-time.After(10 * time.Second):
		t.Fatal("Emit blocked on a subscriber that is not reading")
	}

	for i := 0; i < n; i++ {
		select {
		case r, ok := <-slow.C():
			if !ok {
				t.Fatalf("channel closed after %d records", i)
			}
			if r.Assoc != i {
				t.Fatalf("record %d has assoc %d: out of order or lost", i, r.Assoc)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("record %d never arrived", i)
		}
	}
	select {
	case r := <-slow.C():
		t.Fatalf("extra record %+v", r)
	case <-time.After(20 * time.Millisecond):
	}
	if got := <-fastDone; got != n {
		t.Errorf("fast subscriber got %d records", got)
	}
}

func TestSubscribeSeesOnlyLater(t *testing.T) {
	l := NewLog("A", nil)
	defer l.Close()
	l.Emit(Record{ID: IDStart})
	s := l.Subscribe()
	defer s.Close()
	l.Emit(Record{ID: IDStop})
	if r := <-s.C(); r.ID != IDStop {
		t.Errorf("first record seen is %d, want %d", r.ID, IDStop)
	}
}

func TestSubscribeAllReplays(t *testing.T) {
	l := NewLog("A", nil)
	defer l.Close()
	l.Emit(Record{ID: IDStart})
	l.Emit(Record{ID: IDAssocError})
	s := l.SubscribeAll()
	defer s.Close()
	l.Emit(Record{ID: IDStop})
	for _, want := range []int{IDStart, IDAssocError, IDStop} {
		if r := <-s.C(); r.ID != want {
			t.Fatalf("got %d, want %d", r.ID, want)
		}
	}
}

func TestConcurrentEmitOrder(t *testing.T) {
	const writers, each = 8, 500
	l := NewLog("A", nil)
	defer l.Close()
	s := l.Subscribe()
	defer s.Close()
	var sunk []Record
	var sinkMu sync.Mutex
	l.SetSink(func(r Record) {
		sinkMu.Lock()
		sunk = append(sunk, r)
		sinkMu.Unlock()
	})
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			for i := 0; i < each; i++ {
				l.Emit(Record{ID: IDAssocError, KCB: w, Assoc: i})
			}
		})
	}
	wg.Wait()
	hist := l.Records()
	if len(hist) != writers*each || len(sunk) != len(hist) {
		t.Fatalf("history %d, sink %d, want %d", len(hist), len(sunk), writers*each)
	}
	for i := range hist {
		r := <-s.C()
		if r.KCB != hist[i].KCB || r.Assoc != hist[i].Assoc {
			t.Fatalf("subscriber record %d differs from history", i)
		}
		if sunk[i].KCB != hist[i].KCB || sunk[i].Assoc != hist[i].Assoc {
			t.Fatalf("sink record %d differs from history", i)
		}
	}
}

// TestSinkMayReadLog checks the sink runs synchronously, after the append,
// and without a lock that Records, Counts or Subscribe need.
func TestSinkMayReadLog(t *testing.T) {
	a, b := NewLog("A", nil), NewLog("B", nil)
	defer a.Close()
	defer b.Close()
	var merged []Record
	var mu sync.Mutex
	sink := func(r Record) {
		l := a
		if r.MTA == "B" {
			l = b
		}
		if n := l.Counts()[r.ID]; n == 0 {
			t.Errorf("sink saw %d before it was counted", r.ID)
		}
		if recs := l.Records(); recs[len(recs)-1].Text != r.Text {
			t.Error("sink ran before the append")
		}
		l.Subscribe().Close()
		mu.Lock()
		merged = append(merged, r)
		mu.Unlock()
	}
	a.SetSink(sink)
	b.SetSink(sink)
	a.Emit(Record{ID: IDAssocError})
	b.Emit(Record{ID: IDAssocErrorAnon})
	a.Emit(Record{ID: IDStateCheck})
	mu.Lock()
	defer mu.Unlock()
	if len(merged) != 3 || merged[0].MTA != "A" || merged[1].MTA != "B" || merged[2].ID != IDStateCheck {
		t.Errorf("merged = %+v", merged)
	}
	a.SetSink(nil)
	a.Emit(Record{ID: IDStop})
	if len(merged) != 3 {
		t.Error("removed sink still called")
	}
}

func TestSubscriptionClose(t *testing.T) {
	l := NewLog("A", nil)
	s := l.Subscribe()
	for i := 0; i < 100; i++ { // undelivered at Close: discarded
		l.Emit(Record{ID: IDAssocError})
	}
	s.Close()
	s.Close()                 // idempotent
	if _, ok := <-s.C(); ok { // closed and empty: queued records are discarded
		t.Error("C still open after Close")
	}
	l.Emit(Record{ID: IDStop}) // no panic on a closed subscription

	// Close while a receiver is blocked.
	s2 := l.Subscribe()
	got := make(chan bool)
	go func() {
		_, ok := <-s2.C()
		got <- ok
	}()
	time.Sleep(10 * time.Millisecond)
	s2.Close()
	if <-got {
		t.Error("blocked receiver got a record instead of the close")
	}
	l.Close()
	// goleak in TestMain checks the goroutines are gone.
}

func TestLogClose(t *testing.T) {
	l := NewLog("A", nil)
	subs := []*Subscription{l.Subscribe(), l.SubscribeAll(), l.Subscribe()}
	l.Emit(Record{ID: IDStart})
	l.Close()
	l.Close()
	for i, s := range subs {
		for range s.C() {
		}
		s.Close() // still fine after the log closed it
		if _, ok := <-s.C(); ok {
			t.Errorf("subscription %d open after Log.Close", i)
		}
	}
	late := l.Subscribe()
	if _, ok := <-late.C(); ok {
		t.Error("subscription to a closed log is open")
	}
	late.Close()
	if r := l.Emit(Record{ID: IDStop}); l.Len() != 2 || r.ID != IDStop {
		t.Error("Emit after Close did not record")
	}
}

func TestManySubscribersCloseRace(t *testing.T) {
	l := NewLog("A", nil)
	defer l.Close()
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			s := l.Subscribe()
			l.Emit(Record{ID: IDAssocError, Assoc: i})
			<-s.C()
			s.Close()
		})
	}
	wg.Wait()
	if l.Len() != 50 {
		t.Errorf("Len = %d", l.Len())
	}
}

// A sink installed after records were emitted receives them first, then
// every new one: no gap, no repeat.
func TestSetSinkReplaysHistory(t *testing.T) {
	l := NewLog("A", nil)
	defer l.Close()
	l.Emit(Record{ID: IDStart})
	l.Emit(Record{ID: IDAssocError})
	var got []int
	l.SetSink(func(r Record) { got = append(got, r.ID) })
	l.Emit(Record{ID: IDConnRefused})
	if want := []int{IDStart, IDAssocError, IDConnRefused}; !slices.Equal(got, want) {
		t.Errorf("sink saw %v, want %v", got, want)
	}
}

package mtastub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// pair starts A and B over real loopback TCP, A dialing B directly.
func pair(t *testing.T, mode string) (a, b *MTA) {
	t.Helper()
	ctx := context.Background()
	timers := kernel.Timers{Lifetime: 100 * time.Millisecond}
	b, err := Start(ctx, Config{Name: "B", Build: mode, KCBs: 4, Timers: timers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(ctx) })
	a, err = Start(ctx, Config{Name: "A", Build: mode, KCBs: 4, Timers: timers, Peers: map[string]string{"B": b.Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(ctx) })
	return a, b
}

func waitDelivered(t *testing.T, b *MTA, n int) {
	t.Helper()
	sub := b.SubscribeDeliveries(true)
	defer sub.Close()
	seen := map[string]bool{}
	timeout := time.After(10 * time.Second)
	for len(seen) < n {
		select {
		case d := <-sub.C():
			if seen[d.ID] {
				t.Fatalf("message %s delivered twice", d.ID)
			}
			seen[d.ID] = true
		case <-timeout:
			t.Fatalf("delivered %d of %d", len(seen), n)
		}
	}
}

func TestTransferExactlyOnceAndRelease(t *testing.T) {
	for _, mode := range []string{"sp2", "sp0"} {
		t.Run(string(mode), func(t *testing.T) {
			a, b := pair(t, mode)
			ctx := context.Background()
			const n = 50
			for i := range n {
				size := 100 + i*700 // up to ~34 KiB: several segments
				if err := a.Submit(ctx, store.Message{ID: fmt.Sprintf("m%d", i), To: "B", Payload: make([]byte, size)}); err != nil {
					t.Fatal(err)
				}
			}
			waitDelivered(t, b, n)
			// After lifetime the association is released and both pools return to baseline.
			deadline := time.Now().Add(5 * time.Second)
			for {
				sa, _ := a.Snapshot(ctx)
				sb, _ := b.Snapshot(ctx)
				if sa.Baseline() && sb.Baseline() && sa.Queued == 0 {
					if sa.Acked != n || sb.Delivered != n || sb.Duplicates != 0 {
						t.Fatalf("acked %d delivered %d duplicates %d", sa.Acked, sb.Delivered, sb.Duplicates)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not at baseline: A %+v\nB %+v", sa.KCBs, sb.KCBs)
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, m := range []*MTA{a, b} {
				if c := m.Events().Counts(); len(c) != 0 {
					t.Fatalf("%s logged events on a healthy link: %v", m.Name(), m.Events().Records())
				}
			}
		})
	}
}

func TestRestartKeepsStoreAndAddress(t *testing.T) {
	a, b := pair(t, "sp2")
	ctx := context.Background()
	addr := b.Addr()
	if err := b.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Addr() != addr {
		t.Fatalf("address changed across restart: %s -> %s", addr, b.Addr())
	}
	if err := a.Submit(ctx, store.Message{ID: "x", To: "B", Payload: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	waitDelivered(t, b, 1)
}

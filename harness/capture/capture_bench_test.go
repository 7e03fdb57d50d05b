package capture

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// BenchmarkTransfer measures one association's transfer rate between two
// stub MTAs on loopback, b.N messages with the default window, with
// capture off (no Tap: the MTAs as they run without --capture) and on
// (every write and read recorded into two pcapng files, no size limit in
// reach). benchstat compares them by name: Transfer/off/64KiB against
// Transfer/on/64KiB.
func BenchmarkTransfer(b *testing.B) {
	for _, size := range []int{64, 1 << 10, 64 << 10} {
		for _, mode := range []string{"off", "on"} {
			b.Run(mode+"/"+sizeName(size), func(b *testing.B) {
				benchTransfer(b, size, mode == "on")
			})
		}
	}
}

func sizeName(n int) string {
	if n >= 1<<10 {
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

func benchTransfer(b *testing.B, size int, on bool) {
	ctx := context.Background()
	cfgA := mtastub.Config{Name: "A", Timers: kernel.Timers{Lifetime: time.Hour}}
	cfgB := mtastub.Config{Name: "B", Timers: kernel.Timers{Lifetime: time.Hour}}
	var rec *Recorder
	l := Link{From: "A", To: "B"}
	if on {
		var err error
		rec, err = NewRecorder(Options{Dir: b.TempDir(), Limit: 1 << 40}, []Link{l})
		if err != nil {
			b.Fatal(err)
		}
		cfgA.Tap, cfgB.Tap = rec.Tap("A"), rec.Tap("B")
	}
	mb, err := mtastub.Start(ctx, cfgB)
	if err != nil {
		b.Fatal(err)
	}
	defer mb.Close(ctx)
	if rec != nil {
		rec.Route(l, mb.Addr())
	}
	cfgA.Peers = map[string]string{"B": mb.Addr()}
	ma, err := mtastub.Start(ctx, cfgA)
	if err != nil {
		b.Fatal(err)
	}
	defer ma.Close(ctx)
	sub := mb.SubscribeDeliveries(false)
	defer sub.Close()
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	submitted, delivered := 0, 0
	timeout := time.After(5 * time.Minute)
	for delivered < b.N {
		for submitted-delivered < 16 && submitted < b.N {
			if err := ma.Submit(ctx, store.Message{ID: "m" + strconv.Itoa(submitted), To: "B", Payload: payload}); err != nil {
				b.Fatal(err)
			}
			submitted++
		}
		select {
		case <-sub.C():
			delivered++
		case <-timeout:
			b.Fatalf("%d of %d delivered", delivered, b.N)
		}
	}
	b.StopTimer()
	if rec != nil {
		_ = ma.Close(ctx)
		_ = mb.Close(ctx)
		if _, err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

package bench

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// BenchmarkTransfer measures one association's transfer rate, b.N messages
// with a window of 4: the raw TCP framed echo and MiniP1 between two stub
// MTAs, directly and through the embedded Toxiproxy (no toxics); rawack is
// the raw baseline answered by an 8-byte ack instead of the echo.
// benchstat compares them by name, e.g. Transfer/minip1/direct/64KiB against
// Transfer/raw/direct/64KiB.
func BenchmarkTransfer(b *testing.B) {
	ctx := context.Background()
	echo, err := NewRawEcho()
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close(ctx)
	rawProxy, err := emb.CreateProxy(ctx, toxi.ProxyPrefix+"bench-raw", echo.Addr())
	if err != nil {
		b.Fatal(err)
	}
	direct, err := NewPair(ctx, "D", Window)
	if err != nil {
		b.Fatal(err)
	}
	defer direct.Close()
	viaProxy, err := NewPair(ctx, "E", Window)
	if err != nil {
		b.Fatal(err)
	}
	defer viaProxy.Close()
	mpProxy, err := emb.CreateProxy(ctx, toxi.ProxyPrefix+"bench-minip1", viaProxy.B.Addr())
	if err != nil {
		b.Fatal(err)
	}
	if err := viaProxy.SetRoute(ctx, mpProxy); err != nil {
		b.Fatal(err)
	}
	const long = time.Hour // b.N bounds the count
	for _, via := range []struct {
		name string
		raw  string
		pair *Pair
	}{{"direct", echo.Addr(), direct}, {"embedded", rawProxy, viaProxy}} {
		for _, size := range Sizes {
			b.Run("raw/"+via.name+"/"+SizeName(size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if _, err := RawTransfer(via.raw, size, Window, b.N, long, Echo); err != nil {
					b.Fatal(err)
				}
			})
			b.Run("rawack/"+via.name+"/"+SizeName(size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if _, err := RawTransfer(via.raw, size, Window, b.N, long, AckOnly); err != nil {
					b.Fatal(err)
				}
			})
			b.Run("minip1/"+via.name+"/"+SizeName(size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				if _, err := via.pair.Transfer(ctx, size, b.N, long); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkActuation measures the fault toggle calls (Disable, Enable,
// toxic add) and schedule tick → proxy disabled → first refused dial,
// through the embedded backend's in-process call and through the same
// server's HTTP API.
func BenchmarkActuation(b *testing.B) {
	ctx := context.Background()
	echo, err := NewRawEcho()
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer emb.Close(ctx)
	api, err := toxi.NewRemote(ctx, emb.URL(), toxi.RemoteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer api.Close(ctx)
	for _, be := range []struct {
		name string
		b    toxi.Backend
	}{{"embedded", emb}, {"http", api}} {
		name := toxi.ProxyPrefix + "bench-act-" + be.name
		addr, err := be.b.CreateProxy(ctx, name, echo.Addr())
		if err != nil {
			b.Fatal(err)
		}
		b.Run(be.name, func(b *testing.B) {
			var total, disable, enable, add time.Duration
			for range b.N {
				a, err := Actuation(ctx, be.b, name, addr)
				if err != nil {
					b.Fatal(err)
				}
				total += a.Total()
				disable += a.Disable
				enable += a.Enable
				add += a.ToxicAdd
			}
			per := func(d time.Duration) float64 { return us(d) / float64(b.N) }
			b.ReportMetric(per(total), "µs/actuation")
			b.ReportMetric(per(disable), "µs/disable")
			b.ReportMetric(per(enable), "µs/enable")
			b.ReportMetric(per(add), "µs/toxic-add")
		})
	}
}

// BenchmarkWake measures event emitted → subscriber woken (p50, p99) with
// 1 and 8 subscribers, b.N events.
func BenchmarkWake(b *testing.B) {
	for _, subs := range []int{1, 8} {
		b.Run(map[int]string{1: "subs=1", 8: "subs=8"}[subs], func(b *testing.B) {
			lat, err := Wake(context.Background(), subs, b.N, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(us(percentile(lat, 50)), "p50-µs")
			b.ReportMetric(us(percentile(lat, 99)), "p99-µs")
		})
	}
}

// BenchmarkScale opens 1,000 associations (50 initiator MTAs × 20
// responders, through one embedded Toxiproxy) per iteration and reports
// the heap (and its part in Toxiproxy's copy buffers), stack and RSS added
// per association.
func BenchmarkScale(b *testing.B) {
	sc := ScaleConfig{Initiators: 50, Responders: 20, Size: 1 << 10}
	if path := os.Getenv("MTASTORM_SCALE_HEAPPROFILE"); path != "" {
		// The heap with every association open (-memprofile sees it torn down).
		sc.AtPeak = func() {
			runtime.GC()
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if err := pprof.WriteHeapProfile(f); err != nil {
				b.Fatal(err)
			}
		}
	}
	for range b.N {
		r, err := Scale(context.Background(), sc)
		if err != nil {
			b.Fatal(err)
		}
		if r.Errors > 0 {
			b.Fatalf("%d errors: %v", r.Errors, r.ErrorNotes)
		}
		b.ReportMetric(r.PerAssoc(r.HeapDelta), "heap-KB/assoc")
		b.ReportMetric(r.PerAssoc(r.CopyBufDelta), "copybuf-KB/assoc")
		b.ReportMetric(r.PerAssoc(r.HeapDelta-r.CopyBufDelta), "ours-KB/assoc")
		b.ReportMetric(r.PerAssoc(r.StackDelta), "stack-KB/assoc")
		b.ReportMetric(r.PerAssoc(r.RSSDelta), "rss-KB/assoc")
		b.ReportMetric(float64(r.CPU.Microseconds())/float64(r.Want), "cpu-µs/assoc")
	}
}

package bench

import (
	"context"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/internal/testkit"
)

// These tests check that every measurement runs, counts what it claims and
// cleans up after itself. None of them asserts a speed.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRawTransferCountsEveryAnswer(t *testing.T) {
	echo, err := NewRawEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	for _, mode := range []RawMode{Echo, AckOnly} {
		for _, size := range Sizes {
			r, err := RawTransfer(echo.Addr(), size, Window, 25, time.Hour, mode)
			if err != nil {
				t.Fatalf("mode %d size %d: %v", mode, size, err)
			}
			if r.Msgs != 25 || r.Bytes != int64(25*size) || r.Elapsed <= 0 {
				t.Errorf("mode %d size %d: %+v, want 25 messages", mode, size, r)
			}
		}
	}
}

func TestPairTransferOneAssociation(t *testing.T) {
	ctx := testkit.Context(t)
	p, err := NewPair(ctx, "P", Window)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, size := range Sizes {
		r, err := p.Transfer(ctx, size, 30, time.Hour)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if r.Msgs != 30 || r.Assocs != 1 {
			t.Errorf("size %d: %+v, want 30 messages on 1 association", size, r)
		}
	}
}

func TestPairTransferThroughEmbeddedProxy(t *testing.T) {
	ctx := testkit.Context(t)
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close(context.Background())
	p, err := NewPair(ctx, "Q", Window)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := &route{name: "embedded", pair: p}
	echo, err := NewRawEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if err := proxyRoute(ctx, emb, r, echo.Addr()); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Transfer(ctx, 1<<10, 20, time.Hour); err != nil || got.Msgs != 20 {
		t.Fatalf("minip1 via proxy: %+v, %v", got, err)
	}
	if got, err := RawTransfer(r.raw, 1<<10, Window, 20, time.Hour, Echo); err != nil || got.Msgs != 20 {
		t.Fatalf("raw via proxy: %+v, %v", got, err)
	}
}

func TestActuationEndsInARefusedDial(t *testing.T) {
	ctx := testkit.Context(t)
	echo, err := NewRawEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close(context.Background())
	api, err := toxi.NewRemote(ctx, emb.URL(), toxi.RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close(context.Background())
	addr, err := emb.CreateProxy(ctx, toxi.ProxyPrefix+"act", echo.Addr())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []toxi.Backend{emb, api, emb} {
		a, err := Actuation(ctx, b, toxi.ProxyPrefix+"act", addr)
		if err != nil {
			t.Fatalf("%s: %v", b.URL(), err)
		}
		if a.Disable <= 0 || a.Refused <= 0 || a.Enable <= 0 || a.ToxicAdd <= 0 || a.Total() != a.Disable+a.Refused {
			t.Errorf("actuation %+v: every call and the refused dial must be timed", a)
		}
		h, err := BackToBack(ctx, b, toxi.ProxyPrefix+"act")
		if err != nil {
			t.Fatalf("%s: back to back: %v", b.URL(), err)
		}
		if h.Disable <= 0 || h.Enable <= 0 || h.ToxicAdd <= 0 || h.Refused != 0 || h.Tick != 0 {
			t.Errorf("back to back %+v: every call must be timed, nothing else", h)
		}
		ps, err := b.Proxies(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || !ps[0].Enabled || len(ps[0].Toxics) != 0 {
			t.Errorf("after the round: %+v, want the proxy enabled and without toxics", ps)
		}
	}
}

// TestRoundOrderSharesPredecessors checks that the embedded and the HTTP
// backend each follow every other backend's round as often as the other
// does, across round boundaries too, with and without an external server
// (give or take the first round, which follows nothing).
func TestRoundOrderSharesPredecessors(t *testing.T) {
	near := func(a, b int) bool { return a-b <= 1 && b-a <= 1 }
	for _, names := range [][]string{{"embedded", "http"}, {"embedded", "http", "external"}} {
		follows := map[string]int{} // "a<-b": a's round came right after b's
		prev := ""
		for i := range 100 {
			for _, n := range roundOrder(names, i) {
				if prev != "" {
					follows[n+"<-"+prev]++
				}
				prev = n
			}
		}
		for _, other := range names[2:] {
			if e, h := follows["embedded<-"+other], follows["http<-"+other]; e == 0 || !near(e, h) {
				t.Errorf("%v: embedded follows %s %d times, http %d times", names, other, e, h)
			}
		}
		if e, h := follows["embedded<-http"], follows["http<-embedded"]; e == 0 || !near(e, h) {
			t.Errorf("%v: embedded follows http %d times, http follows embedded %d times", names, e, h)
		}
		if e, h := follows["embedded<-embedded"], follows["http<-http"]; !near(e, h) {
			t.Errorf("%v: embedded follows itself %d times, http itself %d times", names, e, h)
		}
	}
}

// TestToxiproxyCopyBuffersCountsFourPerConnection profiles every
// allocation (rate 1), so the estimate must be exact: a proxied connection
// that has carried a round trip holds four 32 KiB io.Copy buffers.
func TestToxiproxyCopyBuffersCountsFourPerConnection(t *testing.T) {
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	ctx := testkit.Context(t)
	echo, err := NewRawEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	emb, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close(context.Background())
	addr, err := emb.CreateProxy(ctx, toxi.ProxyPrefix+"copybuf", echo.Addr())
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	before, _, err := ToxiproxyCopyBuffers()
	if err != nil {
		t.Fatal(err)
	}
	const conns = 5
	frame := []byte{0, 0, 0, 1, 'x'}
	for range conns {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(frame); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, len(frame))); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	after, samples, err := ToxiproxyCopyBuffers()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := after-before, int64(conns*4*32<<10); got != want || samples < conns*4 {
		t.Errorf("copy buffers +%d bytes (%d objects sampled), want %d", got, samples, want)
	}
}

func TestWakeMeasuresEverySubscriber(t *testing.T) {
	lat, err := Wake(testkit.Context(t), 3, 40, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 3*40 {
		t.Fatalf("%d latencies, want 120", len(lat))
	}
}

func TestScaleOpensEveryAssociation(t *testing.T) {
	peaked := false
	r, err := Scale(testkit.Context(t), ScaleConfig{Initiators: 3, Responders: 2, Size: 64, AtPeak: func() { peaked = true }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Want != 6 || r.Assocs != 6 || r.Errors != 0 || !peaked || r.RSSErr != nil {
		t.Fatalf("%+v (peak hook called: %v), want 6 associations and no error", r, peaked)
	}
	// Four 32 KiB copy buffers per proxied connection, estimated from a
	// sampled profile: within a factor of 2 either way.
	if want := int64(6 * 4 * 32 << 10); r.CopyBufDelta < want/2 || r.CopyBufDelta > 2*want || r.CopyBufSamples == 0 {
		t.Errorf("copy buffers %d bytes from %d samples, want about %d", r.CopyBufDelta, r.CopyBufSamples, want)
	}
}

func TestRunPairRunsBothScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Q152877 pair (~5s)")
	}
	runs, wall, err := RunPair(testkit.Context(t), []string{"../" + PairScenarios[0], "../" + PairScenarios[1]})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || wall <= 0 {
		t.Fatalf("%d runs in %v", len(runs), wall)
	}
	for _, r := range runs {
		if r.Scenario <= 0 || r.Wall < r.Scenario || r.Overhead() < 1 || r.LastStep <= 0 {
			t.Errorf("%s: wall %v, scenario %v, last step %v", r.Name, r.Wall, r.Scenario, r.LastStep)
		}
		if r.Verdict != "passed" {
			t.Errorf("%s: verdict %s", r.Name, r.Verdict)
		}
	}
}

func TestStartToxiproxyServer(t *testing.T) {
	argv := FindToxiproxyServer("..")
	if argv == nil {
		t.Skip("no bin/toxiproxy-server (go build -o bin/toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server)")
	}
	ctx := testkit.Context(t)
	s, err := StartToxiproxyServer(ctx, argv)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Errorf("URL %s", s.URL)
	}
	if _, err := s.Remote.Proxies(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestSizeName(t *testing.T) {
	for n, want := range map[int]string{64: "64B", 1024: "1KiB", 65536: "64KiB", 1000: "1000B", 1 << 20: "1MiB"} {
		if got := SizeName(n); got != want {
			t.Errorf("SizeName(%d) = %s, want %s", n, got, want)
		}
	}
}

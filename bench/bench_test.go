package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/faults/toxi"
)

// These tests check that every measurement runs, counts what it claims and
// cleans up after itself. None of them asserts a speed.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

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
	ctx := testCtx(t)
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
	ctx := testCtx(t)
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
	ctx := testCtx(t)
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
		if a.Total() <= 0 || a.Total() != a.Call+a.Refused {
			t.Errorf("actuation %+v", a)
		}
	}
}

func TestWakeMeasuresEverySubscriber(t *testing.T) {
	lat, err := Wake(testCtx(t), 3, 40, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 3*40 {
		t.Fatalf("%d latencies, want 120", len(lat))
	}
}

func TestScaleOpensEveryAssociation(t *testing.T) {
	peaked := false
	r, err := Scale(testCtx(t), ScaleConfig{Initiators: 3, Responders: 2, Size: 64, AtPeak: func() { peaked = true }})
	if err != nil {
		t.Fatal(err)
	}
	if r.Want != 6 || r.Assocs != 6 || r.Errors != 0 || !peaked {
		t.Fatalf("%+v (peak hook called: %v), want 6 associations and no error", r, peaked)
	}
}

func TestRunPairRunsBothScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Q152877 pair (~5s)")
	}
	runs, wall, err := RunPair(testCtx(t), []string{"../" + PairScenarios[0], "../" + PairScenarios[1]})
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
	ctx := testCtx(t)
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

func TestResultsTargetsAndFormats(t *testing.T) {
	rs := []Result{
		atLeast("a", 0.62, "ratio", 0.5, "d"),
		atLeast("b", 0.4, "ratio", 0.5, ""),
		atMost("c", 0.3, "ms", 1, ""),
		atMost("d", 61, "s", 60, ""),
		info("e", 0.7, "ratio", ""),
		skipped("f", "s", "<= 60", "slow"),
	}
	wantMet := []bool{true, false, true, false, true, false}
	for i, r := range rs {
		if r.Met != wantMet[i] {
			t.Errorf("%s: met %v, want %v", r.Figure, r.Met, wantMet[i])
		}
	}
	if rs[0].Target != ">= 0.5" || rs[2].Target != "<= 1" {
		t.Errorf("targets %q %q", rs[0].Target, rs[2].Target)
	}
	if AllMet(rs) || !AllMet([]Result{rs[0], rs[4], rs[5]}) {
		t.Error("AllMet: a skipped figure must not count, a missed one must")
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rs[:1]); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"figure": "a", "value": 0.62, "unit": "ratio", "target": ">= 0.5", "met": true, "detail": "d"}
	if len(got) != 1 || len(got[0]) != len(want) {
		t.Fatalf("JSON %s", buf.String())
	}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("JSON %s = %v, want %v", k, got[0][k], v)
		}
	}
	buf.Reset()
	if err := WriteTable(&buf, rs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"FIGURE", "skipped", "NO"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, buf.String())
		}
	}
}

func TestSizeName(t *testing.T) {
	for n, want := range map[int]string{64: "64B", 1024: "1KiB", 65536: "64KiB", 1000: "1000B", 1 << 20: "1MiB"} {
		if got := SizeName(n); got != want {
			t.Errorf("SizeName(%d) = %s, want %s", n, got, want)
		}
	}
}

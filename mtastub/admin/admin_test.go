package admin

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stub is one MTA behind its admin API on a real loopback server.
type stub struct {
	mta   *mtastub.MTA
	srv   *httptest.Server
	token string
}

func startStub(t *testing.T, cfg mtastub.Config, opts Options) *stub {
	t.Helper()
	ctx := context.Background()
	if cfg.Timers == (kernel.Timers{}) {
		cfg.Timers = kernel.Timers{Lifetime: 100 * time.Millisecond}
	}
	m, err := mtastub.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(m, opts))
	t.Cleanup(func() {
		// Closing the MTA ends follow streams; then the server can close.
		_ = m.Close(ctx)
		srv.Close()
	})
	return &stub{mta: m, srv: srv, token: opts.Token}
}

// do sends a request and returns the status code and body.
func (s *stub) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

func (s *stub) must(t *testing.T, method, path, body string, want int) string {
	t.Helper()
	code, out := s.do(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s %s: %d %s, want %d", method, path, body, code, out, want)
	}
	return out
}

func (s *stub) status(t *testing.T) Status {
	t.Helper()
	var st Status
	if err := json.Unmarshal([]byte(s.must(t, "GET", "/v1/status", "", 200)), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// stream opens a follow stream; lines arrive on the returned channel,
// which is closed when the stream ends. The headers have been received
// (the server is subscribed) when stream returns.
func (s *stub) stream(t *testing.T, path string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.srv.URL+path, nil)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	lines := make(chan string)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = resp.Body.Close()
		<-done
	})
	return lines
}

// next returns the next line of a stream, failing after d.
func next(t *testing.T, lines <-chan string, d time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("stream ended")
		}
		return l
	case <-time.After(d):
		t.Fatalf("no line within %v", d)
	}
	return ""
}

func readLines[T any](t *testing.T, body string) []T {
	t.Helper()
	var out []T
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if l == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		out = append(out, v)
	}
	return out
}

// TestStatusNamesBuildAndDefects: /v1/status names the build and its
// defects, and a defect set given for an experiment replaces the build's.
func TestStatusNamesBuildAndDefects(t *testing.T) {
	for _, tc := range []struct {
		cfg         mtastub.Config
		mode, build string
		defects     string
	}{
		{mtastub.Config{Name: "A", KCBs: 4, Build: "5.5-sp2"}, "5.5-sp2", "5.5-sp2", `["Q229643","Q232602"]`},
		{mtastub.Config{Name: "A", KCBs: 4, Build: "sp0"}, "sp0", "4.0", `["Q152877"]`},
		{mtastub.Config{Name: "A", KCBs: 4, Build: "5.5-sp3", Defects: []string{"Q232602"}, OverrideDefects: true}, "5.5-sp3", "5.5-sp3", `["Q232602"]`},
	} {
		a := startStub(t, tc.cfg, Options{})
		body := a.must(t, "GET", "/v1/status", "", 200)
		want := fmt.Sprintf(`"mode":%q,"build":%q,"defects":%s,`, tc.mode, tc.build, tc.defects)
		if !strings.Contains(body, want) {
			t.Errorf("%s: status %s, want it to hold %s", tc.build, body, want)
		}
	}
}

func TestHappyPath(t *testing.T) {
	b := startStub(t, mtastub.Config{Name: "B", KCBs: 4}, Options{})
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4, Org: "LAB"}, Options{})
	st := a.status(t)
	if st.Name != "A" || st.DN != "/O=LAB/OU=SITE/CN=CONFIGURATION/CN=SERVERS/CN=A/CN=MICROSOFT MTA" ||
		st.Mode != "sp2" || !st.Running || st.Pool.Size != 4 || st.Pool.Idle != 3 || st.Addr != a.mta.Addr() {
		t.Fatalf("status = %+v", st)
	}
	if st.Build != "4.0-sp2" || st.Defects == nil || len(st.Defects) != 0 {
		t.Fatalf("status build %q defects %#v, want 4.0-sp2 and none", st.Build, st.Defects)
	}

	out := a.must(t, "PUT", "/v1/peers/B", fmt.Sprintf(`{"address":%q}`, b.mta.Addr()), 200)
	if !strings.Contains(out, `"peer":"B"`) {
		t.Errorf("PUT peer answer = %s", out)
	}
	delivered := b.stream(t, "/v1/deliveries?follow=1")
	const n = 10
	for i := range n {
		body := fmt.Sprintf(`{"id":"m%d","to":"B","priority":1,"payload":"hello %d"}`, i, i)
		if i%2 == 1 {
			body = fmt.Sprintf(`{"id":"m%d","to":"B","size":%d}`, i, 1000*i)
		}
		out := a.must(t, "POST", "/v1/messages", body, 202)
		var r SubmitResponse
		if err := json.Unmarshal([]byte(out), &r); err != nil || r.ID != fmt.Sprintf("m%d", i) {
			t.Fatalf("submit answer %s: %v", out, err)
		}
	}
	seen := map[string]int{}
	for len(seen) < n {
		var d Delivery
		if err := json.Unmarshal([]byte(next(t, delivered, 10*time.Second)), &d); err != nil {
			t.Fatal(err)
		}
		seen[d.ID]++
		if d.From != "A" || d.To != "B" || d.Restored {
			t.Errorf("delivery = %+v", d)
		}
		if d.ID == "m3" && d.Size != 3000 {
			t.Errorf("m3 size = %d, want 3000", d.Size)
		}
	}
	ds := readLines[Delivery](t, b.must(t, "GET", "/v1/deliveries", "", 200))
	if len(ds) != n {
		t.Errorf("GET /v1/deliveries: %d lines, want %d", len(ds), n)
	}
	testkit.Eventually(t, 5*time.Second, "A's queue empty", func() bool { return a.status(t).Queued == 0 })
	if st := a.status(t); st.Counters.Submitted != n || st.Counters.Acked != n {
		t.Errorf("A counters = %+v", st.Counters)
	}
	if st := b.status(t); st.Counters.Delivered != n || st.Deliveries != n {
		t.Errorf("B counters = %+v, deliveries %d", st.Counters, st.Deliveries)
	}

	kcbs := readLines[[]kernel.KCBInfo](t, a.must(t, "GET", "/v1/kcbs", "", 200))
	if len(kcbs) != 1 || len(kcbs[0]) != 4 || kcbs[0][0].Index != 0 {
		t.Errorf("kcbs = %+v", kcbs)
	}

	st = a.status(t)
	out = a.must(t, "POST", "/v1/restart", "", 200)
	var after Status
	if err := json.Unmarshal([]byte(out), &after); err != nil || !after.Running || after.Addr != st.Addr || after.Counters.Submitted != 0 {
		t.Errorf("restart answer %s (%v)", out, err)
	}
	// The restarted A still reaches B.
	a.must(t, "POST", "/v1/messages", `{"id":"after-restart","to":"B"}`, 202)
	var d Delivery
	if err := json.Unmarshal([]byte(next(t, delivered, 10*time.Second)), &d); err != nil || d.ID != "after-restart" {
		t.Errorf("delivery after restart = %+v, %v", d, err)
	}
}

func TestFollowEventsSeesNewEvent(t *testing.T) {
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4}, Options{})
	// The events so far (none) then whatever comes.
	if out := a.must(t, "GET", "/v1/events", "", 200); out != "" {
		t.Fatalf("events before anything happened: %q", out)
	}
	lines := a.stream(t, "/v1/events?follow=1")
	// A peer whose address refuses: the open fails and A writes 1004.
	a.must(t, "PUT", "/v1/peers/Z", fmt.Sprintf(`{"address":%q}`, testkit.ClosedAddr(t)), 200)
	a.must(t, "POST", "/v1/messages", `{"id":"x1","to":"Z"}`, 202)
	var rec eventlog.Record
	if err := json.Unmarshal([]byte(next(t, lines, 10*time.Second)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.ID != eventlog.IDAssocError || rec.MTA != "A" || !strings.Contains(rec.Entity, "CN=Z") {
		t.Errorf("first streamed event = %+v", rec)
	}
	recs := readLines[eventlog.Record](t, a.must(t, "GET", "/v1/events", "", 200))
	if len(recs) == 0 || recs[0].ID != eventlog.IDAssocError {
		t.Errorf("GET /v1/events = %+v", recs)
	}
	if st := a.status(t); st.Events["1004"] == 0 || st.Queues["Z"] != 1 {
		t.Errorf("status events %v queues %v", st.Events, st.Queues)
	}
}

func TestBadRequests(t *testing.T) {
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4, Peers: map[string]string{"B": "127.0.0.1:9"}}, Options{})
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/v1/messages", ``, 400, "body: empty"},
		{"POST", "/v1/messages", `{"id":"m1",`, 400, "body: invalid JSON"},
		{"POST", "/v1/messages", `{"id":"m1" "to":"B"}`, 400, "body: invalid JSON at byte"},
		{"POST", "/v1/messages", `[1,2]`, 400, "body: want a JSON object"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","priority":"high"}`, 400, "priority: want a number, got string"},
		{"POST", "/v1/messages", `{"id":7,"to":"B"}`, 400, "id: want a string, got number"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","payload":3}`, 400, "payload: want a string"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","size":1.5}`, 400, "size: want a number"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","colour":"red"}`, 400, "colour: unknown field"},
		{"POST", "/v1/messages", `{"to":"B"}`, 400, "id: required"},
		{"POST", "/v1/messages", `{"id":"a b","to":"B"}`, 400, `id: \"a b\" has a space`},
		{"POST", "/v1/messages", `{"id":"` + strings.Repeat("x", 129) + `","to":"B"}`, 400, "id: 129 bytes, limit 128"},
		{"POST", "/v1/messages", `{"id":"m1"}`, 400, "to: required"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","priority":256}`, 400, "priority: 256 out of range 0..255"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","size":-1}`, 400, "size: -1 out of range"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","size":2000000}`, 400, "size: 2000000 out of range"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B","size":1,"payload":"x"}`, 400, "payload, size: give one, not both"},
		{"POST", "/v1/messages", `{"id":"m1","to":"B"} {"id":"m2"}`, 400, "body: unexpected data after the JSON object"},
		{"POST", "/v1/messages", `{"id":"m1","to":"Nobody"}`, 404, `to: unknown peer \"Nobody\"`},
		{"PUT", "/v1/peers/B", `{}`, 400, "address: required"},
		{"PUT", "/v1/peers/B", `{"address":"nohostport"}`, 400, `address: \"nohostport\" is not HOST:PORT`},
		{"PUT", "/v1/peers/B", `{"address":"h:0"}`, 400, `port \"0\" is not in 1..65535`},
		{"PUT", "/v1/peers/B", `{"address":":25"}`, 400, "has no host"},
		{"PUT", "/v1/peers/B", `{"addr":"h:25"}`, 400, "addr: unknown field"},
		{"GET", "/v1/events?follow=maybe", ``, 400, `follow: \"maybe\" is not a boolean`},
		{"GET", "/v1/deliveries?follow=maybe", ``, 400, `follow: \"maybe\"`},
		{"GET", "/v1/nothing", ``, 404, "no such endpoint: GET /v1/nothing"},
		{"DELETE", "/v1/status", ``, 405, "method DELETE not allowed on /v1/status (allowed: GET)"},
		{"GET", "/v1/messages", ``, 405, "allowed: POST"},
	} {
		code, out := a.do(t, c.method, c.path, c.body)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("%s %s %s: %d %s; want %d containing %q", c.method, c.path, c.body, code, out, c.code, c.want)
			continue
		}
		{
			var e Error
			if err := json.Unmarshal([]byte(out), &e); err != nil || e.Error == "" {
				t.Errorf("%s %s: error body %q is not {\"error\": ...}", c.method, c.path, out)
			}
		}
	}
	// None of the bad submissions was queued.
	if st := a.status(t); st.Counters.Submitted != 0 {
		t.Errorf("submitted = %d after bad requests", st.Counters.Submitted)
	}
	// A stopped MTA answers 503 to a submission and running=false to status.
	if err := a.mta.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, out := a.do(t, "POST", "/v1/messages", `{"id":"m1","to":"B"}`); code != 503 || !strings.Contains(out, "not running") {
		t.Errorf("submit to a stopped MTA: %d %s", code, out)
	}
	if st := a.status(t); st.Running {
		t.Errorf("stopped MTA status running")
	}
	if code, _ := a.do(t, "GET", "/v1/kcbs", ""); code != 503 {
		t.Errorf("kcbs of a stopped MTA: %d", code)
	}
}

func TestToken(t *testing.T) {
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4}, Options{Token: "s3cret"})
	for _, path := range []string{"/v1/status", "/metrics", "/v1/events?follow=1", "/v1/nothing"} {
		for _, hdr := range []string{"", "Bearer wrong", "s3cret", "Bearer s3cret2", "bearer s3cret"} {
			req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
			if hdr != "" {
				req.Header.Set("Authorization", hdr)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 401 || !strings.Contains(string(b), `"error"`) || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s with %q: %d %s, want 401", path, hdr, resp.StatusCode, b)
			}
		}
	}
	a.must(t, "GET", "/v1/status", "", 200)
	a.must(t, "GET", "/metrics", "", 200)
}

func TestMetrics(t *testing.T) {
	b := startStub(t, mtastub.Config{Name: "B", KCBs: 4}, Options{})
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4, Peers: map[string]string{"B": b.mta.Addr()}}, Options{})
	lines := b.stream(t, "/v1/deliveries?follow=1")
	a.must(t, "POST", "/v1/messages", `{"id":"m1","to":"B"}`, 202)
	next(t, lines, 10*time.Second)
	out := b.must(t, "GET", "/metrics", "", 200)
	for _, name := range []string{MetricUp, MetricAssociations, MetricKCBs, MetricKCBsLeaked, MetricDeliveries,
		MetricDuplicatesSuppressed, MetricSubmitted, MetricAcked, MetricResent, MetricRefused} {
		if !strings.Contains(out, "\n"+name+"{") {
			t.Errorf("/metrics of B lacks %s", name)
		}
	}
	for _, want := range []string{`mtastub_deliveries_total{mta="B"} 1`, `mtastub_kcbs{mta="B",state="Idle"}`, `mtastub_up{mta="B"} 1`} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics of B lacks %q:\n%s", want, out)
		}
	}
	// A peer that refuses: a queue and events by id on A.
	a.must(t, "PUT", "/v1/peers/Z", fmt.Sprintf(`{"address":%q}`, testkit.ClosedAddr(t)), 200)
	ev := a.stream(t, "/v1/events?follow=1")
	a.must(t, "POST", "/v1/messages", `{"id":"z1","to":"Z"}`, 202)
	next(t, ev, 10*time.Second)
	out = a.must(t, "GET", "/metrics", "", 200)
	for _, want := range []string{`mtastub_queue_depth{mta="A",peer="Z"} 1`, `mtastub_events_total{id="1004",mta="A"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics of A lacks %q:\n%s", want, out)
		}
	}
}

func TestRestoredDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mtastub.Start(ctx, mtastub.Config{Name: "B", KCBs: 4, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	a := startStub(t, mtastub.Config{Name: "A", KCBs: 4, Peers: map[string]string{"B": m.Addr()}}, Options{})
	sub := m.SubscribeDeliveries(true)
	for i := range 3 {
		a.must(t, "POST", "/v1/messages", fmt.Sprintf(`{"id":"old%d","to":"B"}`, i), 202)
	}
	for range 3 {
		select {
		case <-sub.C():
		case <-time.After(10 * time.Second):
			t.Fatal("first B did not get 3 deliveries")
		}
	}
	sub.Close()
	addr := m.Addr()
	if err := m.Close(ctx); err != nil { // closes the store too
		t.Fatal(err)
	}

	st2, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b := startStub(t, mtastub.Config{Name: "B", KCBs: 4, Store: st2, Listen: addr}, Options{Receipts: st2})
	lines := b.stream(t, "/v1/deliveries?follow=1")
	for i := range 3 {
		var d Delivery
		if err := json.Unmarshal([]byte(next(t, lines, 5*time.Second)), &d); err != nil {
			t.Fatal(err)
		}
		if d.ID != fmt.Sprintf("old%d", i) || !d.Restored || d.To != "B" || d.At.IsZero() {
			t.Errorf("restored delivery %d = %+v", i, d)
		}
	}
	a.must(t, "POST", "/v1/messages", `{"id":"new","to":"B"}`, 202)
	var d Delivery
	if err := json.Unmarshal([]byte(next(t, lines, 10*time.Second)), &d); err != nil || d.ID != "new" || d.Restored || d.From != "A" {
		t.Errorf("new delivery = %+v (%v)", d, err)
	}
	ds := readLines[Delivery](t, b.must(t, "GET", "/v1/deliveries", "", 200))
	if len(ds) != 4 || ds[3].ID != "new" {
		t.Errorf("deliveries = %+v", ds)
	}
}

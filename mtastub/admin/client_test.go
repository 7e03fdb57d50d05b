package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/internal/testkit"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// TestRoutesAreDESIGN pins the routes, which server and client share, to
// the endpoints DESIGN.md section 10 names: the round trip below cannot
// see a path both sides moved together.
func TestRoutesAreDESIGN(t *testing.T) {
	want := []string{
		"GET /v1/status", "GET /v1/kcbs", "GET /v1/events", "POST /v1/messages",
		"GET /v1/deliveries", "PUT /v1/peers/{name}", "POST /v1/restart", "GET /metrics",
	}
	var got []string
	for _, r := range routes {
		got = append(got, r.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes = %q\nwant     %q", got, want)
	}
	if p := routePeer.path("B 2/x"); p != "/v1/peers/B%202%2Fx" {
		t.Errorf("peer path = %q, want the name escaped as one segment", p)
	}
}

// hits records the routes a server answered with a 2xx status.
type hits struct {
	mu  sync.Mutex
	set map[string]bool
}

func (h *hits) add(pattern string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set[pattern] = true
}

func (h *hits) has(pattern string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.set[pattern]
}

// recordingWriter notes the request's route (set on the request by the
// server's mux before its handler runs) when a 2xx status is written.
type recordingWriter struct {
	http.ResponseWriter
	r     *http.Request
	h     *hits
	wrote bool
}

func (w *recordingWriter) WriteHeader(code int) {
	if !w.wrote && code/100 == 2 {
		w.h.add(w.r.Pattern)
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController flush the streams.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientStub starts an MTA behind its admin API on a loopback server that
// records the routes it answered, and returns a client of it.
func clientStub(t *testing.T, cfg mtastub.Config, token string, h *hits) (*mtastub.MTA, *Client) {
	t.Helper()
	ctx := context.Background()
	if cfg.Timers == (kernel.Timers{}) {
		cfg.Timers = kernel.Timers{Lifetime: 100 * time.Millisecond}
	}
	m, err := mtastub.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	api := New(m, Options{Token: token})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(&recordingWriter{ResponseWriter: w, r: r, h: h}, r)
	}))
	c, err := NewClient(srv.URL+"/", ClientOptions{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		_ = m.Close(ctx) // ends the follow streams; then the server can close
		srv.Close()
	})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || c.URL() != srv.URL {
		t.Fatalf("server %s, client %s: want a loopback server and the URL without the slash", srv.URL, c.URL())
	}
	return m, c
}

// TestClientRoundTrip drives every route through the client against the
// real server: A learns B's address, submits to it, B's deliveries and
// A's events arrive on follow streams and in full, the pool, the metrics
// and a restart. Every route must have answered 2xx to the client.
func TestClientRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &hits{set: map[string]bool{}}
	const token = "round-trip-token"
	mb, b := clientStub(t, mtastub.Config{Name: "B", KCBs: 4}, token, h)
	ma, a := clientStub(t, mtastub.Config{Name: "A", KCBs: 5, Org: "LAB", ExtendedEvents: true}, token, h)

	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "A" || !strings.Contains(st.DN, "/O=LAB/") || !st.Running || st.Pool.Size != 5 || st.Addr != ma.Addr() {
		t.Fatalf("status = %+v", st)
	}

	pr, err := a.SetPeer(ctx, "B", mb.Addr())
	if err != nil || pr != (PeerResponse{Peer: "B", Address: mb.Addr()}) {
		t.Fatalf("SetPeer = %+v, %v", pr, err)
	}

	// Follow B's deliveries until the two messages have arrived.
	type line[T any] struct {
		i int
		v T
	}
	delivered := make(chan line[Delivery], 16)
	fctx, stopFollow := context.WithCancel(ctx)
	followed := make(chan error, 2)
	go func() {
		followed <- b.FollowDeliveries(fctx, func(i int, d Delivery) error {
			delivered <- line[Delivery]{i, d}
			return nil
		})
	}()
	events := make(chan line[eventlog.Record], 256)
	go func() {
		followed <- a.FollowEvents(fctx, func(i int, r eventlog.Record) error {
			select {
			case events <- line[eventlog.Record]{i, r}:
			default: // the test reads the first few only
			}
			return nil
		})
	}()

	payload, prio, size := "hello B", 7, 3000
	for _, req := range []SubmitRequest{
		{ID: "m1", To: "B", Priority: &prio, Payload: &payload},
		{ID: "m2", To: "B", Size: &size},
	} {
		got, err := a.Submit(ctx, req)
		if err != nil {
			t.Fatalf("Submit %s: %v", req.ID, err)
		}
		if want := (SubmitResponse{ID: req.ID, To: "B", Size: map[string]int{"m1": len(payload), "m2": size}[req.ID]}); got != want {
			t.Errorf("Submit = %+v, want %+v", got, want)
		}
	}
	for want := range 2 {
		select {
		case l := <-delivered:
			if l.i != want || l.v.ID != []string{"m1", "m2"}[want] || l.v.From != "A" || l.v.To != "B" || l.v.Restored {
				t.Errorf("delivery line %d = %+v", l.i, l.v)
			}
		case <-ctx.Done():
			t.Fatalf("delivery %d: not within the test's timeout", want)
		}
	}
	ds, err := b.Deliveries(ctx)
	if err != nil || len(ds) != 2 || ds[0].ID != "m1" || ds[1].ID != "m2" || ds[1].Size != size {
		t.Errorf("Deliveries = %+v, %v", ds, err)
	}

	var first line[eventlog.Record]
	select {
	case first = <-events:
	case <-ctx.Done():
		t.Fatal("no event on the follow stream")
	}
	evs, err := a.Events(ctx)
	if err != nil || len(evs) == 0 {
		t.Fatalf("Events = %d records, %v", len(evs), err)
	}
	if first.i != 0 || first.v.ID != evs[0].ID || !first.v.Time.Equal(evs[0].Time) || first.v.Text != evs[0].Text {
		t.Errorf("first streamed event %d %+v, want index 0 and %+v", first.i, first.v, evs[0])
	}
	stopFollow()
	for range 2 {
		if err := <-followed; err == nil || !errors.Is(err, context.Canceled) {
			t.Errorf("a follow stream ended with %v, want the context's cancellation", err)
		}
	}

	kcbs, err := a.KCBs(ctx)
	if err != nil || len(kcbs) != 5 || kcbs[0].Index != 0 {
		t.Errorf("KCBs = %+v, %v", kcbs, err)
	}
	met, err := a.Metrics(ctx)
	if err != nil || !strings.Contains(string(met), MetricSubmitted+`{mta="A"} 2`) {
		t.Errorf("Metrics: %v; want %s of 2 in:\n%s", err, MetricSubmitted, met)
	}
	rs, err := a.Restart(ctx)
	if err != nil || !rs.Running || rs.Addr != st.Addr || rs.Counters.Submitted != 0 {
		t.Errorf("Restart = %+v, %v", rs, err)
	}

	for _, r := range routes {
		if !h.has(r.muxPattern()) {
			t.Errorf("route %s was not answered 2xx: the client does not cover it", r)
		}
	}
}

// TestClientErrors checks that a refusal comes back as an *APIError with
// the server's message, and a dead server as an error naming the call.
func TestClientErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &hits{set: map[string]bool{}}
	m, c := clientStub(t, mtastub.Config{Name: "A", KCBs: 3, ExtendedEvents: true}, "right", h) // the 9298 banner: an event to follow

	wrong, err := NewClient(c.URL(), ClientOptions{Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	var ae *APIError
	_, err = wrong.Status(ctx)
	if !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized || ae.Message != "wrong bearer token" ||
		ae.Method != "GET" || ae.Path != "/v1/status" {
		t.Errorf("wrong token: %v (%+v); want a 401 APIError", err, ae)
	}
	if err := wrong.FollowEvents(ctx, func(int, eventlog.Record) error { return nil }); !errors.As(err, &ae) || ae.Code != http.StatusUnauthorized {
		t.Errorf("wrong token, follow: %v; want a 401 APIError", err)
	}

	_, err = c.Submit(ctx, SubmitRequest{ID: "m1", To: "Nowhere"})
	if !errors.As(err, &ae) || ae.Code != http.StatusNotFound || !strings.Contains(ae.Message, `unknown peer "Nowhere"`) ||
		!strings.Contains(err.Error(), "admin: POST /v1/messages: 404 Not Found") {
		t.Errorf("unknown peer: %v; want a 404 APIError naming the peer", err)
	}
	_, err = c.SetPeer(ctx, "B", "nowhere")
	if !errors.As(err, &ae) || ae.Code != http.StatusBadRequest || ae.Path != "/v1/peers/B" || !strings.Contains(ae.Message, "address") {
		t.Errorf("bad address: %v; want a 400 APIError naming the field", err)
	}

	stop := errors.New("enough")
	if err := c.FollowEvents(ctx, func(int, eventlog.Record) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("FollowEvents = %v, want the handler's error", err)
	}

	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(ctx, SubmitRequest{ID: "m2", To: "B"}); !errors.As(err, &ae) || ae.Code != http.StatusServiceUnavailable {
		t.Errorf("closed MTA: %v; want a 503 APIError", err)
	}

	dead, err := NewClient("http://"+testkit.ClosedAddr(t), ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	if _, err := dead.Status(ctx); err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "admin: GET /v1/status: ") {
		t.Errorf("dead server: %v; want a transport error naming the call", err)
	}

	for _, bad := range []string{"", "127.0.0.1:7071", "ftp://x:1", "http://", "http://x:1/v1", "http://x:1?a=b", "://x"} {
		if _, err := NewClient(bad, ClientOptions{}); err == nil || !strings.Contains(err.Error(), "admin: client: base URL") {
			t.Errorf("NewClient(%q) = %v, want an error naming the URL", bad, err)
		}
	}
}

// Package admin serves the HTTP admin API of a standalone stub MTA
// (DESIGN.md section 10):
//
//	GET  /v1/status             name, dn, mode, running, addr, pool counts, queues, counters, events by id
//	GET  /v1/kcbs               the KCB pool, a JSON array of kernel.KCBInfo
//	GET  /v1/events             the event log, JSON lines; ?follow=1 writes the history, then
//	                            streams each new event (flushed per line) until the client goes away
//	POST /v1/messages           submit {"id","to","priority","payload"} or {"id","to","priority","size"}:
//	                            202 once the message is stored; 400 naming the field; 404 unknown peer
//	GET  /v1/deliveries         messages delivered to this MTA, JSON lines; ?follow=1 streams.
//	                            With a durable store (Options.Receipts) it starts with the
//	                            deliveries of earlier processes, marked "restored": true
//	PUT  /v1/peers/{name}       {"address":"HOST:PORT"}: where this MTA dials that peer
//	POST /v1/restart            re-initialise the KCB pool, keep the store (KB Q247419); answers the status
//	GET  /metrics               Prometheus metrics, from a registry of the server's own
//
// Errors are JSON objects {"error": "..."}. With a token set, every request
// needs the header "Authorization: Bearer TOKEN" and gets 401 without it.
//
// Server (New) is the server side and Client (NewClient) the Go client the
// harness drives remote stubs with; both take the paths from one table of
// routes (routes.go), and a test round-trips every route through both.
package admin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// Limits of POST /v1/messages.
const (
	// MaxIDLen is the longest message id accepted, in bytes.
	MaxIDLen = 128
	// MaxPayload is the largest payload accepted, in bytes (given or by size).
	MaxPayload = 1 << 20
	// maxBody bounds a request body: a payload escaped in JSON plus the rest.
	maxBody = 8*MaxPayload + 4096
)

// callTimeout bounds a call into the MTA made by one request.
const callTimeout = 10 * time.Second

// Options configures a Server. The zero value serves without a token.
type Options struct {
	// Token, when set, is the bearer token every request must carry.
	Token string
	// Receipts, when set (a durable store), makes /v1/deliveries start with
	// the messages delivered before this process opened the store, which the
	// MTA's in-memory delivery history does not hold. Those lines carry
	// "restored": true and only id, to and time.
	Receipts store.Receipts
	// Logger receives request errors (default: discard).
	Logger *slog.Logger
}

// Server is the admin API of one MTA; it is an http.Handler.
type Server struct {
	mta     *mtastub.MTA
	opts    Options
	log     *slog.Logger
	handler http.Handler
	reg     *prometheus.Registry
}

// New returns the admin API of m. Its metrics are kept in a registry of
// the server's own (Registry), not the global one.
func New(m *mtastub.MTA, opts Options) *Server {
	s := &Server{mta: m, opts: opts, log: opts.Logger, reg: prometheus.NewRegistry()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.reg.MustRegister(newCollector(m))
	mux := http.NewServeMux()
	mux.HandleFunc(routeStatus.muxPattern(), s.status)
	mux.HandleFunc(routeKCBs.muxPattern(), s.kcbs)
	mux.HandleFunc(routeEvents.muxPattern(), s.events)
	mux.HandleFunc(routeSubmit.muxPattern(), s.submit)
	mux.HandleFunc(routeDeliveries.muxPattern(), s.deliveries)
	mux.HandleFunc(routePeer.muxPattern(), s.setPeer)
	mux.HandleFunc(routeRestart.muxPattern(), s.restart)
	mux.Handle(routeMetrics.muxPattern(), promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The catch-all keeps error bodies JSON; it takes over the mux's
		// 405 too, so find the methods the path has.
		var allow []string
		for _, method := range routeMethods() {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, method)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	s.handler = mux
	if opts.Token != "" {
		s.handler = s.auth(mux)
	}
	return s
}

// Registry returns the server's Prometheus registry.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) auth(next http.Handler) http.Handler {
	want := []byte("Bearer " + s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="mtastub"`)
			msg := "missing bearer token (header Authorization: Bearer TOKEN)"
			if len(got) > 0 {
				msg = "wrong bearer token"
			}
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes v as a JSON document with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"admin: encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: msg})
}

func callCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), callTimeout)
}

// Pool counts the KCBs other than the listener.
type Pool struct {
	// Size is the number of KCBs, the listener's index 0 included.
	Size int `json:"size"`
	// Idle, Busy and Leaked are as in kernel.Snapshot.
	Idle   int `json:"idle"`
	Busy   int `json:"busy"`
	Leaked int `json:"leaked"`
	// Associations counts the KCBs in state Associated.
	Associations int `json:"associations"`
}

// Status is the body of GET /v1/status.
type Status struct {
	Name string `json:"name"`
	DN   string `json:"dn"`
	// Mode is the build's alias (sp0, sp2), or its name when it has none.
	Mode string `json:"mode"`
	// Build is the MTA's build (kernel.Builds); Defects the KB ids of the
	// defects it runs with.
	Build   string   `json:"build"`
	Defects []string `json:"defects"`
	Running bool     `json:"running"`
	// Addr is the address the MTA listens on.
	Addr string `json:"addr"`
	Pool Pool   `json:"pool"`
	// Queues gives the messages not yet acknowledged, per peer.
	Queues map[string]int `json:"queues"`
	// Queued is the sum of Queues.
	Queued int `json:"queued"`
	// Counters are the kernel's totals since the MTA last (re)started.
	Counters kernel.Counters `json:"counters"`
	// Events counts the event log's records by event id, across restarts.
	Events map[string]int `json:"events"`
	// Deliveries counts the messages delivered since this process started.
	Deliveries int `json:"deliveries"`
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := callCtx(r)
	defer cancel()
	st := Status{Name: s.mta.Name(), DN: s.mta.DN(), Mode: s.mta.Mode(), Build: s.mta.Build().Name,
		Defects: s.mta.Defects(), Addr: s.mta.Addr(),
		Queues: map[string]int{}, Events: map[string]int{}, Deliveries: len(s.mta.Deliveries())}
	for id, n := range s.mta.Events().Counts() {
		st.Events[strconv.Itoa(id)] = n
	}
	snap, err := s.mta.Snapshot(ctx)
	if err == nil {
		st.Running = true
		st.Pool = poolOf(snap)
		st.Queues, st.Queued, st.Counters = snap.Queues, snap.Queued, snap.Counters
		if st.Queues == nil {
			st.Queues = map[string]int{}
		}
	} else if s.mta.Running() {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("admin: status: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func poolOf(snap kernel.Snapshot) Pool {
	p := Pool{Size: len(snap.KCBs), Idle: snap.Idle, Busy: snap.Busy, Leaked: snap.Leaked}
	for _, k := range snap.KCBs {
		if k.Index > 0 && k.State == kernel.Associated {
			p.Associations++
		}
	}
	return p
}

func (s *Server) kcbs(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := callCtx(r)
	defer cancel()
	snap, err := s.mta.Snapshot(ctx)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("admin: kcbs: %v", err))
		return
	}
	kcbs := snap.KCBs
	if kcbs == nil {
		kcbs = []kernel.KCBInfo{}
	}
	writeJSON(w, http.StatusOK, kcbs)
}

// follow reports whether the request asks for a stream (?follow=1).
func follow(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("follow")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("follow: %q is not a boolean (want 1 or 0)", v)
	}
	return b, nil
}

// lineWriter writes JSON lines to a response, flushing each when streaming.
type lineWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	flush bool
}

func newLineWriter(w http.ResponseWriter, flush bool) *lineWriter {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	lw := &lineWriter{w: w, rc: http.NewResponseController(w), flush: flush}
	if flush {
		// Headers out now: once the client has them, it is subscribed.
		_ = lw.rc.Flush()
	}
	return lw
}

func (lw *lineWriter) write(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("admin: encode line: %w", err)
	}
	if _, err := lw.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("admin: write line: %w", err)
	}
	if lw.flush {
		if err := lw.rc.Flush(); err != nil {
			return fmt.Errorf("admin: flush: %w", err)
		}
	}
	return nil
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	f, err := follow(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !f {
		lw := newLineWriter(w, false)
		for _, rec := range s.mta.Events().Records() {
			if lw.write(rec) != nil {
				return
			}
		}
		return
	}
	sub := s.mta.Events().SubscribeAll()
	defer sub.Close()
	lw := newLineWriter(w, true)
	for {
		select {
		case rec, ok := <-sub.C():
			if !ok {
				return // the log was closed: the MTA is shutting down
			}
			if err := lw.write(rec); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// Delivery is one line of GET /v1/deliveries.
type Delivery struct {
	kernel.Delivery
	// Restored marks a delivery made before this process opened its durable
	// store: known from the store's received-id set, with id, to and time only.
	Restored bool `json:"restored,omitempty"`
}

// restored returns the deliveries recorded in the store's earlier sessions.
func (s *Server) restored() ([]Delivery, error) {
	if s.opts.Receipts == nil {
		return nil, nil
	}
	rs, err := s.opts.Receipts.Receipts()
	if err != nil {
		return nil, err
	}
	cur := s.opts.Receipts.Session()
	var out []Delivery
	for _, rc := range rs {
		if rc.Session < cur {
			out = append(out, Delivery{Delivery: kernel.Delivery{ID: rc.ID, To: s.mta.Name(), At: rc.At}, Restored: true})
		}
	}
	return out, nil
}

func (s *Server) deliveries(w http.ResponseWriter, r *http.Request) {
	f, err := follow(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	old, err := s.restored()
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("admin: deliveries: %v", err))
		return
	}
	if !f {
		lw := newLineWriter(w, false)
		for _, d := range old {
			if lw.write(d) != nil {
				return
			}
		}
		for _, d := range s.mta.Deliveries() {
			if lw.write(Delivery{Delivery: d}) != nil {
				return
			}
		}
		return
	}
	sub := s.mta.SubscribeDeliveries(true)
	defer sub.Close()
	lw := newLineWriter(w, true)
	for _, d := range old {
		if lw.write(d) != nil {
			return
		}
	}
	for {
		select {
		case d, ok := <-sub.C():
			if !ok {
				return
			}
			if err := lw.write(Delivery{Delivery: d}); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// SubmitRequest is the body of POST /v1/messages. Give either Payload (a
// string) or Size (a payload of that many filler bytes), not both.
type SubmitRequest struct {
	ID       string  `json:"id"`
	To       string  `json:"to"`
	Priority *int    `json:"priority,omitempty"`
	Payload  *string `json:"payload,omitempty"`
	Size     *int    `json:"size,omitempty"`
}

// SubmitResponse is the body of a 202 answer to POST /v1/messages.
type SubmitResponse struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Size int    `json:"size"`
}

// decodeBody decodes one JSON object from r's body into v, rejecting
// unknown fields and trailing data; the error names the offending field.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var me *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("body: empty; want a JSON object")
		case errors.As(err, &se):
			return fmt.Errorf("body: invalid JSON at byte %d: %v", se.Offset, se)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("body: invalid JSON: unexpected end")
		case errors.As(err, &te):
			if te.Field == "" {
				return fmt.Errorf("body: want a JSON object, got %s", te.Value)
			}
			return fmt.Errorf("%s: want %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		case errors.As(err, &me):
			return fmt.Errorf("body: larger than %d bytes", me.Limit)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fmt.Errorf("%s: unknown field", strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
		default:
			return fmt.Errorf("body: %v", err)
		}
	}
	if dec.More() {
		return errors.New("body: unexpected data after the JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("body: unexpected data after the JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch {
	case strings.HasPrefix(goKind, "int"), strings.HasPrefix(goKind, "uint"), strings.HasPrefix(goKind, "float"):
		return "a number"
	case goKind == "string":
		return "a string"
	case goKind == "bool":
		return "a boolean"
	}
	return goKind
}

// validate checks a submit request and returns the payload.
func (req *SubmitRequest) validate() ([]byte, error) {
	switch {
	case req.ID == "":
		return nil, errors.New("id: required")
	case len(req.ID) > MaxIDLen:
		return nil, fmt.Errorf("id: %d bytes, limit %d", len(req.ID), MaxIDLen)
	case strings.IndexFunc(req.ID, func(r rune) bool { return !unicode.IsPrint(r) || r == ' ' }) >= 0:
		return nil, fmt.Errorf("id: %q has a space or a control character", req.ID)
	case req.To == "":
		return nil, errors.New("to: required")
	case req.Priority != nil && (*req.Priority < 0 || *req.Priority > 255):
		return nil, fmt.Errorf("priority: %d out of range 0..255", *req.Priority)
	case req.Payload != nil && req.Size != nil:
		return nil, errors.New("payload, size: give one, not both")
	case req.Size != nil && (*req.Size < 0 || *req.Size > MaxPayload):
		return nil, fmt.Errorf("size: %d out of range 0..%d", *req.Size, MaxPayload)
	case req.Payload != nil && len(*req.Payload) > MaxPayload:
		return nil, fmt.Errorf("payload: %d bytes, limit %d", len(*req.Payload), MaxPayload)
	}
	if req.Payload != nil {
		return []byte(*req.Payload), nil
	}
	if req.Size != nil {
		return filler(*req.Size), nil
	}
	return nil, nil
}

// filler returns n bytes of a repeating printable pattern.
func filler(n int) []byte {
	const pat = "mtastub filler 0123456789 "
	return bytes.Repeat([]byte(pat), n/len(pat)+1)[:n]
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	var req SubmitRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	payload, err := req.validate()
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.mta.Running() {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s is not running", s.mta.Name()))
		return
	}
	msg := store.Message{ID: req.ID, To: req.To, Payload: payload}
	if req.Priority != nil {
		msg.Priority = uint8(*req.Priority)
	}
	ctx, cancel := callCtx(r)
	defer cancel()
	if err := s.mta.Submit(ctx, msg); err != nil {
		if errors.Is(err, kernel.ErrNoRoute) {
			writeError(w, http.StatusNotFound, fmt.Sprintf("to: unknown peer %q (no address configured; %s %s sets one)", req.To, routePeer.method, routePeer.path(req.To)))
			return
		}
		s.log.Error("submit", "id", req.ID, "to", req.To, "err", err)
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("admin: submit %s: %v", req.ID, err))
		return
	}
	writeJSON(w, http.StatusAccepted, SubmitResponse{ID: req.ID, To: req.To, Size: len(payload)})
}

// PeerRequest is the body of PUT /v1/peers/{name}.
type PeerRequest struct {
	Address string `json:"address"`
}

// PeerResponse is the body of a 200 answer to PUT /v1/peers/{name}.
type PeerResponse struct {
	Peer    string `json:"peer"`
	Address string `json:"address"`
}

// checkAddress reports whether addr is HOST:PORT with a port in 1..65535.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address: %q is not HOST:PORT", addr)
	}
	if host == "" {
		return fmt.Errorf("address: %q has no host", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("address: %q: port %q is not in 1..65535", addr, port)
	}
	return nil
}

func (s *Server) setPeer(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.TrimSpace(name) == "" || strings.ContainsFunc(name, unicode.IsSpace) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("name: %q is not a peer name", name))
		return
	}
	var req PeerRequest
	if err := decodeBody(w, r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Address == "" {
		writeError(w, http.StatusBadRequest, "address: required")
		return
	}
	if err := checkAddress(req.Address); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := callCtx(r)
	defer cancel()
	if err := s.mta.SetPeer(ctx, name, req.Address); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("admin: set peer %s: %v", name, err))
		return
	}
	writeJSON(w, http.StatusOK, PeerResponse{Peer: name, Address: req.Address})
}

func (s *Server) restart(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := callCtx(r)
	defer cancel()
	if err := s.mta.Restart(ctx); err != nil {
		s.log.Error("restart", "err", err)
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("admin: restart: %v", err))
		return
	}
	s.status(w, r)
}

// sortedIDs returns the keys of an id→count map in ascending order.
func sortedIDs(m map[int]int) []int {
	ids := make([]int, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

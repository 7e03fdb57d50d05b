package harness

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/admin"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// EnvAdminToken names the environment variable whose value, when
// Options.AdminToken is empty, is the bearer token sent to every remote
// MTA's admin API (the variable mtastub itself reads).
const EnvAdminToken = admin.EnvToken

// Bounds of the admin API calls made for a remote MTA.
const (
	// remoteCallTimeout bounds one call, as the admin client does.
	remoteCallTimeout = admin.DefaultCallTimeout
	// remoteRetry is the pause before a broken stream is reopened.
	remoteRetry = 100 * time.Millisecond
)

func adminToken(opts Options) string {
	if opts.AdminToken != "" {
		return opts.AdminToken
	}
	return os.Getenv(EnvAdminToken)
}

// checkRemoteActions rejects the actions that a remote MTA cannot carry
// out: its admin API offers restart, not stop and start.
func checkRemoteActions(sc *scenario.Scenario) error {
	remote := map[string]string{}
	for _, m := range sc.MTAs {
		if m.Admin != "" {
			remote[m.Name] = m.Admin
		}
	}
	for _, a := range sc.Actions {
		if u, ok := remote[a.MTA]; ok && a.Op != "restart" {
			return &InputError{Err: fmt.Errorf("harness: %s:%d: actions: %s: %s is a remote MTA (admin %s) and its admin API offers only restart; "+
				"use restart, or run %s in-process", sc.File, a.Line, a.Op, a.MTA, u, a.MTA)}
		}
	}
	return nil
}

// remoteConfig is what dialRemote needs besides the MTA's spec.
type remoteConfig struct {
	token string
	log   *slog.Logger
	sink  func(eventlog.Record)
}

// remoteNode is a standalone mtastub driven over its admin API. Its events
// and deliveries are followed with ?follow=1 streams, reopened where they
// broke off if a connection drops; Sync reads both in full at the end.
type remoteNode struct {
	name string
	c    *admin.Client
	mode string
	dn   string
	addr string
	log  *slog.Logger
	sink func(eventlog.Record)

	// build and defects are the stub's build and defect set, as its
	// status names them.
	build   string
	defects []string

	cancel context.CancelFunc
	wg     sync.WaitGroup

	// emitMu serialises handing events to the sink, which takes the run's
	// lock; it is never taken under that lock (mu may be).
	emitMu     sync.Mutex
	events     int // records of the MTA's event log consumed, those before the run included
	evSynced   bool
	mu         sync.Mutex
	running    bool
	deliveries []kernel.Delivery
	synced     bool
}

// dialRemote connects to the stub at spec.Admin, checks that it is the MTA
// the scenario describes and that it is fresh, and starts following its
// events and deliveries.
func dialRemote(ctx context.Context, sc *scenario.Scenario, spec scenario.MTASpec, cfg remoteConfig) (node, error) {
	where := fmt.Sprintf("%s:%d: mtas: %s: admin %s", sc.File, spec.Line, spec.Name, spec.Admin)
	c, err := admin.NewClient(spec.Admin, admin.ClientOptions{Token: cfg.token})
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("harness: %s: %w", where, err)}
	}
	n := &remoteNode{name: spec.Name, c: c, log: cfg.log, sink: cfg.sink}
	fail := func(err error) (node, error) {
		c.Close()
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		err = tokenHint(err)
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s unreachable or refusing: %w", spec.Name, spec.Admin, err)})
	}
	var bad []string
	if st.Name != spec.Name {
		bad = append(bad, fmt.Sprintf("name %q, the scenario says %q", st.Name, spec.Name))
	}
	if st.Build != spec.BuildName() {
		bad = append(bad, fmt.Sprintf("build %s, the scenario says %s (--build %s)", st.Build, spec.BuildName(), spec.BuildName()))
	}
	if want := spec.DefectSet(); !slices.Equal(st.Defects, want) {
		bad = append(bad, fmt.Sprintf("defects %v, the scenario says %v (--defects %s)", st.Defects, want, strings.Join(want, ",")))
	}
	if st.Running && st.Pool.Size != spec.KCBs {
		bad = append(bad, fmt.Sprintf("%d KCBs, the scenario says %d (--kcbs %d)", st.Pool.Size, spec.KCBs, spec.KCBs))
	}
	if dn := eventlog.DN(spec.Org, spec.Site, spec.Name); st.DN != dn {
		bad = append(bad, fmt.Sprintf("DN %s, the scenario says %s (--org %s --site %s)", st.DN, dn, spec.Org, spec.Site))
	}
	if len(bad) > 0 {
		return fail(&InputError{Err: fmt.Errorf("harness: %s: the stub there does not match the scenario: it has %s; start it with the flags of harness.StubArgs",
			where, strings.Join(bad, "; "))})
	}
	if !st.Running {
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s: the stub is not running", spec.Name, spec.Admin)})
	}
	old, err := n.fetchDeliveries(ctx)
	if err != nil {
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s: %w", spec.Name, spec.Admin, err)})
	}
	if len(old) > 0 || st.Queued > 0 {
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s: the stub is not fresh: it holds %d deliveries and %d queued messages from an earlier run, "+
			"and message ids repeat from run to run, so its store would suppress this run's mail as duplicates; start it anew with an empty --store",
			spec.Name, spec.Admin, len(old), st.Queued)})
	}
	evs, err := n.fetchEvents(ctx)
	if err != nil {
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s: %w", spec.Name, spec.Admin, err)})
	}
	n.mode, n.dn, n.running, n.events = st.Mode, st.DN, st.Running, len(evs)
	n.build, n.defects = st.Build, st.Defects
	n.addr, err = upstreamAddr(st.Addr, spec.Admin)
	if err != nil {
		return fail(&InfraError{Err: fmt.Errorf("harness: MTA %s: admin %s: %w", spec.Name, spec.Admin, err)})
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	n.cancel = cancel
	n.wg.Add(2)
	go n.follow(sctx, "events", func(ctx context.Context) error { return n.c.FollowEvents(ctx, n.eventLine) })
	go n.follow(sctx, "deliveries", func(ctx context.Context) error { return n.c.FollowDeliveries(ctx, n.deliveryLine) })
	return n, nil
}

// upstreamAddr is where a proxy reaches an MTA that reports listening on
// listen: a wildcard host (0.0.0.0, ::) is replaced by the admin URL's host,
// the name the harness reached the stub by.
func upstreamAddr(listen, adminURL string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("status: addr %q is not HOST:PORT", listen)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		u, err := url.Parse(adminURL)
		if err != nil {
			return "", fmt.Errorf("admin URL: %w", err)
		}
		host = u.Hostname()
	}
	return net.JoinHostPort(host, port), nil
}

func (n *remoteNode) fetchEvents(ctx context.Context) ([]eventlog.Record, error) {
	recs, err := n.c.Events(ctx)
	return recs, tokenHint(err)
}

func (n *remoteNode) fetchDeliveries(ctx context.Context) ([]kernel.Delivery, error) {
	ds, err := n.c.Deliveries(ctx)
	if err != nil {
		return nil, tokenHint(err)
	}
	out := make([]kernel.Delivery, len(ds))
	for i, d := range ds {
		out[i] = d.Delivery
	}
	return out, nil
}

// tokenHint adds to a 401 answer where the harness takes the token from.
func tokenHint(err error) error {
	var ae *admin.APIError
	if errors.As(err, &ae) && ae.Code == http.StatusUnauthorized {
		return fmt.Errorf("%w (set %s to the stub's token)", err, EnvAdminToken)
	}
	return err
}

// follow runs one of the client's Follow streams, which replay the whole
// history first, and reopens it when it breaks (the replay lets the
// handler skip what it has seen) until ctx is done.
func (n *remoteNode) follow(ctx context.Context, what string, stream func(context.Context) error) {
	defer n.wg.Done()
	for ctx.Err() == nil {
		err := stream(ctx)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("remote MTA stream broke; reopening", "mta", n.name, "stream", what, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(remoteRetry):
		}
	}
}

// eventLine hands event i of the MTA's log to the sink unless it was
// consumed already (written before the run, or seen on an earlier stream).
func (n *remoteNode) eventLine(i int, rec eventlog.Record) error {
	n.emitMu.Lock()
	defer n.emitMu.Unlock()
	if n.evSynced || i < n.events {
		return nil
	}
	n.events = i + 1
	n.sink(rec) // under emitMu: the MTA's order is kept
	return nil
}

// deliveryLine records delivery i unless it was seen already.
func (n *remoteNode) deliveryLine(i int, d admin.Delivery) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.synced || i < len(n.deliveries) {
		return nil
	}
	n.deliveries = append(n.deliveries, d.Delivery)
	return nil
}

// Name implements node.
func (n *remoteNode) Name() string { return n.name }

// Mode implements node: the build the stub reports.
func (n *remoteNode) Mode() string { return n.mode }

// Addr implements node: the stub's MiniP1 address as its proxies reach it.
func (n *remoteNode) Addr() string { return n.addr }

// Running implements node: as of the last status the harness read.
func (n *remoteNode) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.running
}

func (n *remoteNode) errorf(format string, args ...any) error {
	return fmt.Errorf("MTA %s (admin %s): %w", n.name, n.c.URL(), fmt.Errorf(format, args...))
}

// SetPeer implements node: PUT /v1/peers/{peer}.
func (n *remoteNode) SetPeer(ctx context.Context, peer, addr string) error {
	if _, err := n.c.SetPeer(ctx, peer, addr); err != nil {
		return n.errorf("set peer %s: %w", peer, tokenHint(err))
	}
	return nil
}

// Submit implements node: POST /v1/messages with the payload as a string.
func (n *remoteNode) Submit(ctx context.Context, msg store.Message) error {
	prio, payload := int(msg.Priority), string(msg.Payload)
	req := admin.SubmitRequest{ID: msg.ID, To: msg.To, Priority: &prio, Payload: &payload}
	if _, err := n.c.Submit(ctx, req); err != nil {
		return n.errorf("submit %s: %w", msg.ID, tokenHint(err))
	}
	return nil
}

// Snapshot implements node: GET /v1/status for the queues and counters and
// GET /v1/kcbs for the pool, whose counts are taken from the KCBs so that
// they agree with the states sampled.
func (n *remoteNode) Snapshot(ctx context.Context) (kernel.Snapshot, error) {
	snap := kernel.Snapshot{Name: n.name, DN: n.dn, Mode: n.mode, Build: n.build, Defects: n.defects}
	st, err := n.c.Status(ctx)
	if err != nil {
		return snap, n.errorf("status: %w", tokenHint(err))
	}
	n.mu.Lock()
	n.running = st.Running
	n.mu.Unlock()
	if !st.Running {
		return snap, n.errorf("not running")
	}
	kcbs, err := n.c.KCBs(ctx)
	if err != nil {
		return snap, n.errorf("kcbs: %w", tokenHint(err))
	}
	snap.KCBs, snap.Queues, snap.Queued, snap.Counters = kcbs, st.Queues, st.Queued, st.Counters
	for _, k := range kcbs {
		switch {
		case k.Index == 0:
		case k.State == kernel.Idle:
			snap.Idle++
		case k.Leaked:
			snap.Leaked++
		default:
			snap.Busy++
		}
	}
	return snap, nil
}

// Deliveries implements node: those the stream has brought so far.
func (n *remoteNode) Deliveries() []kernel.Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]kernel.Delivery(nil), n.deliveries...)
}

// Restart implements node: POST /v1/restart, which answers the status.
func (n *remoteNode) Restart(ctx context.Context) error {
	st, err := n.c.Restart(ctx)
	if err != nil {
		return n.errorf("restart: %w", tokenHint(err))
	}
	n.mu.Lock()
	n.running = st.Running
	n.mu.Unlock()
	return nil
}

// errRemoteStopStart is returned by Stop and StartAgain; checkRemoteActions
// keeps scenarios that would need them from running.
var errRemoteStopStart = errors.New("the admin API offers only restart")

// Stop implements node: not supported remotely.
func (n *remoteNode) Stop(context.Context) error { return n.errorf("stop: %w", errRemoteStopStart) }

// StartAgain implements node: not supported remotely.
func (n *remoteNode) StartAgain(context.Context) error {
	return n.errorf("start: %w", errRemoteStopStart)
}

// Sync implements node: it stops the streams and reads the event log and
// the deliveries in full, handing the sink the events the stream had not
// brought yet and replacing the deliveries with the full list.
func (n *remoteNode) Sync(ctx context.Context) error {
	n.stopStreams()
	evs, err := n.fetchEvents(ctx)
	if err != nil {
		return n.errorf("events: %w", err)
	}
	ds, err := n.fetchDeliveries(ctx)
	if err != nil {
		return n.errorf("deliveries: %w", err)
	}
	n.emitMu.Lock()
	if !n.evSynced {
		n.evSynced = true
		for _, rec := range evs[min(n.events, len(evs)):] {
			n.sink(rec)
		}
		n.events = len(evs)
	}
	n.emitMu.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.synced {
		n.synced = true
		n.deliveries = ds
	}
	return nil
}

func (n *remoteNode) stopStreams() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
}

// Close implements node: it stops following the stub and leaves it running.
func (n *remoteNode) Close(context.Context) error {
	n.stopStreams()
	n.c.Close()
	return nil
}

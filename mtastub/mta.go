// Package mtastub is a stub Exchange MTA: it speaks MiniP1 over TCP, owns
// a pool of kernel control blocks (KCBs) in one of the builds of
// CATALOGUE.md C1 (4.0 alias sp0 with the Q152877 defect, 4.0-sp2 alias
// sp2, and the 5.5 service packs with theirs: kernel.Builds), keeps an
// outbound queue and a received-id set in a store, and writes Windows-style
// event records.
//
// Start an MTA from a Config, Submit messages to a peer, watch it through
// Snapshot, Events and Deliveries, and Restart it (the KB workaround): the
// pool is re-initialised, the store and the listen address are kept.
package mtastub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/feed"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// Config configures one stub MTA. Zero values take the documented defaults.
type Config struct {
	// Name is the MTA's name (required).
	Name string
	// Org and Site build its DN (default ORG and SITE).
	Org, Site string
	// Build is the build's name or alias (kernel.Builds; default 4.0-sp2:
	// "sp0" and "sp2" name the two 4.0 builds).
	Build string
	// Defects, with OverrideDefects, replaces the build's defect set by
	// exactly these KB ids.
	Defects []string
	// OverrideDefects makes Defects the defect set, even when empty.
	OverrideDefects bool
	// KCBs is the pool size, listener included (default 8).
	KCBs int
	// Window is the most unacknowledged messages per association (default 4).
	Window int
	// Timers: a zero field takes its default (kernel.DefaultTimers).
	Timers kernel.Timers
	// LeakProbability is the chance a leaking defect leaks when its
	// trigger occurs (nil = 1.0).
	LeakProbability *float64
	// Seed seeds the MTA's random choices.
	Seed int64
	// ExtendedEvents turns on the companion events on a 4.0 build (a 5.5
	// build logs them anyway).
	ExtendedEvents bool
	// Listen is the address to listen on (default 127.0.0.1:0).
	Listen string
	// Peers maps peer names to the addresses this MTA dials for them.
	Peers map[string]string
	// Store keeps the queue and received ids (default: in memory).
	Store store.Store
	// Logger receives structured logs (default: discard).
	Logger *slog.Logger
	// Tap, when set, is called with every transport connection the MTA
	// dials (dialed: the address it dialed) or accepts (dialed: ""), and
	// the MTA reads and writes the connection it returns: a packet
	// recorder's hook (harness/capture). Nil leaves connections as they
	// are, at no cost.
	Tap func(conn net.Conn, dialed string) net.Conn
}

// MTA is a running (or stopped) stub MTA.
type MTA struct {
	cfg        Config
	build      kernel.BuildInfo
	defects    []string
	events     *eventlog.Log
	deliveries feed.Feed[kernel.Delivery]

	restartMu sync.Mutex // serialises StartAgain

	mu      sync.Mutex
	k       *kernel.Kernel
	addr    string
	peers   map[string]string
	running bool
}

// Start listens and starts the MTA's kernel.
func Start(ctx context.Context, cfg Config) (*MTA, error) {
	if cfg.Name == "" {
		return nil, errors.New("mtastub: config: name is required")
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	if cfg.Store == nil {
		cfg.Store = store.NewMemory()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	b, defects, err := kernel.ResolveBuild(cfg.Build, cfg.Defects, cfg.OverrideDefects)
	if err != nil {
		return nil, fmt.Errorf("mtastub: %s: config: %w", cfg.Name, err)
	}
	cfg.Build = b.Name
	m := &MTA{cfg: cfg, build: b, defects: defects, events: eventlog.NewLog(cfg.Name, nil), peers: map[string]string{}}
	for n, a := range cfg.Peers {
		m.peers[n] = a
	}
	if err := m.start(ctx, cfg.Listen); err != nil {
		return nil, err
	}
	return m, nil
}

// start listens and starts a kernel; m.mu must not be held.
func (m *MTA) start(ctx context.Context, listen string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("mtastub: %s: listen %s: %w", m.cfg.Name, listen, err)
	}
	m.mu.Lock()
	peers := make(map[string]string, len(m.peers))
	for n, a := range m.peers {
		peers[n] = a
	}
	m.mu.Unlock()
	var d net.Dialer
	dial := func(ctx context.Context, addr string) (net.Conn, error) {
		return d.DialContext(ctx, "tcp", addr)
	}
	kln := net.Listener(ln)
	if tap := m.cfg.Tap; tap != nil {
		kln = tapListener{Listener: ln, tap: tap}
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return tap(c, addr), nil
		}
	}
	k, err := kernel.Start(kernel.Config{
		Name: m.cfg.Name, Org: m.cfg.Org, Site: m.cfg.Site, Build: m.cfg.Build, Defects: m.cfg.Defects,
		OverrideDefects: m.cfg.OverrideDefects, KCBs: m.cfg.KCBs,
		Window: m.cfg.Window, Timers: m.cfg.Timers, LeakProbability: m.cfg.LeakProbability,
		Seed: m.cfg.Seed, ExtendedEvents: m.cfg.ExtendedEvents, Listener: kln, Dial: dial,
		Peers: peers, Events: m.events, Store: m.cfg.Store, Logger: m.cfg.Logger,
		Deliver: m.deliveries.Publish,
	})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("mtastub: %w", err)
	}
	m.mu.Lock()
	m.k, m.addr, m.running = k, ln.Addr().String(), true
	m.mu.Unlock()
	return nil
}

// tapListener hands every accepted connection to a Tap.
type tapListener struct {
	net.Listener
	tap func(conn net.Conn, dialed string) net.Conn
}

// Accept accepts a connection and returns what the tap makes of it.
func (l tapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.tap(c, ""), nil
}

// Name returns the MTA's name.
func (m *MTA) Name() string { return m.cfg.Name }

// Mode returns what the old mode fields show for the MTA's build: its
// alias (sp0, sp2) when it has one, else its name (5.5-sp2, ...).
func (m *MTA) Mode() string { return m.build.ModeName() }

// Build returns the MTA's build.
func (m *MTA) Build() kernel.BuildInfo {
	b, _ := kernel.LookupBuild(m.build.Name)
	return b
}

// Defects returns the KB ids of the defects the MTA runs with.
func (m *MTA) Defects() []string { return slices.Clone(m.defects) }

// Addr returns the address the MTA listens on; it is kept across restarts.
func (m *MTA) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.addr
}

// DN returns the MTA's distinguished name.
func (m *MTA) DN() string { return eventlog.DN(m.cfg.Org, m.cfg.Site, m.cfg.Name) }

// Events returns the MTA's event log; it lives across restarts.
func (m *MTA) Events() *eventlog.Log { return m.events }

// Deliveries returns every message delivered to this MTA's user so far.
func (m *MTA) Deliveries() []kernel.Delivery { return m.deliveries.History() }

// SubscribeDeliveries pushes every delivery after the call (with replay,
// every delivery so far first). The caller must Close the subscription.
func (m *MTA) SubscribeDeliveries(replay bool) *feed.Sub[kernel.Delivery] {
	return m.deliveries.Subscribe(replay)
}

func (m *MTA) kernel() (*kernel.Kernel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.running {
		return nil, fmt.Errorf("mtastub: %s: not running", m.cfg.Name)
	}
	return m.k, nil
}

// Submit accepts a message for transfer to msg.To; msg.ID must be unique.
// msg.Payload is not copied (it is stored and written to the wire as is):
// the caller must not modify it after Submit.
func (m *MTA) Submit(ctx context.Context, msg store.Message) error {
	k, err := m.kernel()
	if err != nil {
		return err
	}
	msg.From = m.cfg.Name
	if msg.Submitted.IsZero() {
		msg.Submitted = time.Now()
	}
	return k.Submit(ctx, msg)
}

// SetPeer points the connector for peer at addr (a proxy, typically).
func (m *MTA) SetPeer(ctx context.Context, peer, addr string) error {
	m.mu.Lock()
	m.peers[peer] = addr
	k, running := m.k, m.running
	m.mu.Unlock()
	if !running {
		return nil
	}
	return k.SetPeer(ctx, peer, addr)
}

// Snapshot returns the MTA's pool, queues and counters. A stopped MTA
// reports an empty pool and its stored queue.
func (m *MTA) Snapshot(ctx context.Context) (kernel.Snapshot, error) {
	k, err := m.kernel()
	if err != nil {
		return kernel.Snapshot{Name: m.cfg.Name, DN: m.DN(), Mode: m.Mode(), Build: m.build.Name, Defects: m.Defects()}, err
	}
	return k.Snapshot(ctx)
}

// Running reports whether the MTA is started.
func (m *MTA) Running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running
}

// Stop stops the MTA: listener and connections closed, timers cancelled,
// goroutines ended. The store and event log are kept. Stopping a stopped
// MTA is a no-op.
func (m *MTA) Stop(ctx context.Context) error {
	m.mu.Lock()
	k, running := m.k, m.running
	m.running = false
	m.mu.Unlock()
	if !running {
		return nil
	}
	return k.Stop(ctx)
}

// StartAgain starts a stopped MTA on the same address with the same store.
func (m *MTA) StartAgain(ctx context.Context) error {
	m.restartMu.Lock()
	defer m.restartMu.Unlock()
	m.mu.Lock()
	running, addr := m.running, m.addr
	m.mu.Unlock()
	if running {
		return nil
	}
	return m.start(ctx, addr)
}

// Restart stops and starts the MTA: a fresh KCB pool, the same store,
// listen address and event log (KB Q247419's workaround).
func (m *MTA) Restart(ctx context.Context) error {
	if err := m.Stop(ctx); err != nil {
		return err
	}
	return m.StartAgain(ctx)
}

// Close stops the MTA and closes its store and its subscriptions.
func (m *MTA) Close(ctx context.Context) error {
	err := m.Stop(ctx)
	m.events.Close()
	m.deliveries.Close()
	if cerr := m.cfg.Store.Close(); err == nil {
		err = cerr
	}
	return err
}

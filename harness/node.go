package harness

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// node is one MTA of a run as the harness drives it: a stub started
// in-process (localNode) or a standalone mtastub reached over its admin API
// (remoteNode, DESIGN.md section 10). The run sees both the same way; every
// event a node writes reaches the run's sink in the MTA's own order.
type node interface {
	// Name is the MTA's name; Mode its build.
	Name() string
	Mode() string
	// Addr is where the MTA listens for MiniP1: the upstream of the links
	// that lead to it. It is kept across restarts.
	Addr() string
	// SetPeer points the MTA's connector for peer at addr (a proxy).
	SetPeer(ctx context.Context, peer, addr string) error
	// Running reports whether the MTA is started (as last known).
	Running() bool
	// Submit hands msg to the MTA for transfer to msg.To.
	Submit(ctx context.Context, msg store.Message) error
	// Snapshot returns the pool, queues and counters; it fails for a
	// stopped MTA, with the name, DN and mode still filled in.
	Snapshot(ctx context.Context) (kernel.Snapshot, error)
	// Deliveries returns every message delivered to the MTA's user so far.
	Deliveries() []kernel.Delivery
	// Restart, Stop and StartAgain are the scenario's actions.
	Restart(ctx context.Context) error
	Stop(ctx context.Context) error
	StartAgain(ctx context.Context) error
	// Sync brings the events handed to the sink and Deliveries up to date
	// with the MTA; after it no more events reach the sink.
	Sync(ctx context.Context) error
	// Close releases what the harness holds: an in-process MTA is stopped
	// and its store closed; a remote one is left running.
	Close(ctx context.Context) error
}

// localNode is an MTA started in this process.
type localNode struct{ *mtastub.MTA }

// Sync is a no-op: an in-process MTA hands its events to the sink
// synchronously and its deliveries are read directly.
func (localNode) Sync(context.Context) error { return nil }

// startNode starts (or, for an MTA with admin:, connects to) the MTA of
// spec and hands its events to sink; tap (nil: none) records an
// in-process MTA's connections. The error is an *InputError or an
// *InfraError.
func startNode(ctx context.Context, sc *scenario.Scenario, spec scenario.MTASpec, opts Options, log *slog.Logger, sink func(eventlog.Record), tap func(net.Conn, string) net.Conn) (node, error) {
	if spec.Admin != "" {
		return dialRemote(ctx, sc, spec, remoteConfig{token: adminToken(opts), log: log, sink: sink})
	}
	lp := spec.LeakProbability
	m, err := mtastub.Start(ctx, mtastub.Config{
		Name: spec.Name, Org: spec.Org, Site: spec.Site, Build: spec.BuildName(),
		Defects: spec.Defects, OverrideDefects: spec.OverrideDefects, KCBs: spec.KCBs,
		Window: spec.Window, Timers: kernel.Timers(spec.Timers), LeakProbability: &lp, Seed: sc.Seed,
		ExtendedEvents: spec.ExtendedEvents, Logger: log, Tap: tap,
	})
	if err != nil {
		return nil, &InfraError{Err: fmt.Errorf("harness: start %s: %w", spec.Name, err)}
	}
	m.Events().SetSink(sink)
	return localNode{m}, nil
}

package kernel

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/minip1"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/store"
)

// Timers are the kernel's protocol timers (scenario key `timers:`).
type Timers struct {
	// Open bounds each open state (TConPending, OpenPending) of an association.
	Open time.Duration
	// OpenInterval is the wait between a failed open and the next attempt.
	OpenInterval time.Duration
	// Transfer bounds the wait for an ACK, plus in-flight bytes at FloorRate.
	Transfer time.Duration
	// Reassembly bounds the time from the first byte of a frame to its last.
	Reassembly time.Duration
	// Lifetime is how long an initiator keeps an idle association open.
	Lifetime time.Duration
	// Disconnect bounds TDiscPending, and with Q152877 how long a stale path stays attached.
	Disconnect time.Duration
}

// DefaultTimers returns the test-scale defaults of DESIGN.md section 3.
func DefaultTimers() Timers {
	return Timers{
		Open:         300 * time.Millisecond,
		OpenInterval: 100 * time.Millisecond,
		Transfer:     500 * time.Millisecond,
		Reassembly:   300 * time.Millisecond,
		Lifetime:     time.Second,
		Disconnect:   200 * time.Millisecond,
	}
}

// FloorRate is the slowest link, in bytes per second, the transfer timer allows for.
const FloorRate = 256 << 10

// Config configures a Kernel. The zero value of every field but Name,
// Listener and Dial is valid and takes the documented default.
type Config struct {
	// Name is the MTA's name, its CN and its transport selector.
	Name string
	// Org and Site build the MTA's DN (default ORG, SITE).
	Org, Site string
	// Build is the build's name or alias (CATALOGUE.md C1; default
	// DefaultBuild, 4.0-sp2). It sets the banners and the defects.
	Build string
	// Defects, with OverrideDefects, replaces the build's defect set by
	// exactly these KB ids (an experiment: a defect moved into another
	// build). Without OverrideDefects it must be empty.
	Defects []string
	// OverrideDefects makes Defects the defect set, even when empty.
	OverrideDefects bool
	// KCBs is the pool size including the listener's index 0 (default 8, min 2).
	KCBs int
	// Window is the most unacknowledged messages per association (default 4).
	Window int
	// Timers default to DefaultTimers; a zero field takes its default.
	Timers Timers
	// LeakProbability is the chance that a leaking defect leaks the KCB
	// when its trigger occurs (Q152877, Q229643, Q247419; for Q232602 that
	// the association is held); nil means 1.0.
	LeakProbability *float64
	// Seed seeds the kernel's random choices (with the MTA name mixed in).
	Seed int64
	// ExtendedEvents turns on the companion events (9156, 9215, 9221, 1294,
	// 9298/9299) on a 4.0 build; a 5.5 build logs them anyway.
	ExtendedEvents bool
	// FrameMax is the largest frame offered in CR (default 8192).
	FrameMax int
	// Listener accepts inbound associations; the kernel closes it on Stop.
	Listener net.Listener
	// Dial opens a transport connection to a peer address.
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Peers maps a peer MTA name to the address its connector dials.
	Peers map[string]string
	// PeerDNs optionally gives a peer's DN; the default is built from Org and Site.
	PeerDNs map[string]string
	// Events receives the MTA's event records (required).
	Events *eventlog.Log
	// Store holds the outbound queue and the received ids (default: in memory).
	Store store.Store
	// Deliver is called, on the kernel goroutine, for each message delivered
	// to the local user for the first time; it must not block.
	Deliver func(Delivery)
	// Logger receives debug logs of state transitions (default: discard).
	Logger *slog.Logger
}

// Delivery is one message handed to the local user.
type Delivery struct {
	ID   string    `json:"id"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Size int       `json:"size"`
	At   time.Time `json:"time"`
	// Assoc is the association it arrived on; KCB the control block.
	Assoc int `json:"assoc"`
	KCB   int `json:"kcb"`
}

// Kernel is a running MTA kernel: a KCB pool owned by one goroutine.
type Kernel struct {
	cfg    Config
	log    *slog.Logger
	dn     string
	rng    *rand.Rand
	evc    chan event
	calls  chan func()
	done   chan struct{}
	stopMu sync.Mutex
	stoppd bool
	wg     sync.WaitGroup // every goroutine the kernel started
	owner  sync.WaitGroup

	pathsMu sync.Mutex
	paths   map[*path]struct{} // every connection not yet closed: current, stale or finishing

	build   BuildInfo
	defects []string
	hooks   hooks
	// companions is whether the companion events are on: always on a 5.5
	// build, with ExtendedEvents on a 4.0 build (CATALOGUE.md C1).
	companions bool
	// pop4 is whether failed outbound opens log 4284 and 4287: a 5.5 build.
	pop4 bool

	// owned by the kernel goroutine:
	kcbs       []*kcb
	connectors map[string]*connector
	nextAssoc  int
	counters   Counters
	dialCancel map[int]context.CancelFunc
}

// Counters are an MTA's running totals.
type Counters struct {
	Submitted  int `json:"submitted"`
	Acked      int `json:"acked"`
	Delivered  int `json:"delivered"`
	Duplicates int `json:"duplicates"`
	Resent     int `json:"resent"`
	Refused    int `json:"refused"`
}

// ErrStopped is returned by calls on a stopped kernel.
var ErrStopped = errors.New("kernel: stopped")

// ErrNoRoute is returned by Submit for a peer the MTA has no address for.
var ErrNoRoute = errors.New("no route to peer")

// Start validates cfg, loads the outbound queues from the store and starts
// the kernel goroutine and the listener.
func Start(cfg Config) (*Kernel, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	build, defects, err := cfg.resolveBuild()
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write([]byte(cfg.Name))
	k := &Kernel{
		cfg:        cfg,
		build:      build,
		defects:    defects,
		hooks:      hooksFor(defects),
		companions: cfg.ExtendedEvents || build.Product == product55,
		pop4:       build.Product == product55,
		log:        cfg.Logger.With("mta", cfg.Name),
		dn:         eventlog.DN(cfg.Org, cfg.Site, cfg.Name),
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64())),
		evc:        make(chan event, 256),
		calls:      make(chan func()),
		done:       make(chan struct{}),
		connectors: map[string]*connector{},
		dialCancel: map[int]context.CancelFunc{},
		paths:      map[*path]struct{}{},
	}
	k.kcbs = make([]*kcb, cfg.KCBs)
	for i := range k.kcbs {
		k.kcbs[i] = &kcb{idx: i}
	}
	peers, err := cfg.Store.Peers()
	if err != nil {
		return nil, fmt.Errorf("kernel: %s: load queues: %w", cfg.Name, err)
	}
	for _, p := range peers {
		msgs, err := cfg.Store.Queued(p)
		if err != nil {
			return nil, fmt.Errorf("kernel: %s: load queue for %s: %w", cfg.Name, p, err)
		}
		c := k.connector(p)
		for i := range msgs {
			// It may have been sent before the restart: a send now is a re-send.
			c.queue = append(c.queue, &outMsg{Message: msgs[i], sent: 1})
		}
	}
	if k.companions {
		// Logged before the owner runs: when Start returns, the banner is
		// in the log, before any event of the new life.
		k.emit(eventlog.Record{ID: eventlog.IDStart, Build: build.Banner})
	}
	k.owner.Add(1)
	go k.run()
	k.wg.Add(1)
	go k.acceptLoop()
	k.post(event{kind: evCall, fn: func() {
		for _, c := range k.connectors {
			k.kick(c)
		}
	}})
	return k, nil
}

func (cfg *Config) normalize() error {
	if cfg.Name == "" {
		return errors.New("kernel: config: name is empty")
	}
	if cfg.Listener == nil || cfg.Dial == nil {
		return fmt.Errorf("kernel: %s: config: Listener and Dial are required", cfg.Name)
	}
	if cfg.Events == nil {
		return fmt.Errorf("kernel: %s: config: Events is required", cfg.Name)
	}
	return cfg.withDefaults()
}

// withDefaults checks the values of cfg and gives its zero fields their
// defaults.
func (cfg *Config) withDefaults() error {
	b, _, err := cfg.resolveBuild()
	if err != nil {
		return err
	}
	cfg.Build = b.Name
	if cfg.KCBs == 0 {
		cfg.KCBs = 8
	}
	if cfg.KCBs < 2 {
		return fmt.Errorf("kernel: %s: config: kcbs %d (want at least 2: index 0 is the listener)", cfg.Name, cfg.KCBs)
	}
	if cfg.Window <= 0 {
		cfg.Window = 4
	}
	if cfg.Window > 255 {
		cfg.Window = 255
	}
	d := DefaultTimers()
	t := &cfg.Timers
	for _, p := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&t.Open, d.Open}, {&t.OpenInterval, d.OpenInterval}, {&t.Transfer, d.Transfer},
		{&t.Reassembly, d.Reassembly}, {&t.Lifetime, d.Lifetime}, {&t.Disconnect, d.Disconnect}} {
		if *p.v <= 0 {
			*p.v = p.def
		}
	}
	if cfg.LeakProbability != nil && (*cfg.LeakProbability < 0 || *cfg.LeakProbability > 1) {
		return fmt.Errorf("kernel: %s: config: leak_probability %v (want 0..1)", cfg.Name, *cfg.LeakProbability)
	}
	if cfg.FrameMax == 0 {
		cfg.FrameMax = 1 << minip1.DefaultTPDUSizeLog2
	}
	if cfg.FrameMax < 128 || cfg.FrameMax > minip1.MaxFrame {
		return fmt.Errorf("kernel: %s: config: frame max %d (want 128..%d)", cfg.Name, cfg.FrameMax, minip1.MaxFrame)
	}
	// CR and CC carry the size as a power of two: use exactly what is offered.
	cfg.FrameMax = min(1<<log2(cfg.FrameMax), minip1.MaxFrame)
	if cfg.Store == nil {
		cfg.Store = store.NewMemory()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// DN returns the MTA's distinguished name.
func (k *Kernel) DN() string { return k.dn }

// Build returns the kernel's build.
func (k *Kernel) Build() BuildInfo { return k.build.clone() }

// Defects returns the KB ids of the defects the kernel runs with, in
// catalogue order: its build's, or Config.Defects with OverrideDefects.
func (k *Kernel) Defects() []string { return slices.Clone(k.defects) }

// post hands an event to the kernel goroutine; it gives up once the kernel stopped.
func (k *Kernel) post(e event) bool {
	select {
	case k.evc <- e:
		return true
	case <-k.done:
		return false
	}
}

// do runs fn on the kernel goroutine and waits for it.
func (k *Kernel) do(ctx context.Context, fn func()) error {
	finished := make(chan struct{})
	wrapped := func() { fn(); close(finished) }
	select {
	case k.calls <- wrapped:
	case <-k.done:
		return ErrStopped
	case <-ctx.Done():
		return fmt.Errorf("kernel: %s: %w", k.cfg.Name, ctx.Err())
	}
	// The kernel goroutine took fn and runs it to the end before it looks
	// at anything else, stop included: wait for it, so fn's writes are
	// never read while it still makes them.
	<-finished
	return nil
}

// Submit accepts a message for transfer to its To peer. The message is
// stored before Submit returns. Its payload is not copied: the store keeps
// it and the frames on the wire are written from it until the peer
// acknowledged the message, so the caller must not modify it after Submit.
func (k *Kernel) Submit(ctx context.Context, m store.Message) error {
	if m.ID == "" || m.To == "" {
		return fmt.Errorf("kernel: %s: submit: message id and to are required", k.cfg.Name)
	}
	if m.From == "" {
		m.From = k.cfg.Name
	}
	if m.Submitted.IsZero() {
		m.Submitted = time.Now()
	}
	var err error
	if derr := k.do(ctx, func() {
		if _, ok := k.cfg.Peers[m.To]; !ok {
			err = fmt.Errorf("kernel: %s: submit %s: %w %q", k.cfg.Name, m.ID, ErrNoRoute, m.To)
			return
		}
		c := k.connector(m.To)
		if c.has(k, m.ID) {
			return // already accepted and not yet acknowledged: nothing to do
		}
		if err = k.cfg.Store.Enqueue(m); err != nil {
			err = fmt.Errorf("kernel: %s: submit %s: %w", k.cfg.Name, m.ID, err)
			return
		}
		c.queue = append(c.queue, &outMsg{Message: m})
		k.counters.Submitted++
		k.kick(c)
	}); derr != nil {
		return derr
	}
	return err
}

// SetPeer changes the address the connector for peer dials; the next
// association uses it.
func (k *Kernel) SetPeer(ctx context.Context, peer, addr string) error {
	return k.do(ctx, func() {
		peers := make(map[string]string, len(k.cfg.Peers)+1)
		for n, a := range k.cfg.Peers {
			peers[n] = a
		}
		peers[peer] = addr
		k.cfg.Peers = peers
		if c := k.connectors[peer]; c != nil {
			k.kick(c)
		}
	})
}

// Stop closes the listener and every connection, cancels every timer and
// waits for every goroutine the kernel started. Stored state is kept.
func (k *Kernel) Stop(ctx context.Context) error {
	k.stopMu.Lock()
	if k.stoppd {
		k.stopMu.Unlock()
		return nil
	}
	k.stoppd = true
	k.stopMu.Unlock()
	if k.companions {
		_ = k.do(ctx, func() { k.emit(eventlog.Record{ID: eventlog.IDStop, Build: k.build.Banner}) })
	}
	close(k.done)
	k.owner.Wait() // the owner has closed every path and stopped every timer
	_ = k.cfg.Listener.Close()
	waited := make(chan struct{})
	go func() { k.wg.Wait(); close(waited) }()
	select {
	case <-waited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kernel: %s: stop: %w", k.cfg.Name, ctx.Err())
	}
}

func (k *Kernel) run() {
	defer k.owner.Done()
	for {
		select {
		case e := <-k.evc:
			k.handle(e)
		case fn := <-k.calls:
			fn()
		case <-k.done:
			k.shutdown()
			return
		}
	}
}

func (k *Kernel) shutdown() {
	for _, cancel := range k.dialCancel {
		cancel()
	}
	for _, b := range k.kcbs {
		b.stopTimers()
		if b.path != nil {
			b.path.close()
		}
	}
	// Stale and finishing paths too: Stop closes every connection.
	k.pathsMu.Lock()
	open := make([]*path, 0, len(k.paths))
	for p := range k.paths {
		open = append(open, p)
	}
	k.pathsMu.Unlock()
	for _, p := range open {
		p.close()
	}
	for _, c := range k.connectors {
		if c.retry != nil {
			c.retry.Stop()
		}
	}
}

func (k *Kernel) acceptLoop() {
	defer k.wg.Done()
	for {
		conn, err := k.cfg.Listener.Accept()
		if err != nil {
			select {
			case <-k.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			k.log.Debug("listener closed", "err", err)
			return
		}
		if !k.post(event{kind: evAccept, conn: conn}) {
			_ = conn.Close()
			return
		}
	}
}

// connector returns (creating if needed) the connector toward peer.
func (k *Kernel) connector(peer string) *connector {
	c := k.connectors[peer]
	if c == nil {
		c = &connector{peer: peer, kcb: -1}
		k.connectors[peer] = c
	}
	return c
}

// peerDN is the DN of a peer MTA as configured.
func (k *Kernel) peerDN(peer string) string {
	if dn, ok := k.cfg.PeerDNs[peer]; ok {
		return dn
	}
	return eventlog.DN(k.cfg.Org, k.cfg.Site, peer)
}

// leakDraw reports whether a leaking defect leaks this time.
func (k *Kernel) leakDraw() bool {
	p := 1.0
	if k.cfg.LeakProbability != nil {
		p = *k.cfg.LeakProbability
	}
	return k.rng.Float64() < p
}

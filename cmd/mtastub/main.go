// Command mtastub runs one standalone stub MTA with its admin API
// (DESIGN.md section 10). Run mtastub -h for its flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mtastorm/mtastorm/mtastub"
	"github.com/mtastorm/mtastorm/mtastub/admin"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/store"
	"github.com/mtastorm/mtastorm/mtastub/stubconfig"
)

// Exit codes (DESIGN.md section 7).
const (
	exitOK    = 0
	exitUsage = 2
	exitInfra = 3
)

// shutdownTimeout bounds a graceful shutdown.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command: it returns the exit code once ctx is done (a
// signal) or the stub cannot go on.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := stubconfig.Parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	s, err := c.Validate()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: s.Level})).With("mta", s.Name)
	code, err := serve(ctx, s, log, stdout)
	if err != nil {
		log.Error("mtastub failed", "err", err)
		fmt.Fprintln(stderr, err)
	}
	return code
}

// serve starts the store, the MTA and the admin server, and stops them in
// reverse order once ctx is done.
func serve(ctx context.Context, s *stubconfig.Settings, log *slog.Logger, stdout io.Writer) (int, error) {
	cfg := s.MTAConfig(log)
	var opts admin.Options
	opts.Token, opts.Logger = s.Token, log
	storeKind := "memory"
	if s.Store != "" {
		st, err := store.Open(s.Store)
		if err != nil {
			return exitInfra, fmt.Errorf("mtastub: %w", err)
		}
		cfg.Store, opts.Receipts, storeKind = st, st, "durable"
		log.Info("store opened", "dir", s.Store, "session", st.Session())
	}
	m, err := mtastub.Start(ctx, cfg)
	if err != nil {
		if cfg.Store != nil {
			_ = cfg.Store.Close()
		}
		return exitInfra, fmt.Errorf("mtastub: start: %w", err)
	}
	stopCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	}
	closeMTA := func() error {
		sctx, cancel := stopCtx()
		defer cancel()
		if err := m.Close(sctx); err != nil {
			return fmt.Errorf("mtastub: close: %w", err)
		}
		return nil
	}
	m.Events().SetSink(func(r eventlog.Record) {
		log.Info("event", "id", r.ID, "kcb", r.KCB, "state", r.State, "assoc", r.Assoc, "entity", r.Entity, "text", r.Text)
	})

	var lc net.ListenConfig
	aln, err := lc.Listen(ctx, "tcp", s.Admin)
	if err != nil {
		_ = closeMTA()
		return exitInfra, fmt.Errorf("mtastub: admin: listen %s: %w", s.Admin, err)
	}
	base, cancelBase := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelBase()
	srv := &http.Server{
		Handler:           admin.New(m, opts),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(aln) }()

	log.Info("mtastub started", "listen", m.Addr(), "admin", aln.Addr().String(), "build", m.Build().Name, "defects", m.Defects(),
		"kcbs", s.KCBs, "window", s.Window, "peers", s.Peers, "store", storeKind, "token", s.Token != "")
	fmt.Fprintf(stdout, "mtastub %s listening on %s admin on http://%s\n", s.Name, m.Addr(), aln.Addr())

	code, runErr := exitOK, error(nil)
	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx).Error())
	case err := <-served:
		code, runErr = exitInfra, fmt.Errorf("mtastub: admin server: %w", err)
	}
	// Streams (?follow=1) end with their request contexts; then the
	// server drains, then the MTA stops and its store closes.
	cancelBase()
	sctx, cancel := stopCtx()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("admin shutdown", "err", err)
		_ = srv.Close()
	}
	cancel()
	if err := closeMTA(); err != nil && runErr == nil {
		code, runErr = exitInfra, err
	}
	if runErr == nil {
		log.Info("mtastub stopped")
	}
	return code, runErr
}

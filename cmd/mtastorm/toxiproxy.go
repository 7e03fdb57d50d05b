package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	// Registers the MiniP1-aware "cut_at" toxic with the server below.
	_ "github.com/mtastorm/mtastorm/faults/toxi/cutat"
)

const toxiproxyUsage = `usage: mtastorm toxiproxy [--host 127.0.0.1] [--port 8474]

Runs a toxiproxy-server (Toxiproxy v2.12) with mtastorm's cut_at toxic
registered, for use with --toxiproxy URL or TOXIPROXY_URL. Its HTTP API listens on
HOST:PORT (port 0 picks a free one); the first line on stdout is
"toxiproxy listening on http://HOST:PORT". SIGINT or SIGTERM removes every proxy
and stops it.

exit codes: 0 stopped on a signal, 2 bad flags, 3 cannot listen or serve
`

// toxiproxyShutdownTimeout bounds the wait for in-flight API calls at exit.
const toxiproxyShutdownTimeout = 5 * time.Second

// toxiproxyCmd runs `mtastorm toxiproxy`: a Toxiproxy server, with the cut_at
// toxic registered, serving its HTTP API until ctx is cancelled.
func toxiproxyCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mtastorm toxiproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), toxiproxyUsage) }
	host := fs.String("host", "127.0.0.1", "host for the HTTP API to listen on")
	port := fs.String("port", "8474", "port for the HTTP API to listen on (0: any free port)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPassed
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "mtastorm toxiproxy: unexpected argument %q\n%s", fs.Arg(0), toxiproxyUsage)
		return exitUsage
	}
	p, err := strconv.ParseUint(*port, 10, 16)
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm toxiproxy: --port %q is not a port number (0-65535)\n", *port)
		return exitUsage
	}
	if dryRun(ctx) {
		return exitPassed
	}

	logOut := &toxiproxyLogWriter{w: stderr}
	logger := zerolog.New(logOut).Level(zerolog.WarnLevel).With().Timestamp().Logger()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), logger)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(*host, strconv.FormatUint(p, 10)))
	if err != nil {
		fmt.Fprintf(stderr, "mtastorm toxiproxy: %v\n", err)
		return exitInfra
	}
	hs := &http.Server{
		Handler:           srv.Routes(),
		ReadHeaderTimeout: 15 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "toxiproxy listening on http://%s\n", ln.Addr())

	code := exitPassed
	select {
	case <-ctx.Done():
	case err := <-served:
		// Serve only returns early on a listener failure.
		fmt.Fprintf(stderr, "mtastorm toxiproxy: serve: %v\n", err)
		code = exitInfra
	}
	// Stop the API first, so no call creates a proxy after the clear, then
	// remove every proxy, which closes their listeners and connections.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), toxiproxyShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		fmt.Fprintf(stderr, "mtastorm toxiproxy: stop api server: %v\n", err)
		code = exitInfra
	}
	if code == exitPassed {
		<-served //nolint:errcheck // always http.ErrServerClosed here
	}
	if err := srv.Collection.Clear(); err != nil {
		fmt.Fprintf(stderr, "mtastorm toxiproxy: remove proxies: %v\n", err)
		code = exitInfra
	}
	return code
}

// toxiproxyLogWriter serialises the server's log lines, which Toxiproxy
// writes from many goroutines, onto one writer.
type toxiproxyLogWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *toxiproxyLogWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

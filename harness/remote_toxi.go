package harness

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
)

// exposure says how the parts of a run reach a toxiproxy-server on another
// host (a container, another machine): its proxies listen on every
// interface and are dialled at the server's own host name, and the probe
// echo server listens on the address this host has on the route to it.
type exposure struct {
	// host is the server's host as the toxiproxy URL names it.
	host string
	// local is this host's address on the route to the server.
	local string
}

// openBackend opens the run's Toxiproxy backend: Options.ToxiproxyURL, else
// TOXIPROXY_URL, else an embedded server. A server that is not on loopback
// gets an exposure (nil otherwise).
func openBackend(ctx context.Context, rawURL string, log *slog.Logger) (toxi.Backend, *exposure, error) {
	if rawURL == "" {
		rawURL = os.Getenv(toxi.EnvURL)
	}
	host, port := toxiHost(rawURL)
	if rawURL == "" || host == "" || loopbackHost(host) {
		b, err := toxi.Open(ctx, rawURL, log)
		return b, nil, err
	}
	b, err := toxi.NewRemote(ctx, rawURL, toxi.RemoteOptions{Logger: log, ListenHost: "0.0.0.0"})
	if err != nil {
		return nil, nil, err
	}
	ex := &exposure{host: host}
	// A UDP "connection" sends nothing: it only picks the route.
	c, err := net.Dial("udp", net.JoinHostPort(host, port))
	if err != nil {
		_ = b.Close(ctx)
		return nil, nil, fmt.Errorf("toxiproxy %s: find this host's address on the route to it: %w", rawURL, err)
	}
	ex.local = c.LocalAddr().(*net.UDPAddr).IP.String()
	_ = c.Close()
	return b, ex, nil
}

// toxiHost returns the host and port of a toxiproxy URL ("http://H:P" or
// "H:P"); "" when it has none.
func toxiHost(raw string) (host, port string) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", ""
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", ""
	}
	port = u.Port()
	if port == "" {
		port = "8474"
	}
	return u.Hostname(), port
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// proxyAddr is the address at which MTAs and probes dial a proxy that the
// server reported listening on listen.
func (ex *exposure) proxyAddr(listen string) string {
	if ex == nil {
		return listen
	}
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	return net.JoinHostPort(ex.host, port)
}

// newEcho starts the probes' echo server: on loopback, or where the
// toxiproxy-server can reach it.
func (ex *exposure) newEcho() (*faults.Server, error) {
	addr := ""
	if ex != nil {
		addr = net.JoinHostPort(ex.local, "0")
	}
	e, err := faults.NewEcho(addr)
	if err != nil {
		return nil, fmt.Errorf("probe echo: %w", err)
	}
	return e, nil
}

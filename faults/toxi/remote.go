package toxi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
)

// RemoteOptions configures [NewRemote].
type RemoteOptions struct {
	// Logger receives a debug line for every call; nil discards.
	Logger *slog.Logger
	// CallTimeout bounds every call; 0 means [DefaultCallTimeout] (2s).
	CallTimeout time.Duration
	// ListenHost is the host the server's proxies listen on; "" means
	// 127.0.0.1. (A server in a container may need "0.0.0.0".)
	ListenHost string
}

// Remote is a Toxiproxy server reached over its HTTP API. It speaks the API
// itself, with a context per request, instead of using the Toxiproxy Go
// client, which takes no context and waits up to 30s; the wire types are the
// client's. Enable and Disable send exactly {"enabled":…}, which the server
// merges into the proxy it has, so a proxy is never updated partially.
type Remote struct {
	url        string
	log        *slog.Logger
	timeout    time.Duration
	listenHost string
	tr         *http.Transport
	hc         *http.Client
	closed     atomic.Bool
}

// NewRemote connects to the Toxiproxy server at url ("http://HOST:PORT";
// "HOST:PORT" is taken as http) and pings it (GET /version); it fails with an
// error naming the URL if the server is unreachable or not Toxiproxy.
func NewRemote(ctx context.Context, url string, opts RemoteOptions) (*Remote, error) {
	base, err := normalizeURL(url)
	if err != nil {
		return nil, &Error{Op: "ping", Backend: url, Err: err}
	}
	timeout := callTimeout(opts.CallTimeout)
	host := opts.ListenHost
	if host == "" {
		host = "127.0.0.1"
	}
	// The per-call context is the only timer, so a timeout always reads
	// "context deadline exceeded".
	tr := &http.Transport{
		Proxy:               nil, // never route control calls through an HTTP proxy
		DialContext:         (&net.Dialer{}).DialContext,
		MaxIdleConns:        4,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	r := &Remote{
		url:        base,
		log:        orDiscard(opts.Logger),
		timeout:    timeout,
		listenHost: host,
		tr:         tr,
		hc:         &http.Client{Transport: tr},
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := r.do(ctx, "ping", "", http.MethodGet, "/version", nil, &v); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	r.log.Debug("toxi: remote toxiproxy", "url", base, "version", v.Version)
	return r, nil
}

func normalizeURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("empty url")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q is neither http nor https", u.Scheme)
	}
	if u.Host == "" {
		return "", errors.New("url has no host")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// URL returns the server's HTTP API base URL.
func (r *Remote) URL() string { return r.url }

func (r *Remote) wrap(op, proxy string, err error) error {
	return &Error{Op: op, Proxy: proxy, Backend: r.url, Err: err}
}

// do sends one request bounded by ctx and the call timeout and decodes a
// JSON answer into out (if not nil).
func (r *Remote) do(ctx context.Context, op, proxy, method, path string, in, out any) error {
	if err := ctx.Err(); err != nil {
		return r.wrap(op, proxy, err)
	}
	if r.closed.Load() {
		return r.wrap(op, proxy, ErrClosed)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return r.wrap(op, proxy, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, body)
	if err != nil {
		return r.wrap(op, proxy, err)
	}
	req.Header.Set("User-Agent", "mtastorm-toxi")
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := r.hc.Do(req)
	if err != nil {
		return r.wrap(op, proxy, transportError(ctx, err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return r.wrap(op, proxy, transportError(ctx, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r.wrap(op, proxy, decodeAPIError(resp.StatusCode, data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return r.wrap(op, proxy, fmt.Errorf("decode answer to %s %s: %w", method, path, err))
		}
	}
	r.log.Debug("toxi: call", "op", op, "proxy", proxy, "took", time.Since(start))
	return nil
}

// transportError drops net/http's "Get URL:" wrapping (the URL is in the
// *Error already) and prefers the context's error when it ended the call.
func transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() && !errors.Is(ue.Err, context.DeadlineExceeded) {
			return fmt.Errorf("%w (%v)", context.DeadlineExceeded, ue.Err)
		}
		return ue.Err
	}
	return err
}

func decodeAPIError(status int, data []byte) error {
	var ae toxiclient.ApiError
	if json.Unmarshal(data, &ae) == nil && ae.Message != "" {
		return &apiError{Status: status, Message: ae.Message}
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &apiError{Status: status, Message: fmt.Sprintf("HTTP %d: %s", status, msg)}
}

func proxyPath(name string) string { return "/proxies/" + url.PathEscape(name) }

// CreateProxy creates and starts a proxy named name on LISTENHOST:0
// forwarding to upstream; returns the listen address the server chose.
func (r *Remote) CreateProxy(ctx context.Context, name, upstream string) (string, error) {
	if name == "" || upstream == "" {
		return "", r.wrap("create", name, errors.New("proxy name and upstream must not be empty"))
	}
	var out toxiclient.Proxy
	for attempt := 0; ; attempt++ {
		listen := net.JoinHostPort(r.listenHost, "0")
		if r.sameHost() {
			listen = stableListen(r.listenHost) // see ports.go
		}
		in := map[string]any{"name": name, "listen": listen, "upstream": upstream, "enabled": true}
		err := r.do(ctx, "create", name, http.MethodPost, "/proxies", in, &out)
		if inUse(err) && attempt < 4 {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	if out.Listen == "" {
		return "", r.wrap("create", name, errors.New("server answered without a listen address"))
	}
	return out.Listen, nil
}

// sameHost reports whether the server runs on this host (its URL names a
// loopback address), where a free port can be checked before it is asked for.
func (r *Remote) sameHost() bool {
	u, err := url.Parse(r.url)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback() && net.ParseIP(r.listenHost).IsLoopback()
}

// setEnabled sends {"enabled": on} with PATCH (POST for servers older than
// 2.5, which answer 405 to PATCH).
func (r *Remote) setEnabled(ctx context.Context, op, name string, on bool) error {
	in := map[string]bool{"enabled": on}
	err := r.do(ctx, op, name, http.MethodPatch, proxyPath(name), in, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusMethodNotAllowed {
		err = r.do(ctx, op, name, http.MethodPost, proxyPath(name), in, nil)
	}
	return err
}

// Disable disables the proxy: new dials are refused and its connections
// closed.
func (r *Remote) Disable(ctx context.Context, name string) error {
	return r.setEnabled(ctx, "disable", name, false)
}

// Enable enables the proxy again on the same port.
func (r *Remote) Enable(ctx context.Context, name string) error {
	return r.setEnabled(ctx, "enable", name, true)
}

// Remove deletes the proxy.
func (r *Remote) Remove(ctx context.Context, name string) error {
	return r.do(ctx, "remove", name, http.MethodDelete, proxyPath(name), nil, nil)
}

// AddToxic adds t to proxy with toxicity 1.
func (r *Remote) AddToxic(ctx context.Context, proxy string, t Toxic) error {
	if err := t.validate(); err != nil {
		return r.wrap("add-toxic", toxicName(proxy, t.Name), err)
	}
	return r.do(ctx, "add-toxic", toxicName(proxy, t.Name), http.MethodPost,
		proxyPath(proxy)+"/toxics", t.wire(), nil)
}

// RemoveToxic removes the toxic named toxic from proxy.
func (r *Remote) RemoveToxic(ctx context.Context, proxy, toxic string) error {
	return r.do(ctx, "remove-toxic", toxicName(proxy, toxic), http.MethodDelete,
		proxyPath(proxy)+"/toxics/"+url.PathEscape(toxic), nil, nil)
}

// Proxies lists every proxy of the server, sorted by name.
func (r *Remote) Proxies(ctx context.Context) ([]ProxyInfo, error) {
	return r.proxies(ctx, "proxies", "")
}

func (r *Remote) proxies(ctx context.Context, op, proxy string) ([]ProxyInfo, error) {
	var m map[string]toxiclient.Proxy
	if err := r.do(ctx, op, proxy, http.MethodGet, "/proxies", nil, &m); err != nil {
		return nil, err
	}
	out := make([]ProxyInfo, 0, len(m))
	for name, p := range m {
		if p.Name == "" {
			p.Name = name
		}
		info := ProxyInfo{Name: p.Name, Listen: p.Listen, Upstream: p.Upstream, Enabled: p.Enabled}
		for _, t := range p.ActiveToxics {
			info.Toxics = append(info.Toxics, Toxic{Name: t.Name, Type: t.Type, Stream: t.Stream, Attributes: t.Attributes})
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemovePrefix removes every proxy whose name starts with prefix, one
// request each (each bounded by the call timeout); a proxy that vanished
// meanwhile is not an error. Returns the names removed, sorted.
func (r *Remote) RemovePrefix(ctx context.Context, prefix string) ([]string, error) {
	if prefix == "" {
		return nil, r.wrap("remove-prefix", "", errors.New("empty prefix would remove every proxy"))
	}
	ps, err := r.proxies(ctx, "remove-prefix", prefix+"*")
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, p := range ps {
		if !strings.HasPrefix(p.Name, prefix) {
			continue
		}
		err := r.Remove(ctx, p.Name)
		switch {
		case err == nil:
			removed = append(removed, p.Name)
		case errors.Is(err, ErrNotFound):
		default:
			errs = append(errs, err)
			if ctx.Err() != nil {
				return removed, errors.Join(errs...)
			}
		}
	}
	return removed, errors.Join(errs...)
}

// Close releases the client's connections; it removes nothing from the
// server. Later calls fail with [ErrClosed].
func (r *Remote) Close(ctx context.Context) error {
	r.closed.Store(true)
	r.tr.CloseIdleConnections()
	return nil
}

var _ Backend = (*Remote)(nil)

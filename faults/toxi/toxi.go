package toxi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// ProxyPrefix starts the name of every proxy mtastorm creates, so that a later
// run can find and remove the leftovers of a crashed one (see
// [Backend.RemovePrefix]).
const ProxyPrefix = "mtastorm-"

// DefaultCallTimeout bounds every backend call whose options leave
// CallTimeout at zero.
const DefaultCallTimeout = 2 * time.Second

// EnvURL is the environment variable [Open] reads for a remote server's URL.
const EnvURL = "TOXIPROXY_URL"

// Backend is a Toxiproxy server mtastorm controls. Every method is bounded by
// the ctx AND by the backend's own call timeout (default 2s); a timeout or
// dead server gives an error that names the operation, proxy and backend,
// e.g. "toxi: disable mtastorm-A-B on http://127.0.0.1:8474: context deadline
// exceeded". Errors are [*Error] values; errors.Is works with [ErrNotFound],
// [ErrExists], [ErrClosed] and the context errors.
type Backend interface {
	// CreateProxy creates and starts a proxy named name listening on
	// 127.0.0.1:0 (an ephemeral port) forwarding to upstream; returns the
	// proxy's listen address "127.0.0.1:PORT" (stable across Disable/Enable).
	CreateProxy(ctx context.Context, name, upstream string) (listen string, err error)
	// Disable makes the proxy refuse new dials and closes its existing
	// connections. Disabling a disabled proxy is a no-op.
	Disable(ctx context.Context, name string) error
	// Enable makes the proxy accept again, on the same port. Enabling an
	// enabled proxy is a no-op.
	Enable(ctx context.Context, name string) error
	// Remove stops the proxy, closes its connections and forgets it.
	Remove(ctx context.Context, name string) error
	// AddToxic adds toxic t to proxy; it also acts on the proxy's existing
	// connections.
	AddToxic(ctx context.Context, proxy string, t Toxic) error
	// RemoveToxic removes the toxic named toxic from proxy.
	RemoveToxic(ctx context.Context, proxy, toxic string) error
	// Proxies lists every proxy of the server, sorted by name.
	Proxies(ctx context.Context) ([]ProxyInfo, error)
	// RemovePrefix removes every proxy whose name starts with prefix (a
	// crashed earlier run's leftovers); returns the names removed. An empty
	// prefix is refused.
	RemovePrefix(ctx context.Context, prefix string) ([]string, error)
	// URL returns the HTTP API base URL ("http://127.0.0.1:PORT").
	URL() string
	// Close releases the backend. Embedded: clears all proxies and stops the
	// server; remote: removes nothing, just releases.
	Close(ctx context.Context) error
}

// ProxyInfo describes one proxy as the server reports it.
type ProxyInfo struct {
	Name     string  // proxy name
	Listen   string  // listen address, "127.0.0.1:PORT"
	Upstream string  // address the proxy forwards to
	Enabled  bool    // false when disabled: dials are refused
	Toxics   []Toxic // active toxics, both streams
}

// Toxic is a Toxiproxy toxic. Toxicity is always 1 (mtastorm draws
// randomness itself); Stream is "upstream" or "downstream".
type Toxic struct {
	Name       string         `json:"name"`                 // unique per proxy; "" lets Toxiproxy name it TYPE_STREAM
	Type       string         `json:"type,omitempty"`       // latency, bandwidth, timeout, reset_peer, limit_data, slicer, slow_close, …
	Stream     string         `json:"stream,omitempty"`     // "upstream" (client→server) or "downstream" (server→client)
	Attributes map[string]any `json:"attributes,omitempty"` // type-specific; numbers read back are float64
}

// toxicJSON is the wire form of a toxic (the HTTP API and AddToxicJson).
type toxicJSON struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream,omitempty"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

func (t Toxic) wire() toxicJSON {
	attrs := t.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return toxicJSON{Name: t.Name, Type: t.Type, Stream: t.Stream, Toxicity: 1, Attributes: attrs}
}

func (t Toxic) validate() error {
	if t.Type == "" {
		return errors.New("toxic type is empty")
	}
	switch t.Stream {
	case "", "upstream", "downstream":
		return nil
	}
	return fmt.Errorf("toxic stream %q is neither upstream nor downstream", t.Stream)
}

// Sentinel errors, matched with errors.Is against errors of a [Backend]. A
// backend never returns them bare: they come wrapped in an [*Error], whose
// text carries the "toxi: " prefix.
var (
	// ErrNotFound: the proxy or toxic does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrExists: a proxy or toxic of that name already exists (HTTP 409).
	ErrExists = errors.New("already exists")
	// ErrClosed: the backend was closed.
	ErrClosed = errors.New("backend closed")
)

// Error is the error of a failed backend call.
type Error struct {
	Op      string // operation: create, disable, enable, remove, add-toxic, remove-toxic, proxies, remove-prefix, ping, close
	Proxy   string // proxy name ("proxy/toxic" for toxic calls); may be empty
	Backend string // the backend's URL
	Err     error  // the cause
}

// Error formats the error as "toxi: OP PROXY on BACKEND: CAUSE".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("toxi: ")
	b.WriteString(e.Op)
	if e.Proxy != "" {
		b.WriteString(" ")
		b.WriteString(e.Proxy)
	}
	b.WriteString(" on ")
	b.WriteString(e.Backend)
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("unknown error")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// apiError is an error status reported by Toxiproxy.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP status %d", e.Status)
	}
	return e.Message
}

// Is maps Toxiproxy's statuses onto the package's sentinels.
func (e *apiError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == 404
	case ErrExists:
		return e.Status == 409
	}
	return false
}

func callTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultCallTimeout
	}
	return d
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

func toxicName(proxy, toxic string) string {
	return proxy + "/" + toxic
}

// Open picks the backend: url != "" → remote, else if env TOXIPROXY_URL set
// → remote, else embedded. Both use the default call timeout.
func Open(ctx context.Context, url string, logger *slog.Logger) (Backend, error) {
	if url == "" {
		url = os.Getenv(EnvURL)
	}
	if url != "" {
		r, err := NewRemote(ctx, url, RemoteOptions{Logger: logger})
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	e, err := NewEmbedded(ctx, EmbeddedOptions{Logger: logger})
	if err != nil {
		return nil, err
	}
	return e, nil
}

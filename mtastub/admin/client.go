package admin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// EnvToken names the environment variable that holds the admin API's
// bearer token: mtastub serves with it when --token is not given, and the
// harness sends it to every remote stub.
const EnvToken = "MTASTUB_TOKEN"

// Defaults of ClientOptions.
const (
	// DefaultCallTimeout bounds one call: the server bounds its own work at
	// 10s, and a restart may take most of that.
	DefaultCallTimeout = callTimeout + 2*time.Second
	// DefaultDialTimeout bounds connecting to the server.
	DefaultDialTimeout = 3 * time.Second
)

// Bounds of what the client reads.
const (
	// maxAnswer bounds a JSON answer read in full.
	maxAnswer = 64 << 20
	// maxLine bounds one line of a JSON-lines answer.
	maxLine = 16 << 20
	// maxErrorBody bounds the body of an error answer.
	maxErrorBody = 1 << 20
)

// ClientOptions configures a Client. The zero value sends no token and
// uses the default timeouts.
type ClientOptions struct {
	// Token, when set, is sent as "Authorization: Bearer TOKEN".
	Token string
	// CallTimeout bounds each call but the Follow streams, which run until
	// their context is done (default DefaultCallTimeout). It also bounds
	// the wait for a stream's response headers.
	CallTimeout time.Duration
	// DialTimeout bounds connecting (default DefaultDialTimeout).
	DialTimeout time.Duration
}

// Client calls the admin API of one standalone stub. It never goes
// through an HTTP proxy (the lab's admin calls are direct). Its methods
// are safe for concurrent use; Close releases its idle connections.
type Client struct {
	base    string // without a trailing slash
	token   string
	timeout time.Duration
	tr      *http.Transport
	hc      *http.Client
}

// NewClient returns a client of the admin API at baseURL, "http://HOST:PORT"
// (or https), a trailing slash allowed.
func NewClient(baseURL string, opts ClientOptions) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("admin: client: base URL %q: want http://HOST:PORT", baseURL)
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: opts.DialTimeout}).DialContext,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: opts.CallTimeout,
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: opts.Token, timeout: opts.CallTimeout,
		tr: tr, hc: &http.Client{Transport: tr}}, nil
}

// URL returns the base URL the client calls, without a trailing slash.
func (c *Client) URL() string { return c.base }

// Close releases the client's idle connections. A call made afterwards
// opens new ones.
func (c *Client) Close() { c.tr.CloseIdleConnections() }

// APIError is an answer of the admin API with a status other than 2xx.
type APIError struct {
	// Method and Path are the request's ("GET", "/v1/status").
	Method, Path string
	// Code is the HTTP status code.
	Code int
	// Message is the server's "error" text, or the body when it is not an
	// Error object.
	Message string
}

// Error implements error.
func (e *APIError) Error() string {
	return fmt.Sprintf("admin: %s %s: %d %s: %s", e.Method, e.Path, e.Code, http.StatusText(e.Code), e.Message)
}

func apiError(method, path string, code int, data []byte) *APIError {
	var e Error
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return &APIError{Method: method, Path: path, Code: code, Message: msg}
}

// do sends one request with the token; the caller closes the body of the
// answer. in, when not nil, is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("admin: %s %s: encode: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("admin: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: %s %s: %w", method, path, err)
	}
	return resp, nil
}

// send makes one call and returns the body of a 2xx answer; any other
// status is an *APIError.
func (c *Client) send(ctx context.Context, method, path string, in any) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.do(ctx, method, path, in)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("admin: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(method, path, resp.StatusCode, data)
	}
	return data, nil
}

// call makes one call and decodes its JSON answer into out.
func (c *Client) call(ctx context.Context, r route, path string, in, out any) error {
	data, err := c.send(ctx, r.method, path, in)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin: %s %s: decode answer: %w", r.method, path, err)
	}
	return nil
}

// Status calls GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, routeStatus, routeStatus.path(), nil, &st)
	return st, err
}

// KCBs calls GET /v1/kcbs: the pool, the listener's KCB 0 included.
func (c *Client) KCBs(ctx context.Context) ([]kernel.KCBInfo, error) {
	var kcbs []kernel.KCBInfo
	err := c.call(ctx, routeKCBs, routeKCBs.path(), nil, &kcbs)
	return kcbs, err
}

// Submit calls POST /v1/messages; the server has stored the message once
// it answers.
func (c *Client) Submit(ctx context.Context, req SubmitRequest) (SubmitResponse, error) {
	var out SubmitResponse
	err := c.call(ctx, routeSubmit, routeSubmit.path(), req, &out)
	return out, err
}

// SetPeer calls PUT /v1/peers/{name}: the stub dials peer at address
// (HOST:PORT) from now on.
func (c *Client) SetPeer(ctx context.Context, peer, address string) (PeerResponse, error) {
	var out PeerResponse
	err := c.call(ctx, routePeer, routePeer.path(peer), PeerRequest{Address: address}, &out)
	return out, err
}

// Restart calls POST /v1/restart and returns the status the stub answers
// once its KCB pool is re-initialised.
func (c *Client) Restart(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, routeRestart, routeRestart.path(), nil, &st)
	return st, err
}

// Metrics calls GET /metrics and returns the Prometheus text exposition.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.send(ctx, routeMetrics.method, routeMetrics.path(), nil)
}

// Events calls GET /v1/events: the whole event log so far.
func (c *Client) Events(ctx context.Context) ([]eventlog.Record, error) {
	return lines[eventlog.Record](ctx, c, routeEvents)
}

// Deliveries calls GET /v1/deliveries: the messages delivered to the stub
// so far, those of earlier processes first (Restored) when its store is
// durable.
func (c *Client) Deliveries(ctx context.Context) ([]Delivery, error) {
	return lines[Delivery](ctx, c, routeDeliveries)
}

// FollowEvents calls GET /v1/events?follow=1 and hands each record to fn
// with its index in the log: the stream starts with the whole history
// (index 0 up), so a caller that reopens a broken stream can skip what it
// has seen. It returns fn's error, or an error once the stream ends or
// breaks, or when ctx is done.
func (c *Client) FollowEvents(ctx context.Context, fn func(i int, rec eventlog.Record) error) error {
	return stream(ctx, c, routeEvents, fn)
}

// FollowDeliveries calls GET /v1/deliveries?follow=1 and hands each
// delivery to fn with its index, as FollowEvents does.
func (c *Client) FollowDeliveries(ctx context.Context, fn func(i int, d Delivery) error) error {
	return stream(ctx, c, routeDeliveries, fn)
}

// lines fetches a JSON-lines endpoint in full.
func lines[T any](ctx context.Context, c *Client, r route) ([]T, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	path := r.path()
	resp, err := c.do(ctx, r.method, path, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, apiError(r.method, path, resp.StatusCode, data)
	}
	var out []T
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("admin: %s %s: line %d: %w", r.method, path, len(out)+1, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("admin: %s %s: %w", r.method, path, err)
	}
	return out, nil
}

// stream reads one ?follow=1 stream of r, handing each complete line to fn.
func stream[T any](ctx context.Context, c *Client, r route, fn func(int, T) error) error {
	path := r.path() + "?follow=1"
	resp, err := c.do(ctx, r.method, path, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return apiError(r.method, path, resp.StatusCode, data)
	}
	rd := bufio.NewReader(resp.Body)
	for i := 0; ; {
		line, err := rd.ReadBytes('\n')
		// A line without its newline was cut off by the break: not handed on.
		if err == nil && len(bytes.TrimSpace(line)) > 0 {
			var v T
			if jerr := json.Unmarshal(line, &v); jerr != nil {
				return fmt.Errorf("admin: %s %s: line %d: %w", r.method, path, i+1, jerr)
			}
			if ferr := fn(i, v); ferr != nil {
				return ferr
			}
			i++
		}
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("admin: %s %s: %w", r.method, path, context.Cause(ctx))
			case errors.Is(err, io.EOF):
				return fmt.Errorf("admin: %s %s: stream ended", r.method, path)
			}
			return fmt.Errorf("admin: %s %s: %w", r.method, path, err)
		}
	}
}

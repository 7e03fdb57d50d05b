// Package toxi puts the Toxiproxy servers that mtastorm drives behind one
// interface, [Backend].
//
// There are two backends:
//
//   - [Embedded] runs a Toxiproxy v2.12.0 server inside this process. Proxies
//     are started and stopped in-process (Stop/Start cost about 40 µs), and the
//     Toxiproxy HTTP API is served on its own 127.0.0.1:0 listener so that
//     external tools (toxiproxy-cli, curl, a [Remote]) can see and drive the
//     same proxies.
//   - [Remote] talks to a Toxiproxy server over its HTTP API.
//
// [Open] picks one: an explicit URL or the TOXIPROXY_URL environment variable
// selects a remote server, otherwise an embedded one is started.
//
// # Timeouts
//
// Every call is bounded by its context and by the backend's own call timeout
// (2s by default). A timed-out call returns an [*Error] wrapping
// context.DeadlineExceeded that names the operation, the proxy and the
// backend. A call that timed out may still take effect later (the embedded
// backend cannot interrupt Toxiproxy half-way, and a remote server may have
// received the request), so a caller must treat the link's state as unknown
// after a timeout and repeat the call or heal.
//
// # Serialisation (embedded)
//
// Toxiproxy v2.12.0 reads Proxy.Listen and Proxy.Enabled without the proxy's
// lock in its HTTP handlers (GET /proxies, GET /proxies/{name}, the update
// handler), while Proxy.Start writes them: a GET /proxies concurrent with an
// enable is a data race, whether the enable comes from the HTTP API or from
// an in-process call. The embedded backend therefore routes every control
// call, in-process and HTTP alike, through a single owner token; the HTTP
// handlers of its API server take the same token (as the innermost
// middleware, inside Toxiproxy's own 25s timeout handler). So the embedded
// server's HTTP API and the in-process calls cannot race with each other.
// The in-process calls run on one long-lived owner goroutine, so that a call
// stuck inside Toxiproxy (AddToxic and RemoveToxic wait for every link's
// toxic goroutine to be interrupted) can be abandoned at its timeout while it
// keeps the token until it returns; Enable, which cannot block once it holds
// the token, runs on the caller's goroutine.
//
// # Toxiproxy facts this package relies on (v2.12.0)
//
//   - Proxy.Start listens on Proxy.Listen and then overwrites Listen with the
//     resolved address, so a proxy created on 127.0.0.1:0 gets a concrete
//     port on its first start and every later Start re-listens on that same
//     port. If another socket takes the port while the proxy is disabled,
//     Enable fails with "address already in use".
//   - Proxy.Stop closes the listener (new dials are refused) and closes every
//     connection of the proxy. It first waits for the accept loop, which dials
//     the upstream without a timeout: a Stop racing an accept whose upstream
//     dial hangs waits for that dial.
//   - An enabled proxy whose upstream is down accepts, then closes: that is
//     not a refusal. Only a disabled (or removed) proxy refuses.
//   - Updating a proxy over HTTP with a partial proxy object (the client
//     library's Proxy with empty Listen/Upstream) restarts it on all
//     interfaces with an empty upstream. [Remote] therefore never sends a
//     proxy object: it sends exactly {"enabled":false|true}, which the server
//     merges into the existing proxy in one request.
//   - The Toxiproxy Go client has no context and a fixed 30s HTTP timeout, so
//     [Remote] speaks the HTTP API itself (reusing the client's wire types).
//   - Toxics log through zerolog's global logger; [NewEmbedded] silences it.
//   - Toxic attributes read back through [Backend.Proxies] come from JSON:
//     numbers are float64.
package toxi

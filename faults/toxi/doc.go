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
// # Locking (embedded)
//
// Toxiproxy v2.12.0 reads Proxy.Listen and Proxy.Enabled without the proxy's
// lock in its HTTP handlers (GET /proxies, GET /proxies/{name}, the update
// handler), while Proxy.Start writes them: a GET /proxies concurrent with an
// enable is a data race, whether the enable comes from the HTTP API or from
// an in-process call. Everything else a control call touches is locked by
// Toxiproxy per proxy (the proxy's mutex, its ToxicCollection's mutex) or
// briefly for the whole server (the ProxyCollection's RWMutex: Get and
// Proxies read-lock it; Add, Remove, Clear and PopulateJson write-lock it).
//
// So the embedded backend has a lock per proxy and a gate over the whole
// server. A call on one proxy (CreateProxy, Disable, Enable, AddToxic,
// RemoveToxic) holds the gate shared and that proxy's lock: calls on
// different proxies run in parallel, calls on one proxy one at a time, in
// the order they got its lock. Calls over the whole server (Proxies,
// RemovePrefix, Close, Do), Remove (it write-locks the collection while
// Proxy.Stop waits for the accept loop) and every request to the HTTP API
// (its handlers take the gate as the innermost middleware, inside
// Toxiproxy's own 25s timeout handler) hold the gate exclusively. So the
// embedded server's HTTP API and the in-process calls cannot race with each
// other. A waiting exclusive holder does not stop new shared ones.
//
// Toxiproxy's RemoveToxic (and AddToxic) first interrupts the toxic on every
// connection of the proxy, and RemoveToxic flushes the toxic's backlog
// through the rest of the chain before it returns: on a congested link that
// takes as long as the backlog takes to drain. The in-process calls run on
// worker goroutines, so that such a call can be abandoned at its timeout
// while it keeps its locks until it returns: it then delays only the next
// call on the same proxy (and the calls over the whole server), never a call
// on another proxy. Enable, which cannot block once it holds its locks,
// runs on the caller's goroutine.
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

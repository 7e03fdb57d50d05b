// Package eventlog is the event log of a stub Exchange message transfer agent
// (MTA): the catalogue of MSExchangeMTA event IDs, the Windows-style event
// record, the renderers that turn records into the KB wording, JSON lines,
// Event-Viewer-style text and Event Viewer CSV, and a per-MTA Log with push
// subscriptions.
//
// The texts follow Microsoft KB article Q152877 (events 1004, 1008, 1198 and
// 1277) word for word, as tabulated in section 4 of DESIGN.md; the companion
// events (9156, 9215, 9221, 1294, 9298 and 9299) follow the KB articles that
// document them (Q166602, Q170056, Q169143, Q157630) where those give a text.
//
// A Log never blocks its emitter on a slow subscriber and never drops an
// event for a subscriber: each Subscription (a feed.Sub) has an unbounded queue drained
// into its channel by its own goroutine, which Close releases.
package eventlog

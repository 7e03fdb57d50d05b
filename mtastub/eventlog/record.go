package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is the layout of the "time" key of a record's JSON form: UTC,
// RFC 3339 with exactly six fractional digits, e.g. "2026-11-28T21:00:00.123456Z".
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Record is one Windows-style event record written by an MTA. Its JSON form
// is one line of events.jsonl, with the keys time, mta, source, id, category,
// type, severity, kcb, state, svc, flavor, reason, assoc, entity and text
// always present and in that order, followed by build, socket_error and
// limit when they are set.
type Record struct {
	// Time is when the event was written; JSON carries it in UTC to the microsecond.
	Time time.Time `json:"time"`
	// MTA is the name of the MTA whose log holds the record.
	MTA string `json:"mta"`
	// Source is the event source, always Source for records of this package.
	Source string `json:"source"`
	// ID is the event ID.
	ID int `json:"id"`
	// Category is the event category, e.g. "X.400 Service".
	Category string `json:"category"`
	// Type is the event type, e.g. "Warning".
	Type string `json:"type"`
	// Severity is the number the MTA prints in parentheses after the text.
	Severity int `json:"severity"`
	// KCB is the kernel control block index the event concerns.
	KCB int `json:"kcb"`
	// State is the KCB state when the event occurred.
	State int `json:"state"`
	// Svc is the service type of the failing event.
	Svc int `json:"svc"`
	// Flavor is the service flavor of the failing event.
	Flavor int `json:"flavor"`
	// Reason is the failure reason code (DESIGN.md section 4).
	Reason int `json:"reason"`
	// Assoc is the association number.
	Assoc int `json:"assoc"`
	// Entity is the peer entity's DN, empty when not yet known.
	Entity string `json:"entity"`
	// Text is the rendered description, one line.
	Text string `json:"text"`
	// OwnDN is the emitting MTA's DN, used by the 1277 text; it is not serialised.
	OwnDN string `json:"-"`
	// Build is the MTA build number shown by the 9298 and 9299 banners.
	Build string `json:"build,omitempty"`
	// Socket is the sockets error of events 9215 and 9221.
	Socket int `json:"socket_error,omitempty"`
	// Limit is the configured control-block count shown by event 9156.
	Limit int `json:"limit,omitempty"`
}

// recordAlias has Record's fields and tags but not its methods.
type recordAlias Record

// recordWire shadows Record.Time with its fixed-layout string form; being
// the outer field, "time" stays the first key.
type recordWire struct {
	Time string `json:"time"`
	*recordAlias
}

// MarshalJSON encodes r with the key order of DESIGN.md section 4 and the
// time in TimeLayout. It does not escape HTML characters, but json.Marshal
// re-escapes them (as "\u003c"); WriteJSONL and JSONLWriter do not.
func (r Record) MarshalJSON() ([]byte, error) {
	w := recordWire{Time: r.Time.UTC().Format(TimeLayout), recordAlias: (*recordAlias)(&r)}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, fmt.Errorf("eventlog: encode record %d: %w", r.ID, err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// UnmarshalJSON decodes a record written by MarshalJSON. The time may carry
// any number of fractional digits and any offset (RFC 3339); it is kept in UTC.
// Unknown keys are ignored.
func (r *Record) UnmarshalJSON(data []byte) error {
	var out Record
	w := recordWire{recordAlias: (*recordAlias)(&out)}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if w.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, w.Time)
		if err != nil {
			return fmt.Errorf("eventlog: bad time %q: %w", w.Time, err)
		}
		out.Time = t.UTC()
	}
	*r = out
	return nil
}

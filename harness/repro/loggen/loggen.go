// Package loggen writes large customer-style event logs for measuring and
// testing `mtastorm import`: an Event Viewer "Save All Events As... CSV"
// export of an Exchange server's Application log, newest event first, with
// descriptions wrapped over several lines as Event Viewer writes them.
//
// The log mixes the MSExchangeMTA events of the catalogue (the Q152877 four,
// the 5.5 link events, the companions with a 9156 configured count), a few
// MSExchangeMTA ids the catalogue does not model, events of other sources
// (which import drops, "MSExchangeMTA Monitor" among them), and restarts:
// a 9299 stop banner followed by a 9298 start banner naming the build. The
// same Options give the same bytes.
package loggen

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Options shape a generated log.
type Options struct {
	// Seed chooses every random choice; the same Options give the same log.
	Seed int64
	// Events is the number of rows (every source); about 255 bytes each, so
	// 392,000 make a 100 MB file.
	Events int
	// End is the time of the newest event (default 2026-11-28 21:00 UTC).
	End time.Time
	// RestartEvery is the mean number of rows between restarts (default
	// 20,000); a restart is a 9299 then a 9298 banner.
	RestartEvery int
	// Build is the build number the banners show (default "2448.4",
	// Exchange 5.5 SP2).
	Build string
	// Limit is the configured control-block count 9156 shows (default 200).
	Limit int
}

// NotModelled are the MSExchangeMTA ids the log holds that the stub's
// catalogue does not know.
var NotModelled = []int{9318, 3175, 9322}

// Stats is what a generated log holds, for checking an import against it.
type Stats struct {
	// Rows is the number of events written, every source.
	Rows int
	// Bytes is the size of the file.
	Bytes int64
	// Counts is the number of MSExchangeMTA events per id.
	Counts map[int]int
	// Restarts is the number of 9299 → 9298 pairs.
	Restarts int
	// Start and End are the times of the oldest and the newest event.
	Start, End time.Time
}

// MTAEvents returns the number of MSExchangeMTA events.
func (s Stats) MTAEvents() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

type other struct {
	source, level, category string
	id                      int
	text                    string
}

var others = []other{
	{"MSExchangeIS Public", "Information", "General", 1000, "Microsoft Exchange Server Information Store (Public) started."},
	{"Service Control Manager", "Information", "None", 7036, "The Microsoft Exchange Message Transfer Agent service entered the running state."},
	{"Tcpip", "Warning", "None", 4199, "The system detected an address conflict for IP address 10.1.2.3 with the system having network hardware address 00:0C:29:4F:8E:35."},
	{"MSExchangeMTA Monitor", "Warning", "General", 1004, "A link monitor ping did not come back in time."},
	{"NETLOGON", "Error", "None", 5719, "No Domain Controller is available for domain CONTOSO due to the following: There are currently no logon servers available to service the logon request."},
}

type weighted struct {
	id, weight int
}

// mix is the share of each MSExchangeMTA id among the rows, in thousandths;
// the rest (other sources) fills up to 1000.
var mix = []weighted{
	{eventlog.IDAssocError, 300},
	{eventlog.IDAssocErrorAnon, 150},
	{eventlog.IDConnRefused, 200},
	{eventlog.IDStateCheck, 20},
	{eventlog.IDNoControlBlocks, 20},
	{eventlog.IDConnectRefused, 25},
	{eventlog.IDConnReset, 15},
	{eventlog.IDAbnormalEnd, 20},
	{eventlog.IDLostConnections, 10},
	{eventlog.IDConnError, 15},
	{eventlog.IDInternalError, 10},
	{NotModelled[0], 5},
	{NotModelled[1], 3},
	{NotModelled[2], 2},
}

// Write writes the log to w and says what it holds.
func Write(w io.Writer, o Options) (Stats, error) {
	if o.Events <= 0 {
		return Stats{}, errors.New("loggen: Events must be positive")
	}
	if o.End.IsZero() {
		o.End = time.Date(2026, 11, 28, 21, 0, 0, 0, time.UTC)
	}
	if o.RestartEvery <= 0 {
		o.RestartEvery = 20000
	}
	if o.Build == "" {
		o.Build = eventlog.Build55SP2
	}
	if o.Limit <= 0 {
		o.Limit = 200
	}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(o.Seed)^0x9e3779b97f4a7c15))
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	st := Stats{Counts: map[int]int{}, End: o.End.UTC()}
	if _, err := bw.WriteString("\xef\xbb\xbf"); err != nil {
		return st, fmt.Errorf("loggen: %w", err)
	}
	c := csv.NewWriter(bw)
	c.UseCRLF = true
	if err := c.Write([]string{"Level", "Date and Time", "Source", "Event ID", "Task Category", "Description"}); err != nil {
		return st, fmt.Errorf("loggen: %w", err)
	}
	own := eventlog.DN("CONTOSO", "EUROPE", "PAREX1")
	peers := make([]string, 12)
	for i := range peers {
		peers[i] = eventlog.DN("CONTOSO", "EUROPE", fmt.Sprintf("PAREX%d", i+2))
	}
	// Rows go newest first: walk time backwards. A restart read backwards
	// is the 9298 start banner first, then the 9299 stop banner.
	now := o.End
	assoc := 5000
	pending := 0 // rows of a restart still to write: 2 = start, 1 = stop
	nextRestart := 1 + rng.IntN(2*o.RestartEvery)
	row := make([]string, 6)
	for i := 0; i < o.Events; i++ {
		var r eventlog.Record
		src := eventlog.Source
		switch {
		case pending == 0 && i >= nextRestart && i+1 < o.Events:
			pending = 2
			nextRestart = i + 2 + rng.IntN(2*o.RestartEvery)
			fallthrough
		case pending > 0:
			r = eventlog.Record{ID: eventlog.IDStart, Build: o.Build}
			if pending == 1 {
				r.ID = eventlog.IDStop
				st.Restarts++
			}
			pending--
		default:
			r = pick(rng, own, peers, &assoc, o.Limit)
		}
		if r.ID == 0 {
			ot := others[rng.IntN(len(others))]
			row[0], row[2], row[3], row[4], row[5] = ot.level, ot.source, strconv.Itoa(ot.id), ot.category, wrap(ot.text)
		} else {
			r = eventlog.Complete(r)
			if r.Type == "" {
				r.Type, r.Category = eventlog.TypeWarning, "Field Engineering"
			}
			row[0], row[2], row[3], row[4], row[5] = r.Type, src, strconv.Itoa(r.ID), r.Category, wrap(r.Text)
			st.Counts[r.ID]++
		}
		row[1] = now.UTC().Format("1/2/2006 3:04:05 PM")
		if err := c.Write(row); err != nil {
			return st, fmt.Errorf("loggen: row %d: %w", i+1, err)
		}
		st.Rows++
		st.Start = now.UTC().Truncate(time.Second)
		if pending == 1 {
			now = now.Add(-time.Duration(20+rng.IntN(100)) * time.Second) // the MTA was down
		} else {
			now = now.Add(-time.Duration(rng.IntN(1500)) * time.Millisecond)
		}
	}
	c.Flush()
	if err := c.Error(); err != nil {
		return st, fmt.Errorf("loggen: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return st, fmt.Errorf("loggen: %w", err)
	}
	st.Bytes = cw.n
	return st, nil
}

// pick chooses one row's record by mix; ID 0 means another source.
func pick(rng *rand.Rand, own string, peers []string, assoc *int, limit int) eventlog.Record {
	n := rng.IntN(1000)
	id := 0
	for _, m := range mix {
		if n < m.weight {
			id = m.id
			break
		}
		n -= m.weight
	}
	r := eventlog.Record{ID: id}
	switch id {
	case eventlog.IDAssocError:
		*assoc++
		r.Assoc, r.Entity = *assoc, peers[rng.IntN(len(peers))]
		r.State, r.Svc, r.Flavor, r.Reason = 2, 20, 1, 8
		if rng.IntN(4) == 0 {
			r.State, r.Reason = 3, 4
		}
	case eventlog.IDAssocErrorAnon:
		r.State, r.Svc = 2, 26
	case eventlog.IDConnRefused:
		r.KCB, r.OwnDN = 1+rng.IntN(16), own
	case eventlog.IDStateCheck:
		r.Entity, r.State, r.Svc, r.Flavor, r.KCB = peers[rng.IntN(len(peers))], 0, 20, 2, 1+rng.IntN(16)
	case eventlog.IDNoControlBlocks:
		r.Limit = limit
	case eventlog.IDConnectRefused, eventlog.IDConnReset:
		r.KCB = 1 + rng.IntN(16)
	case eventlog.IDAbnormalEnd:
		r.Entity, r.State, r.Svc, r.Flavor, r.Reason = peers[rng.IntN(len(peers))], 3, 20, 1, 4
	}
	return r
}

// wrap breaks text at spaces into lines of at most 78 characters, joined
// by CRLF, as Event Viewer's CSV export does.
func wrap(text string) string {
	if len(text) <= 78 {
		return text
	}
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(text) {
		if i > 0 {
			if line+1+len(w) > 78 {
				b.WriteString("\r\n")
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(w)
		line += len(w)
	}
	return b.String()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("loggen: write: %w", err)
	}
	return n, nil
}

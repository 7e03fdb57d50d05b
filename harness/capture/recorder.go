package capture

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure a Recorder.
type Options struct {
	// Dir is the folder the capture files are written to (created when
	// missing): a bundle's captures/.
	Dir string
	// Limit bounds each file's size in bytes (default DefaultLimit).
	Limit int64
	// Logger receives warnings (default: discard).
	Logger *slog.Logger
}

// Link is a link of the run: From's connector dials the proxy in front of
// To's listener.
type Link struct{ From, To string }

// String returns "From->To".
func (l Link) String() string { return l.From + "->" + l.To }

// Recorder writes the capture files of one run. Its methods are safe for
// concurrent use.
type Recorder struct {
	opts  Options
	log   *slog.Logger
	links []Link

	mu     sync.Mutex
	files  map[string]*file     // by file name
	routes map[string]Link      // "from|dialed address" -> link
	dials  map[Link][]time.Time // the latest dials of each link
	notes  []string
	closed bool
}

// maxDials is how many dial times a link keeps for attributing accepted
// connections that carry no CR.
const maxDials = 16

// NewRecorder creates opts.Dir and, for every link, its two capture files.
func NewRecorder(opts Options, links []Link) (*Recorder, error) {
	if opts.Dir == "" {
		return nil, errors.New("capture: no folder given")
	}
	if opts.Limit <= 0 {
		opts.Limit = DefaultLimit
	}
	if opts.Limit < 4096 {
		return nil, fmt.Errorf("capture: size limit %d bytes is below the minimum of 4096", opts.Limit)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	r := &Recorder{opts: opts, log: opts.Logger, links: links, files: map[string]*file{},
		routes: map[string]Link{}, dials: map[Link][]time.Time{}}
	for _, l := range links {
		for _, side := range []Side{Sent, Received} {
			if _, err := r.file(l, side); err != nil {
				r.Close()
				return nil, err
			}
		}
	}
	return r, nil
}

// file returns (creating it when needed) the capture file of one side of
// link l; a zero From or To stands for connections no link claims. r.mu
// must not be held.
func (r *Recorder) file(l Link, side Side) (*file, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("capture: recorder closed")
	}
	name, comment := FileName(l.From, l.To, side), ""
	switch {
	case side == Sent && l.To == "":
		name = "unattributed-" + l.From + ".sent.pcapng"
		comment = fmt.Sprintf("mtastorm: connections %s dialed to an address no link of the run names", l.From)
	case side == Received && l.From == "":
		name = "unattributed-" + l.To + ".received.pcapng"
		comment = fmt.Sprintf("mtastorm: connections %s accepted that no link of the run could be given", l.To)
	case side == Sent:
		comment = fmt.Sprintf("mtastorm: link %s, sent side: what %s wrote to and read from its connections to the proxy", l, l.From)
	default:
		comment = fmt.Sprintf("mtastorm: link %s, received side: what %s read from and wrote to its connections from the proxy", l, l.To)
	}
	if f, ok := r.files[name]; ok {
		return f, nil
	}
	f, err := createFile(filepath.Join(r.opts.Dir, name), FileStats{Name: name, Link: l.String(), Side: side, Limit: r.opts.Limit}, comment)
	if err != nil {
		return nil, err
	}
	r.files[name] = f
	return f, nil
}

// Route says that from's connections to addr (the proxy's address that
// from's connector was pointed at) belong to link l. Call it before from
// can dial addr.
func (r *Recorder) Route(l Link, addr string) {
	r.mu.Lock()
	r.routes[l.From+"|"+addr] = l
	r.mu.Unlock()
}

// Tap returns the connection hook of the MTA called mta
// (mtastub.Config.Tap): it records every connection the MTA dials
// (dialed: the address) or accepts (dialed: "") and returns the
// connection the MTA should use instead. A connection whose addresses are
// not TCP/IP is returned as it is.
func (r *Recorder) Tap(mta string) func(conn net.Conn, dialed string) net.Conn {
	return func(conn net.Conn, dialed string) net.Conn {
		local, err := addrPort(conn.LocalAddr())
		if err == nil {
			var remote netip.AddrPort
			if remote, err = addrPort(conn.RemoteAddr()); err == nil {
				return r.tap(mta, conn, dialed, local, remote)
			}
		}
		r.log.Warn("capture: connection not recorded", "mta", mta, "err", err)
		return conn
	}
}

// dialedLink returns the link of a connection mta dialed to addr.
func (r *Recorder) dialedLink(mta, addr string, at time.Time) (Link, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.routes[mta+"|"+addr]
	if ok {
		d := append(r.dials[l], at)
		if len(d) > maxDials {
			d = d[len(d)-maxDials:]
		}
		r.dials[l] = d
	}
	return l, ok
}

// inbound returns the links into mta.
func (r *Recorder) inbound(mta string) []Link {
	var out []Link
	for _, l := range r.links {
		if l.To == mta {
			out = append(out, l)
		}
	}
	return out
}

// guess attributes a connection mta accepted at t that named no calling
// TSAP: the only link into mta, else the link into it whose dial came
// closest to t. The reason goes into the connection's first packet.
func (r *Recorder) guess(mta string, t time.Time) (Link, string) {
	in := r.inbound(mta)
	switch len(in) {
	case 0:
		return Link{To: mta}, "no link of the run leads to " + mta
	case 1:
		return in[0], "no CR seen; the only link into " + mta
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	best, bestGap := Link{To: mta}, time.Duration(-1)
	for _, l := range in {
		for _, d := range r.dials[l] {
			gap := t.Sub(d)
			if gap < 0 {
				gap = -gap
			}
			if bestGap < 0 || gap < bestGap {
				best, bestGap = l, gap
			}
		}
	}
	if bestGap < 0 {
		return best, "no CR seen and no dial on any link into " + mta
	}
	return best, fmt.Sprintf("no CR seen; the link into %s dialed closest to the accept (%s apart)", mta, bestGap.Round(time.Microsecond))
}

// tsapLink returns the link into mta from the MTA a calling TSAP such as
// "A.3" names.
func (r *Recorder) tsapLink(mta, tsap string) (Link, bool) {
	from, _, ok := strings.Cut(tsap, ".")
	if !ok {
		return Link{}, false
	}
	for _, l := range r.inbound(mta) {
		if l.From == from {
			return l, true
		}
	}
	return Link{}, false
}

// Note adds a sentence to the folder's README.txt (something a reader of
// the captures should know, such as an MTA whose side is not recorded).
func (r *Recorder) Note(s string) {
	r.mu.Lock()
	r.notes = append(r.notes, s)
	r.mu.Unlock()
}

// Close flushes and closes every file, writes README.txt into the folder
// and returns the files' statistics ordered by name. Connections still
// open are recorded no further.
func (r *Recorder) Close() ([]FileStats, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, nil
	}
	r.closed = true
	notes := r.notes
	files := make([]*file, 0, len(r.files))
	for _, f := range r.files {
		files = append(files, f)
	}
	r.mu.Unlock()
	now := time.Now()
	var errs []error
	stats := make([]FileStats, 0, len(files))
	for _, f := range files {
		st, err := f.close(now)
		stats = append(stats, st)
		errs = append(errs, err)
	}
	sort.Slice(stats, func(i, j int) bool { return stats[i].Name < stats[j].Name })
	errs = append(errs, writeReadme(r.opts.Dir, r.opts.Limit, stats, notes))
	return stats, errors.Join(errs...)
}

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Wire is one link's two capture files compared: what each side wrote and
// what the other read, per connection and in total.
type Wire struct {
	// Link is the link.
	Link Link
	// Sent and Received are the link's files; nil when missing (Missing
	// then names them).
	Sent, Received *File
	Missing        []string
	// Pairs are the link's connections, each seen from both ends when
	// both files recorded it, ordered by when they opened.
	Pairs []Pair
	// Up is the From->To direction, Down the To->From one.
	Up, Down Flow
}

// Pair is one connection of a link: as the initiator saw it (in the sent
// file) and as the responder saw it (in the received file). Either may be
// nil when only one file holds it.
type Pair struct {
	Initiator, Responder *Conn
	// By says how the two were matched: "calling TSAP A.3", "time" or ""
	// (only one side).
	By string
}

// Opened returns when the connection opened: the earlier of its two
// sides.
func (p *Pair) Opened() time.Time {
	switch {
	case p.Initiator == nil:
		return p.Responder.Opened
	case p.Responder == nil || p.Initiator.Opened.Before(p.Responder.Opened):
		return p.Initiator.Opened
	}
	return p.Responder.Opened
}

// Up returns the From->To stream as written by From and as read by To;
// a side the files lack is nil.
func (p *Pair) Up() (sent, received *Stream) {
	if p.Initiator != nil {
		sent = &p.Initiator.Up
	}
	if p.Responder != nil {
		received = &p.Responder.Up
	}
	return sent, received
}

// Down returns the To->From stream as written by To and as read by From.
func (p *Pair) Down() (sent, received *Stream) {
	if p.Responder != nil {
		sent = &p.Responder.Down
	}
	if p.Initiator != nil {
		received = &p.Initiator.Down
	}
	return sent, received
}

// Flow is one direction of a link over all its connections.
type Flow struct {
	// From wrote and To read.
	From, To string
	// Sent and Received are the units written and read, in time order.
	Sent, Received []Unit
	// SentBytes and ReceivedBytes count the bytes written and read.
	SentBytes, ReceivedBytes int64
	// Cut is the number of bytes written that were never read, over the
	// connections seen from both ends whose bytes read are a prefix of the
	// bytes written; Mismatched counts the connections whose bytes read
	// are not (data changed on the way).
	Cut        int64
	Mismatched int
	// Delays are, for every unit seen from both ends, the time from its
	// write to its read.
	Delays []time.Duration
}

// Analyze reads the capture files of link l from dir (a bundle's
// captures/) and compares them. A missing file is listed in Missing; a
// file that cannot be read is an error.
func Analyze(dir string, l Link) (*Wire, error) {
	w := &Wire{Link: l, Up: Flow{From: l.From, To: l.To}, Down: Flow{From: l.To, To: l.From}}
	for _, side := range []Side{Sent, Received} {
		name := FileName(l.From, l.To, side)
		f, err := ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			w.Missing = append(w.Missing, name)
			continue
		}
		if err != nil {
			return nil, err
		}
		if side == Sent {
			w.Sent = f
		} else {
			w.Received = f
		}
	}
	w.pair()
	for i := range w.Pairs {
		p := &w.Pairs[i]
		s, r := p.Up()
		w.Up.add(s, r)
		s, r = p.Down()
		w.Down.add(s, r)
	}
	for _, f := range []*Flow{&w.Up, &w.Down} {
		sort.SliceStable(f.Sent, func(i, j int) bool { return f.Sent[i].At.Before(f.Sent[j].At) })
		sort.SliceStable(f.Received, func(i, j int) bool { return f.Received[i].At.Before(f.Received[j].At) })
	}
	return w, nil
}

// pairSlack is how far apart the two ends of a connection may have
// recorded its opening when they are matched by time.
const pairSlack = 250 * time.Millisecond

// pair matches the connections of the two files: by calling TSAP (the
// n-th of each TSAP with the n-th: an MTA restarted counts from 1 again),
// then the rest by opening time.
func (w *Wire) pair() {
	var ini, res []*Conn
	if w.Sent != nil {
		ini = w.Sent.Conns
	}
	if w.Received != nil {
		res = w.Received.Conns
	}
	usedI, usedR := make([]bool, len(ini)), make([]bool, len(res))
	byTSAP := map[string][]int{}
	for j, c := range res {
		if c.CallingTSAP != "" {
			byTSAP[c.CallingTSAP] = append(byTSAP[c.CallingTSAP], j)
		}
	}
	for i, c := range ini {
		if c.CallingTSAP == "" || len(byTSAP[c.CallingTSAP]) == 0 {
			continue
		}
		j := byTSAP[c.CallingTSAP][0]
		byTSAP[c.CallingTSAP] = byTSAP[c.CallingTSAP][1:]
		usedI[i], usedR[j] = true, true
		w.Pairs = append(w.Pairs, Pair{Initiator: c, Responder: res[j], By: "calling TSAP " + c.CallingTSAP})
	}
	for i, c := range ini {
		if usedI[i] {
			continue
		}
		usedI[i] = true
		p := Pair{Initiator: c}
		for j, r := range res {
			if !usedR[j] && r.CallingTSAP == "" && r.Opened.After(c.Opened.Add(-pairSlack)) && r.Opened.Before(c.Opened.Add(pairSlack)) {
				usedR[j], p.Responder, p.By = true, r, "time"
				break
			}
		}
		w.Pairs = append(w.Pairs, p)
	}
	for j, r := range res {
		if !usedR[j] {
			w.Pairs = append(w.Pairs, Pair{Responder: r})
		}
	}
	sort.SliceStable(w.Pairs, func(a, b int) bool { return w.Pairs[a].Opened().Before(w.Pairs[b].Opened()) })
}

// add counts one connection's stream in the direction, as written (sent)
// and as read (received).
func (f *Flow) add(sent, received *Stream) {
	if sent != nil {
		f.Sent = append(f.Sent, sent.Units...)
		f.SentBytes += int64(len(sent.Data))
	}
	if received != nil {
		f.Received = append(f.Received, received.Units...)
		f.ReceivedBytes += int64(len(received.Data))
	}
	if sent == nil || received == nil {
		return
	}
	if bytes.HasPrefix(sent.Data, received.Data) {
		f.Cut += int64(len(sent.Data) - len(received.Data))
	} else {
		f.Mismatched++
	}
	for k := 0; k < len(sent.Units) && k < len(received.Units); k++ {
		a, b := sent.Units[k], received.Units[k]
		if a.Kind != b.Kind || a.Offset != b.Offset {
			break
		}
		f.Delays = append(f.Delays, b.At.Sub(a.At))
	}
}

// Kinds lists units as their kinds in order, runs of one kind folded:
// "CR BIND TRANSFER×12 RELEASE".
func Kinds(units []Unit) string {
	var b strings.Builder
	for i := 0; i < len(units); {
		j := i
		for j < len(units) && units[j].Kind == units[i].Kind {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(units[i].Kind.String())
		if j-i > 1 {
			b.WriteString("×" + strconv.Itoa(j-i))
		}
		i = j
	}
	return b.String()
}

// Counts returns how many units of each kind units holds, as "BIND 3,
// TRANSFER 40" in the order the kinds first appear.
func Counts(units []Unit) string {
	var order []string
	n := map[string]int{}
	for _, u := range units {
		k := u.Kind.String()
		if n[k] == 0 {
			order = append(order, k)
		}
		n[k]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s %d", k, n[k])
	}
	return strings.Join(parts, ", ")
}

// Files lists the links' capture files present in dir, for a caller that
// wants to know whether a bundle has captures at all.
func Files(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".pcapng") {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

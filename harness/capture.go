package harness

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/mtastorm/mtastorm/harness/capture"
	"github.com/mtastorm/mtastorm/harness/scenario"
)

// DirCaptures is the bundle folder that holds the per-link captures.
const DirCaptures = "captures"

// capturing reports whether a run of sc with opts records captures.
func capturing(sc *scenario.Scenario, opts Options) bool {
	return opts.Capture || sc.Capture
}

// startCapture opens the run's capture recorder when the scenario or the
// options ask for captures. Captures go into the bundle: without one (Out
// "") nothing is recorded, and the log says so.
func (r *run) startCapture() error {
	if !capturing(r.sc, r.opts) {
		return nil
	}
	if r.opts.Out == "" {
		r.log.Warn("capture requested but the run writes no bundle: nothing is recorded")
		return nil
	}
	links := make([]capture.Link, len(r.sc.Links))
	for i, l := range r.sc.Links {
		links[i] = capture.Link{From: l.From, To: l.To}
	}
	rec, err := capture.NewRecorder(capture.Options{Dir: filepath.Join(r.opts.Out, DirCaptures), Limit: r.opts.CaptureLimit, Logger: r.log}, links)
	if err != nil {
		return &InfraError{Err: fmt.Errorf("harness: %w", err)}
	}
	for _, m := range r.sc.MTAs {
		if m.Admin != "" {
			rec.Note(fmt.Sprintf("%s is a standalone mtastub (admin %s): its own connections are not recorded, so its side of every link is empty.", m.Name, m.Admin))
		}
	}
	r.rec = rec
	return nil
}

// tap returns the connection hook of the MTA of spec, nil when the run
// records nothing or the MTA is not in this process.
func (r *run) tap(spec scenario.MTASpec) func(net.Conn, string) net.Conn {
	if r.rec == nil || spec.Admin != "" {
		return nil
	}
	return r.rec.Tap(spec.Name)
}

// closeCapture closes the recorder once the MTAs are stopped; a failure to
// write a capture is logged, not the run's failure.
func (r *run) closeCapture() {
	if r.rec == nil {
		return
	}
	stats, err := r.rec.Close()
	if err != nil {
		r.log.Warn("capture", "err", err)
	}
	for _, s := range stats {
		if s.Dropped > 0 {
			r.log.Warn("capture file reached its size limit", "file", s.Name, "limit", s.Limit, "dropped", s.Dropped)
		}
	}
}

// wireOf compares the capture files of every link of sc found in the
// bundle dir, for the report. A bundle without captures/ gives nil; a
// capture that cannot be read is an error naming the file.
func wireOf(dir string, sc *scenario.Scenario) ([]*capture.Wire, error) {
	cdir := filepath.Join(dir, DirCaptures)
	if files, err := capture.Files(cdir); err != nil || len(files) == 0 {
		return nil, nil
	}
	out := make([]*capture.Wire, 0, len(sc.Links))
	for _, l := range sc.Links {
		w, err := capture.Analyze(cdir, capture.Link{From: l.From, To: l.To})
		if err != nil {
			return nil, fmt.Errorf("harness: bundle: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

package harness

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mtastorm/mtastorm/harness/capture"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/internal/testkit"
)

// TestCaptureTruncateCutsExactly runs the shipped truncate scenario with
// captures: on every connection of a truncated link, what B read is
// exactly the first `bytes` bytes of what A wrote, so the two captures
// differ by the cut bytes and nothing else; the report shows the cut.
func TestCaptureTruncateCutsExactly(t *testing.T) {
	noTOXIPROXY(t)
	sc, err := scenario.Load("../scenarios/faults/truncate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	res, err := Run(testkit.Context(t), sc, Options{Out: dir, Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Wire) != len(sc.Links) {
		t.Fatalf("%d links compared, want %d", len(res.Wire), len(sc.Links))
	}
	for _, f := range sc.Faults {
		limit := int(f.Size("bytes"))
		w, err := capture.Analyze(filepath.Join(dir, DirCaptures), capture.Link{From: f.From, To: f.To})
		if err != nil {
			t.Fatal(err)
		}
		var cut, whole int
		var cutBytes int64
		for i, p := range w.Pairs {
			sent, recv := p.Up()
			if sent == nil || recv == nil {
				t.Errorf("%s: connection %d seen from one end only (%s)", f.Link, i, p.By)
				continue
			}
			switch {
			case bytes.Equal(sent.Data, recv.Data):
				whole++
			case len(sent.Data) > limit && bytes.Equal(recv.Data, sent.Data[:limit]):
				cut++
				cutBytes += int64(len(sent.Data) - limit)
				// The cut falls inside the BIND: B read the CR whole
				// and all of the BIND but its last byte.
				if got := capture.Kinds(recv.Units); got != "CR" || recv.Partial != limit-recv.Units[0].Len {
					t.Errorf("%s: connection %d: B read %q and %d B more", f.Link, i, got, recv.Partial)
				}
			default:
				t.Errorf("%s: connection %d: A wrote %d B, B read %d B: not the first %d B of them", f.Link, i, len(sent.Data), len(recv.Data), limit)
			}
		}
		// The scenario's attempts during the fault: at least 3 (its
		// expectations), and the batch before it went through whole.
		if cut < 3 || whole < 1 {
			t.Errorf("%s: %d connections cut at %d B, %d whole; want at least 3 and 1", f.Link, cut, limit, whole)
		}
		if w.Up.Cut != cutBytes || w.Up.Mismatched != 0 {
			t.Errorf("%s: flow says %d B cut (%d mismatched), the connections %d B", f.Link, w.Up.Cut, w.Up.Mismatched, cutBytes)
		}
	}
	report, err := os.ReadFile(filepath.Join(dir, FileReport))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="wire"`, `data-link="A0-&gt;B0"`, "never arrived (cut inside the BIND, after 84 of its 85 B)"} {
		if !bytes.Contains(report, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// TestJudgeRecomputesWire checks that mtastorm check draws the wire
// section from the bundle's captures alone, and names a capture it cannot
// read.
func TestJudgeRecomputesWire(t *testing.T) {
	noTOXIPROXY(t)
	sc := loadScenario(t, "", healthyExpect)
	dir := filepath.Join(t.TempDir(), "bundle")
	if _, err := Run(testkit.Context(t), sc, Options{Out: dir, Capture: true}); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, FileReport)
	if err := os.WriteFile(report, []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Judge(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Wire) != 1 || len(res.Wire[0].Up.Sent) == 0 || len(res.Wire[0].Up.Sent) != len(res.Wire[0].Up.Received) {
		t.Fatalf("wire of a healthy run: %+v", res.Wire)
	}
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="wire"`, `data-link="A-&gt;B"`, "A wrote", "TRANSFER"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("re-judged report.html lacks %q", want)
		}
	}

	// A capture that is not a capture: the bundle is bad input, named.
	bad := filepath.Join(dir, DirCaptures, capture.FileName("A", "B", capture.Received))
	if err := os.WriteFile(bad, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Judge(dir)
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "A-B.received.pcapng") {
		t.Errorf("judging a bundle with a broken capture: %v, want an input error naming the file", err)
	}

	// Without captures/ the report has no wire section.
	if err := os.RemoveAll(filepath.Join(dir, DirCaptures)); err != nil {
		t.Fatal(err)
	}
	if res, err = Judge(dir); err != nil || res.Wire != nil {
		t.Fatalf("judging without captures: %v, wire %v", err, res.Wire)
	}
	if html, _ = os.ReadFile(report); strings.Contains(string(html), `id="wire"`) {
		t.Error("a bundle without captures got a wire section")
	}
}

package repro

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/harness/repro/loggen"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// genLog writes a loggen log of rows rows to dir and returns its path and
// what it holds.
func genLog(t testing.TB, dir string, seed int64, rows int) (string, loggen.Stats) {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("gen-%d-%d.csv", seed, rows))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := loggen.Write(f, loggen.Options{Seed: seed, Events: rows, RestartEvery: rows / 8})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, st
}

func importPath(t testing.TB, p string) Signature {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, format, err := ImportSignature(f, p)
	if err != nil {
		t.Fatal(err)
	}
	if format != FormatCSV {
		t.Fatalf("format %q", format)
	}
	return s
}

// TestImportGenerated imports a generated customer-style log and checks
// the signature against what the generator wrote: every id counted, the
// not-modelled ones listed, the banner's build, restarts, 9156's
// configured count, tuples and control blocks.
func TestImportGenerated(t *testing.T) {
	p, st := genLog(t, t.TempDir(), 7, 6000)
	s := importPath(t, p)
	if s.Events != st.MTAEvents() || !s.Start.Equal(st.Start) || !s.End.Equal(st.End) {
		t.Errorf("events %d %v → %v, want %d %v → %v", s.Events, s.Start, s.End, st.MTAEvents(), st.Start, st.End)
	}
	for id, n := range st.Counts {
		if s.Count(id) != n {
			t.Errorf("id %d: %d, want %d", id, s.Count(id), n)
		}
	}
	if len(s.IDs) != len(st.Counts) {
		t.Errorf("%d ids, want %d", len(s.IDs), len(st.Counts))
	}
	want := slices.Clone(loggen.NotModelled)
	slices.Sort(want)
	got := slices.Clone(s.NotModelled)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("not modelled %v, want %v", s.NotModelled, loggen.NotModelled)
	}
	if st.Restarts < 2 || s.Restarts != st.Restarts {
		t.Errorf("restarts %d, want %d (at least 2)", s.Restarts, st.Restarts)
	}
	if s.Build != "5.5-sp2" || s.Banner != eventlog.Build55SP2 {
		t.Errorf("build %q banner %q", s.Build, s.Banner)
	}
	if len(s.ConfiguredCounts) != 1 || s.ConfiguredCounts[0] != (ConfiguredCount{Count: 200, Events: st.Counts[eventlog.IDNoControlBlocks]}) {
		t.Errorf("configured counts %v", s.ConfiguredCounts)
	}
	if n := len(s.ControlBlocks); n < 32 || s.ControlBlocksDropped != 0 {
		t.Errorf("%d control blocks, %d dropped", n, s.ControlBlocksDropped)
	}
	for _, st := range s.IDs {
		if st.ID == eventlog.IDAssocError && (len(st.Tuples) != 2 || st.Tuples["[2 20 1 8]"] == 0) {
			t.Errorf("1004 tuples %v", st.Tuples)
		}
	}
	if !s.Leak || !s.StateCheckKB {
		t.Errorf("leak %v, 1198 KB tuple %v", s.Leak, s.StateCheckKB)
	}
}

// TestSignatureBuilderOrder: records fed in any order give the signature
// of the records sorted by time, ties in the order given (as NewSignature
// had it when it sorted a slice of every record): the same signature as
// sorted first, and first-seen order, first times, start, end, build,
// banner and restarts as a walk over the sorted records finds them.
func TestSignatureBuilderOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := []int{1004, 1008, 1277, 1198, 9298, 9299, 9156, 9318}
	for trial := range 300 {
		var recs []eventlog.Record
		for i := range 1 + rng.IntN(30) {
			// Equal instants in different zones tell which record of a tie
			// gave Start and End.
			when := t0.Add(time.Duration(rng.IntN(6)) * time.Second).In(time.FixedZone(fmt.Sprint("Z", i), i*60))
			r := eventlog.Record{Source: eventlog.Source, ID: ids[rng.IntN(len(ids))], Time: when}
			r.KCB, r.State = rng.IntN(3), rng.IntN(3)
			r.Build = []string{"", eventlog.Build55SP2, eventlog.BuildSP0, "1.2"}[rng.IntN(4)]
			r.Limit = rng.IntN(3) * 100
			r.MTA = []string{"", "A", "B"}[rng.IntN(3)]
			recs = append(recs, r)
		}
		sorted := slices.Clone(recs)
		sortRecords(sorted)
		want, _ := NewSignature(sorted).JSON()
		s := NewSignature(recs)
		got, _ := s.JSON()
		if !bytes.Equal(got, want) {
			t.Fatalf("trial %d: in file order\n%s\nsorted first\n%s", trial, got, want)
		}
		// The walk over the sorted records.
		var order []int
		first := map[int]float64{}
		build, banner, restarts, last := "", "", 0, 0
		for _, r := range sorted {
			if _, ok := first[r.ID]; !ok {
				first[r.ID] = r.Time.Sub(sorted[0].Time).Seconds()
				order = append(order, r.ID)
			}
			if r.ID == eventlog.IDStart || r.ID == eventlog.IDStop {
				if r.Build != "" {
					banner = r.Build
					if b := buildOfBanner(r.Build); b != "" {
						build = b
					}
				}
				if last == eventlog.IDStop && r.ID == eventlog.IDStart {
					restarts++
				}
				last = r.ID
			}
		}
		if !slices.Equal(s.Order, order) || s.Build != build || s.Banner != banner || s.Restarts != restarts {
			t.Fatalf("trial %d: order %v build %q banner %q restarts %d, want %v %q %q %d", trial, s.Order, s.Build, s.Banner, s.Restarts, order, build, banner, restarts)
		}
		if s.Start != sorted[0].Time || s.End != sorted[len(sorted)-1].Time {
			t.Fatalf("trial %d: start %v end %v, want %v %v", trial, s.Start, s.End, sorted[0].Time, sorted[len(sorted)-1].Time)
		}
		for _, st := range s.IDs {
			if st.FirstS != first[st.ID] {
				t.Fatalf("trial %d: %d first at %v, want %v", trial, st.ID, st.FirstS, first[st.ID])
			}
		}
	}
}

// TestSignatureCaps: the sets a signature keeps stop at their caps and
// count what they drop.
func TestSignatureCaps(t *testing.T) {
	b := NewSignatureBuilder()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n := MaxControlBlocks + 10
	for i := range n {
		when := t0.Add(time.Duration(i) * time.Second)
		b.Add(eventlog.Record{Time: when, ID: eventlog.IDConnRefused, KCB: i + 1, MTA: fmt.Sprint("M", i)})
		b.Add(eventlog.Record{Time: when, ID: eventlog.IDAssocError, State: i})
		b.Add(eventlog.Record{Time: when, ID: eventlog.IDNoControlBlocks, Limit: i + 1})
		b.Add(eventlog.Record{Time: when, ID: eventlog.IDStop - i%2, Build: "2448.4"})
	}
	s := b.Signature()
	if len(s.ControlBlocks) != MaxControlBlocks || s.ControlBlocksDropped != 10 {
		t.Errorf("control blocks %d, dropped %d", len(s.ControlBlocks), s.ControlBlocksDropped)
	}
	if len(s.Computers) != MaxComputers || s.ComputersDropped != n-MaxComputers {
		t.Errorf("computers %d, dropped %d", len(s.Computers), s.ComputersDropped)
	}
	if len(s.ConfiguredCounts) != MaxConfiguredCounts || s.ConfiguredCountsDropped != n-MaxConfiguredCounts {
		t.Errorf("configured counts %d, dropped %d", len(s.ConfiguredCounts), s.ConfiguredCountsDropped)
	}
	if s.BannersDropped != n-MaxBanners || s.Restarts != MaxBanners/2 {
		t.Errorf("banners dropped %d, restarts %d", s.BannersDropped, s.Restarts)
	}
	for _, st := range s.IDs {
		if st.ID == eventlog.IDAssocError && (len(st.Tuples) != MaxTuples || st.TuplesDropped != n-MaxTuples) {
			t.Errorf("1004 tuples %d, dropped %d", len(st.Tuples), st.TuplesDropped)
		}
	}
	if s.Count(eventlog.IDConnRefused) != n {
		t.Errorf("1277 ×%d, want %d", s.Count(eventlog.IDConnRefused), n)
	}
}

// heapOfImport imports the log at p as ImportSignature does and returns,
// less the live heap before, the most live heap seen during the import (a
// GC and a look every 2,000 records) and the heap in use, after a GC,
// while the signature is held.
func heapOfImport(t *testing.T, p string) (peak, retained int64, s Signature) {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var before, m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := NewSignatureBuilder()
	n := 0
	if _, err := ImportEach(f, p, func(r eventlog.Record) error {
		b.Add(r)
		if n++; n%2000 == 0 {
			runtime.GC()
			runtime.ReadMemStats(&m)
			peak = max(peak, int64(m.HeapAlloc)-int64(before.HeapAlloc))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	s = b.Signature()
	b = nil
	runtime.GC()
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(s)
	return peak, int64(m.HeapInuse) - int64(before.HeapInuse), s
}

// TestImportHeapBounded: the heap an import holds is bounded by the
// signature, not the log: importing a log four times larger holds about
// as much while reading, and retains about as much with the signature
// (ratios of measurements in one process, not times).
func TestImportHeapBounded(t *testing.T) {
	dir := t.TempDir()
	small, _ := genLog(t, dir, 11, 8000)  // ~2 MB
	large, _ := genLog(t, dir, 11, 32000) // ~8 MB
	heapOfImport(t, small)                // warm up: regexps, pools
	var ps, pl, rs, rl int64
	var ss, sl Signature
	// The smallest of three measurements of each (one under the slow race
	// detector): another goroutine's garbage can only add.
	rounds := 3
	if raceDetector {
		rounds = 1
	}
	for i := range rounds {
		p1, r1, s1 := heapOfImport(t, small)
		p2, r2, s2 := heapOfImport(t, large)
		if i == 0 {
			ps, rs, pl, rl = p1, r1, p2, r2
		}
		ps, rs, pl, rl = min(ps, p1), min(rs, r1), min(pl, p2), min(rl, r2)
		ss, sl = s1, s2
	}
	if sl.Events < 3*ss.Events {
		t.Fatalf("the large log has %d events, the small %d", sl.Events, ss.Events)
	}
	const slack = 512 << 10 // heap spans, buffers, the signature's maps
	t.Logf("%d events: %d bytes live while reading, %d retained; %d events: %d live, %d retained", ss.Events, ps, rs, sl.Events, pl, rl)
	if pl > 2*max(ps, 0)+slack {
		t.Errorf("reading 4× the events held %d bytes against %d: memory grows with the log", pl, ps)
	}
	if rl > 2*max(rs, 0)+slack {
		t.Errorf("the signature of 4× the events retains %d bytes against %d: it grows with the log", rl, rs)
	}
}

// BenchmarkImportSignature imports a generated 20,000-row (~5 MB) Event
// Viewer CSV and reports allocations and bytes allocated per event.
func BenchmarkImportSignature(b *testing.B) {
	p, st := genLog(b, b.TempDir(), 1, 20000)
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := ImportSignature(bytes.NewReader(data), "bench.csv"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	events := float64(b.N) * float64(st.Rows)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/events, "allocs/event")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/events, "B/event")
}

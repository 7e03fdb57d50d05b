package report

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mtastorm/mtastorm/faults"
	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/result"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// syntheticOrg is a made-up judged run of a hub-and-spokes organisation
// of n MTAs (hub and n-1 spokes, a link and a traffic pair each way), run
// for dur with the pool sampled every 50ms, every link storming from 2 s
// for 10 s: what the report of a 200-MTA run is drawn from, without
// running one. Everything random comes from seed. Which MTAs leak, stop or
// keep messages undelivered is known to the tests through want.
func syntheticOrg(tb testing.TB, n int, dur time.Duration, seed uint64) (*Input, syntheticTruth) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x6f7267))
	builds := []string{"4.0", "4.0-sp2", "5.5-sp2", "5.5-sp3", "5.5-sp4"}
	names := make([]string, n)
	names[0] = "hub"
	for i := 1; i < n; i++ {
		names[i] = fmt.Sprintf("s%03d", i)
	}
	var y strings.Builder
	fmt.Fprintf(&y, "version: 1\nname: synthetic-org-%d\nseed: %d\ndefaults:\n  kcbs: 4\nmtas:\n  - {name: hub, build: \"5.5-sp4\", kcbs: 64}\n", n, seed)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&y, "  - {name: %s, build: %q}\n", names[i], builds[i%len(builds)])
	}
	y.WriteString("links:\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&y, "  - {from: hub, to: %s}\n  - {from: %s, to: hub}\n", names[i], names[i])
	}
	y.WriteString("traffic:\n")
	const msgs = 20
	for i := 1; i < n; i++ {
		fmt.Fprintf(&y, "  - {from: hub, to: %s, messages: %d, size: 1KiB, rate: 10/s, start: 0s}\n", names[i], msgs)
		fmt.Fprintf(&y, "  - {from: %s, to: hub, messages: %d, size: 1KiB, rate: 10/s, start: 0s}\n", names[i], msgs)
	}
	y.WriteString("faults:\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&y, "  - {at: 2s, duration: 10s, link: hub->%s, type: storm, rate: 3/s}\n", names[i])
		fmt.Fprintf(&y, "  - {at: 2s, duration: 10s, link: %s->hub, type: storm, rate: 3/s}\n", names[i])
	}
	fmt.Fprintf(&y, "expect:\n  recovery: {within: 10s, delivered: all}\nduration: %s\n", dur)
	sc, err := scenario.LoadBytes("synthetic-org.yaml", []byte(y.String()))
	if err != nil {
		tb.Fatalf("synthetic scenario: %v", err)
	}

	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	in := &Input{Scenario: sc, Schedule: &faults.Schedule{Scenario: sc.Name, Seed: int64(seed)}}
	truth := syntheticTruth{Leaky: map[string]int{}, Stopped: map[string]bool{}, Undelivered: map[string]int{}}

	// The storm: about 3 sub-faults a second on each link, each a refuse
	// (disable, enable) or a latency toxic (add, remove) of 50..500ms.
	fault := 0
	for li, l := range sc.Links {
		for t := 2.0 + rng.Float64()/3; t < 12; t += rng.ExpFloat64() / 3 {
			d := time.Duration((0.05 + 0.45*rng.Float64()) * float64(time.Second))
			from := time.Duration(t * float64(time.Second))
			if rng.IntN(2) == 0 {
				in.Schedule.Toggles = append(in.Schedule.Toggles,
					faults.Toggle{Offset: from, Link: l.String(), Fault: li, Type: faults.TypeRefuse, Action: faults.ActDisable},
					faults.Toggle{Offset: from + d, Link: l.String(), Fault: li, Type: faults.TypeRefuse, Action: faults.ActEnable, Heal: true})
			} else {
				tx := &toxi.Toxic{Name: "f" + strconv.Itoa(fault) + "-latency", Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": 200}}
				in.Schedule.Toggles = append(in.Schedule.Toggles,
					faults.Toggle{Offset: from, Link: l.String(), Fault: li, Type: faults.TypeLatency, Action: faults.ActAddToxic, Toxic: tx},
					faults.Toggle{Offset: from + d, Link: l.String(), Fault: li, Type: faults.TypeLatency, Action: faults.ActRemoveToxic, Heal: true, Toxic: tx})
			}
			fault++
		}
	}

	// Which spokes go wrong: a 4.0 spoke (sp0, the Q152877 defect) leaks
	// with probability 1/2, one KCB per leak up to its pool; a few of
	// them keep the leak to the end and leave messages to them
	// undelivered; one spoke in 25 (all 4.0) is restarted at 13.8 s,
	// which returns its leaked KCBs.
	for i, m := range sc.MTAs {
		name := m.Name
		leak, leakFrom, keep := 0, 0.0, false
		if i > 0 && m.Build == "4.0" && rng.IntN(2) == 0 {
			leak = 1 + rng.IntN(m.KCBs-1)
			leakFrom = 3 + 8*rng.Float64()
			keep = rng.IntN(3) == 0 || i%25 == 0 // until the restart
			truth.Leaky[name] = leak
		}
		stopFrom := -1.0
		if i > 0 && i%25 == 0 {
			stopFrom = 13.8
			truth.Stopped[name] = true
		}
		ms := &result.MTASummary{Mode: m.Mode, Build: m.BuildName(), Defects: m.DefectSet(), Events: map[string]int{}}
		in.Summary.MTAs = mapWith(in.Summary.MTAs, name, ms)
		// Samples every 50ms.
		for k := 0; float64(k)*0.05 <= dur.Seconds(); k++ {
			ts := float64(k) * 0.05
			leaked := 0
			if leak > 0 && ts >= leakFrom {
				leaked = min(leak, 1+int((ts-leakFrom)/0.4))
				if !keep && ts > 13 || stopFrom >= 0 && ts >= stopFrom {
					leaked = 0
				}
			}
			running := !(stopFrom >= 0 && ts >= stopFrom && ts < stopFrom+0.3)
			busy := 0
			if running && ts < 16 {
				busy = min(m.KCBs-1-leaked, rng.IntN(3))
			}
			idle := m.KCBs - 1 - busy - leaked
			if !running {
				busy, leaked, idle = 0, 0, 0
			}
			in.Samples = append(in.Samples, result.Sample{T: ts, MTA: name, Idle: idle, Busy: busy, Leaked: leaked, Queued: rng.IntN(4), Running: running})
			ms.KCBsLeaked = max(ms.KCBsLeaked, leaked)
			ms.LeakedAtEnd = leaked
		}
		// Events: mostly during the storm; a leaking 4.0 spoke logs 1008
		// per leak and 1277 once its pool is gone.
		nev := 40 + rng.IntN(200)
		if i == 0 {
			nev = 2000
		}
		for range nev {
			ts := 2 + 10*rng.Float64()
			id := eventlog.IDAssocError
			switch r := rng.IntN(10); {
			case strings.HasPrefix(m.Build, "5.5") && r < 3:
				id = []int{eventlog.IDConnError, eventlog.IDInternalError, eventlog.IDConnectRefused, eventlog.IDConnReset}[rng.IntN(4)]
			case leak > 0 && ts > leakFrom && r < 6:
				id = eventlog.IDConnRefused
			case leak > 0 && r < 8:
				id = eventlog.IDAssocErrorAnon
			}
			in.Events = append(in.Events, eventlog.Record{Time: at(ts), MTA: name, Source: eventlog.Source, ID: id})
			ms.Events[strconv.Itoa(id)]++
		}
	}

	// Deliveries: every pair's messages at 10/s from 0 s; messages to a
	// spoke that keeps its leak stop at the leak.
	for _, tr := range sc.Traffic {
		p := result.PairSummary{From: tr.From, To: tr.To, Declared: tr.Messages, Submitted: tr.Messages}
		for k := range tr.Messages {
			ts := 0.1*float64(k) + 0.05
			if in.Summary.MTAs[tr.To].LeakedAtEnd > 0 && k >= tr.Messages/2 {
				p.Undelivered++
				truth.Undelivered[tr.To]++
				continue
			}
			in.Deliveries = append(in.Deliveries, result.DeliveryRecord{
				Delivery: kernel.Delivery{ID: fmt.Sprintf("%s-%s-%d", tr.From, tr.To, k), From: tr.From, To: tr.To, Size: 1024, At: at(ts)}, T: ts})
			p.Delivered++
		}
		in.Summary.MTAs[tr.From].Submitted += p.Submitted
		in.Summary.MTAs[tr.To].Delivered += p.Delivered
		in.Summary.Pairs = append(in.Summary.Pairs, p)
	}
	// Events in time order, as a bundle has them.
	sortEvents(in.Events)

	in.Summary.Scenario, in.Summary.Seed, in.Summary.Started = sc.Name, sc.Seed, t0
	in.Summary.DurationS = dur.Seconds()
	in.Summary.AnchorS = 12
	in.Summary.Verdict = result.Failed
	in.Summary.Checks = []result.Check{
		{Name: "delivery", Verdict: result.Failed, Detail: fmt.Sprintf("%d undelivered", sumValues(truth.Undelivered))},
		{Name: "recovery", Verdict: result.Failed, Detail: "not every message delivered"},
		{Name: "faults", Verdict: result.Passed, Detail: fmt.Sprintf("%d toggles verified on the wire", len(in.Schedule.Toggles))},
	}
	return in, truth
}

// syntheticTruth is what syntheticOrg made go wrong, per MTA.
type syntheticTruth struct {
	// Leaky is the most KCBs each leaking MTA leaks.
	Leaky map[string]int
	// Stopped are the MTAs restarted during the run (at 13.8 s, for 0.3 s).
	Stopped map[string]bool
	// Undelivered counts the messages to each MTA never delivered.
	Undelivered map[string]int
}

func mapWith(m map[string]*result.MTASummary, k string, v *result.MTASummary) map[string]*result.MTASummary {
	if m == nil {
		m = map[string]*result.MTASummary{}
	}
	m[k] = v
	return m
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func sortEvents(es []eventlog.Record) {
	slices.SortStableFunc(es, func(a, b eventlog.Record) int { return a.Time.Compare(b.Time) })
}

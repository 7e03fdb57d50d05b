package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness/repro"
	"github.com/mtastorm/mtastorm/mtastub/eventlog"
)

// Candidate runs timed by runRepro: a few one after the other (as the
// search ran them before issue 14), and twice the default parallelism at
// once (two waves of the window). --quick runs 3 and one wave.
const (
	reproSequentialRuns      = 4
	reproSequentialRunsQuick = 3
)

// runRepro measures the repro search's candidate runs per minute,
// concurrently (repro's default Parallel for this machine) against
// sequentially, side by side on one embedded Toxiproxy, with the same
// fixed list of short candidates (repro.BenchPlans: 2.6 s scenarios).
func runRepro(ctx context.Context, o *Options) []Result {
	const fig = "repro_candidates_per_min"
	m, err := repro.ReadMachine()
	if err != nil {
		return []Result{failed(fig, "ratio", err)}
	}
	par := m.DefaultParallel()
	if err := m.Check(par); err != nil {
		return []Result{failed(fig, "ratio", err)}
	}
	nSeq, nPar := reproSequentialRuns, 2*par
	if o.Quick {
		nSeq, nPar = reproSequentialRunsQuick, par
	}
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{})
	if err != nil {
		return []Result{failed(fig, "ratio", fmt.Errorf("bench: %w", err))}
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Close(cctx)
	}()
	customer := repro.NewSignature([]eventlog.Record{{Source: eventlog.Source, ID: eventlog.IDAssocErrorAnon, State: 2,
		Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}})
	perMin := func(parallel, n int) (float64, time.Duration, error) {
		start := time.Now()
		trials, err := repro.RunPlans(ctx, customer, repro.BenchPlans(n), repro.Options{Parallel: parallel, Backend: b, Name: "bench"})
		wall := time.Since(start)
		if err != nil {
			return 0, wall, err
		}
		if len(trials) != n {
			return 0, wall, fmt.Errorf("bench: %d of %d candidate runs finished (parallel %d)", len(trials), n, parallel)
		}
		return float64(n) / wall.Minutes(), wall, nil
	}
	seq, seqWall, err := perMin(1, nSeq)
	if err != nil {
		return []Result{failed(fig, "ratio", err)}
	}
	conc, concWall, err := perMin(par, nPar)
	if err != nil {
		return []Result{failed(fig, "ratio", err)}
	}
	detail := fmt.Sprintf("parallel %d: %d runs in %.1fs = %.0f/min; one at a time: %d runs in %.1fs = %.1f/min; %d CPUs",
		par, nPar, concWall.Seconds(), conc, nSeq, seqWall.Seconds(), seq, m.CPUs)
	return []Result{
		measured(fig, conc/seq, detail),
		info("repro_runs_per_min_parallel", conc, "count", fmt.Sprintf("%d at once", par)),
		info("repro_runs_per_min_sequential", seq, "count", "one at a time"),
	}
}

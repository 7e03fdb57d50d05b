package repro

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mtastorm/mtastorm/faults/toxi"
	"github.com/mtastorm/mtastorm/harness"
	"github.com/mtastorm/mtastorm/harness/scenario"
	"github.com/mtastorm/mtastorm/mtastub/kernel"
)

// Defaults of Options.
const (
	DefaultBudget = 60 * time.Second
	DefaultSeeds  = MinSeeds
)

// MinSeeds is the fewest further seeds a hit rate is measured over (CATALOGUE.md
// C6): a candidate whose hit rate could not be measured over as many is not
// a reproduction.
const MinSeeds = 3

// runOverhead is what a run costs beyond its scenario duration (MTAs,
// proxies, teardown); a run is launched only if duration + overhead fits.
const runOverhead = 700 * time.Millisecond

// Options tune a Search. The zero value searches for DefaultBudget on an
// embedded Toxiproxy of its own.
type Options struct {
	// Budget bounds the whole search, the verification run included
	// (default 60s). No run is launched that cannot end within it.
	Budget time.Duration
	// Seeds is how many further seeds the hit rate of the best candidate
	// is measured over (default and minimum MinSeeds); the run that found
	// the candidate is not one of them.
	Seeds int
	// Parallel is how many candidate runs go at once, each with its own
	// MTAs and proxies on the shared Toxiproxy (default: the machine's
	// [Machine.DefaultParallel]). Search checks before it starts that the
	// descriptors and memory left can hold as many ([Machine.Check]).
	Parallel int
	// Backend is the Toxiproxy every run shares; nil opens an embedded one
	// for the search and closes it at the end.
	Backend toxi.Backend
	// Progress, when set, receives one line per finished run.
	Progress io.Writer
	// OnStep, when set, is called after every finished run (for a progress bar).
	OnStep func(Step)
	// Logger receives the search's logs (default: discard).
	Logger *slog.Logger
	// Name names the generated scenario (default "repro"); it is
	// lower-cased and stripped of characters a scenario name cannot hold.
	Name string
	// Seed is the seed of the first runs (default DefaultSeed).
	Seed int64

	// run, when set, replaces harness.Run (tests: a deterministic lab).
	run func(ctx context.Context, sc *scenario.Scenario) (*harness.Result, error)
}

// DefaultSeed is the seed of a search's first runs when Options.Seed is 0.
const DefaultSeed = 152877

// Step reports one finished run of a search.
type Step struct {
	// Phase is explore, refine (a follow-up batch), hit-rate, shrink or verify.
	Phase string
	// Trial is the run that finished.
	Trial Trial
	// Tried is how many runs have finished so far.
	Tried int
	// Elapsed is the time since the search started.
	Elapsed time.Duration
	// Best is the best score so far.
	Best float64
}

// Trial is one scored candidate run.
type Trial struct {
	Plan  Plan      `json:"-"`
	Score float64   `json:"score"`
	Sig   Signature `json:"-"`
	// Leaked is the most KCBs leaked at once at any MTA.
	Leaked int `json:"kcbs_leaked"`
	// Delivered and Submitted count messages over all MTAs.
	Delivered int     `json:"delivered"`
	Submitted int     `json:"submitted"`
	Seconds   float64 `json:"seconds"`
	// Events counts events per MTA and ID, as in summary.json.
	Events map[string]map[string]int `json:"-"`
}

// Outcome is what a search found.
type Outcome struct {
	// Reproduced is true when the best candidate scored at least
	// Threshold (so its run logged every catalogued ID of the log), hit in
	// at least half of at least MinSeeds further seeds, its repro.yaml
	// passed its verification runs, and the log has no ID the stub does
	// not model.
	Reproduced bool
	// Reason says why the log was not reproduced ("" when it was).
	Reason string
	// Score is the best candidate's score.
	Score float64
	// Mode is the build whose best run matches the log better by more
	// than the mode margin ("sp0" or "sp2"), "either" when the two builds'
	// best scores lie within it (above the threshold or below), "" when a
	// build has no run to compare.
	Mode string
	// ModeScores is the best score seen under each build.
	ModeScores map[string]float64
	// HitRate is Hits / HitRuns: the share of further seeds whose run
	// scored at least Threshold (0 when none was measured).
	HitRate float64
	// HitRuns is how many further-seed runs the hit rate was measured over;
	// Hits how many of them scored at least Threshold.
	HitRuns, Hits int
	// Missing lists the catalogued IDs of the customer's log that the best
	// candidate's run did not log (see Missing).
	Missing []int
	// NotModelled lists the IDs of the customer's log that the stub's
	// catalogue does not know.
	NotModelled []int
	// Unreproduced lists the IDs of the customer's log that repro.yaml
	// carries no expectation for, and why.
	Unreproduced []Unreproduced
	// Launches records every run the search launched, in order.
	Launches []Launch
	// Tried is how many runs the search made (verification included).
	Tried int
	// Parallel is how many runs the search let go at once; PeakRunning
	// how many were in flight at once at most.
	Parallel, PeakRunning int
	// Elapsed is how long the search took.
	Elapsed time.Duration
	// Customer is the signature searched for.
	Customer Signature
	// Best is the best candidate found by exploring; Final is Best after
	// shrinking.
	Best, Final Trial
	// Shrinks lists the shrinking steps that were kept.
	Shrinks []string
	// Scenario is the repro scenario (Final with expectations), nil if none.
	Scenario *scenario.Scenario
	// Verified reports whether Scenario passed its verification run;
	// Verdict and Checks are that run's verdict and checks.
	Verified bool
	Verdict  string
	Checks   []harness.Check
	// Trials are every explored candidate, follow-ups included, best first.
	Trials []Trial
	// FollowUps are the follow-up batches run after the initial one, with
	// why each plan was chosen.
	FollowUps []FollowUp
	// hitRates are the hit rates measured, by plan key and mode;
	// notMeasured says why a runner-up's was not ("budget", "runs lost").
	hitRates    map[string]measurement
	notMeasured map[string]string
}

// Unreproduced is an ID of the customer's log that the repro scenario does
// not expect, and why.
type Unreproduced struct {
	ID  int    `json:"id"`
	Why string `json:"why"`
}

// Launch is one run the search launched: its phase, plan, when (from the
// search's start) and its scenario duration. The search launches a run only
// if At + Planned + the run overhead (and, but for verification, the time
// kept back for it) fits in the budget.
type Launch struct {
	Phase   string        `json:"phase"`
	Plan    string        `json:"plan"`
	Seed    int64         `json:"seed"`
	At      time.Duration `json:"at"`
	Planned time.Duration `json:"planned"`
	// Reserve is the time kept back for later phases when it was launched.
	Reserve time.Duration `json:"reserve"`
}

// searcher carries one search's state.
type searcher struct {
	opts     Options
	log      *slog.Logger
	customer Signature
	backend  toxi.Backend
	start    time.Time
	deadline time.Time
	reserve  time.Duration // kept back for the verification run

	mu      sync.Mutex
	tried   int
	running int // runs in flight
	// hypotheses are the (KB, build) pairs of the candidates ("Q152877|sp0"):
	// exploring scores every one before it stops.
	hypotheses []string
	peak       int // most runs in flight at once
	best       float64
	infra      int // runs lost to infrastructure failures
	launches   []Launch
}

// Search looks for a generated scenario whose runs log what the customer's
// log shows (see the package documentation for the method). It returns an
// error only when it cannot search at all (no backend, a run that fails
// for an infrastructure reason, ctx cancelled); a log that is not
// reproduced gives an Outcome with Reproduced false.
//
// It is the two phases a sharded diagnosis splits between processes, run
// in one: explore scores the initial hypothesis batch, finish does the
// rest (see [ExploreShard] and [Merge]).
func Search(ctx context.Context, customer Signature, opts Options) (*Outcome, error) {
	if err := opts.hitSeeds(); err != nil {
		return nil, err
	}
	s, ctx, done, err := open(ctx, customer, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	b := s.batch()
	results, err := s.explore(ctx, b, nil)
	if err != nil {
		return nil, err
	}
	out, err := s.finish(ctx, results)
	if err != nil {
		return nil, err
	}
	return s.complete(out), nil
}

// hitSeeds fills Seeds (default DefaultSeeds) and checks that a hit rate
// is measured over at least MinSeeds, for the phase that measures it
// (Search, Merge).
func (o *Options) hitSeeds() error {
	if o.Seeds == 0 {
		o.Seeds = DefaultSeeds
	}
	if o.Seeds < MinSeeds {
		return fmt.Errorf("repro: %d seeds: the hit rate is measured over at least %d further seeds", o.Seeds, MinSeeds)
	}
	return nil
}

// open checks opts, fills their defaults, and returns a searcher for
// customer with the budget's deadline on ctx and a Toxiproxy (opts.Backend,
// or an embedded one that done closes).
func open(ctx context.Context, customer Signature, opts Options) (*searcher, context.Context, func(), error) {
	if opts.Budget <= 0 {
		opts.Budget = DefaultBudget
	}
	if err := opts.prepareRuns(); err != nil {
		return nil, nil, nil, err
	}
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	opts.Name = scenarioName(opts.Name)
	if customer.Events == 0 {
		return nil, nil, nil, errors.New("repro: the event log holds no MSExchangeMTA events")
	}
	s := &searcher{opts: opts, log: opts.Logger, customer: customer, start: time.Now()}
	s.deadline = s.start.Add(opts.Budget)
	ctx, cancel := context.WithDeadline(ctx, s.deadline)
	closeBackend, err := s.openBackend(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	return s, ctx, func() { closeBackend(); cancel() }, nil
}

// openBackend sets the searcher's Toxiproxy: opts.Backend, or an embedded
// one, closed by the function it returns.
func (s *searcher) openBackend(ctx context.Context) (func(), error) {
	s.backend = s.opts.Backend
	if s.backend != nil || s.opts.run != nil {
		return func() {}, nil
	}
	b, err := toxi.NewEmbedded(ctx, toxi.EmbeddedOptions{Logger: s.opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("repro: %w", err)
	}
	s.backend = b
	return func() {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer ccancel()
		_ = b.Close(cctx)
	}, nil
}

// complete fills what the outcome says of the whole search: its runs, time,
// launches, concurrency, and the verdict.
func (s *searcher) complete(out *Outcome) *Outcome {
	s.mu.Lock()
	out.Tried, out.Elapsed = s.tried, time.Since(s.start)
	out.Launches = slices.Clone(s.launches)
	out.Parallel, out.PeakRunning = s.opts.Parallel, s.peak
	s.mu.Unlock()
	if out.Unreproduced == nil {
		out.Unreproduced = unreproduced(s.customer, out.Scenario)
	}
	out.Reason = out.reason()
	out.Reproduced = out.Reason == ""
	return out
}

// reason says why the outcome is not a reproduction, "" when it is.
func (o *Outcome) reason() string {
	var why []string
	switch {
	case len(o.Trials) == 0:
		why = append(why, "the budget fits no run and its verification")
	case len(o.Missing) > 0:
		why = append(why, fmt.Sprintf("no run logged %s, which the customer's log has", idList(o.Missing)))
	case o.Score < Threshold:
		w := fmt.Sprintf("best score %.3f is below the threshold %.2f", o.Score, Threshold)
		var extra []int
		for _, id := range compared(o.Customer) {
			if o.Best.Sig.Has(id) && !o.Customer.Has(id) {
				extra = append(extra, id)
			}
		}
		if len(extra) > 0 {
			w += fmt.Sprintf(" (its run also logged %s, which the log has not)", idList(extra))
		}
		why = append(why, w)
	case o.HitRuns < MinSeeds:
		why = append(why, fmt.Sprintf("the hit rate was measured over %d further seeds, not %d: the budget ran out", o.HitRuns, MinSeeds))
	case o.HitRate < 0.5:
		why = append(why, fmt.Sprintf("the best candidate hit in only %d of %d further seeds", o.Hits, o.HitRuns))
	case !o.Verified:
		v := o.Verdict
		if o.Scenario == nil || v == "" {
			v = "not run"
		}
		why = append(why, "repro.yaml did not pass its verification ("+v+")")
	}
	if len(o.NotModelled) > 0 {
		why = append(why, fmt.Sprintf("the log has %s, which the stub does not model", idList(o.NotModelled)))
	}
	return strings.Join(why, "; ")
}

// idList renders ids as "9156 (no free control blocks)", joined by commas.
func idList(ids []int) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.Itoa(id)
		if d := idDescription(id); d != "" {
			out[i] += " (" + d + ")"
		}
	}
	return strings.Join(out, ", ")
}

// batch is the initial hypothesis batch of a search: every candidate of
// Candidates, in order. Every shard of a diagnosis computes the same one
// from the same signature and seed.
func (s *searcher) batch() []Plan {
	cands := Candidates(s.customer, s.opts.Seed)
	// Verification runs the final plan with a restart and a recovery
	// bound: keep its worst case back.
	s.hypotheses = nil
	seen := map[string]bool{}
	for _, c := range cands {
		s.reserve = max(s.reserve, verifyDuration(c)+runOverhead)
		kb, _ := hypothesisOf(c, s.customer)
		if k := kb + "|" + c.Mode; !seen[k] {
			seen[k] = true
			s.hypotheses = append(s.hypotheses, k)
		}
	}
	return cands
}

// explored is one run of the initial batch: the candidate's index in it and
// its scored trial.
type explored struct {
	Index int
	Trial Trial
}

// explore scores the initial batch (step 1 of the search): the candidates
// in order of promise, each with its twin in the other build, Parallel at
// a time. With owned nil it runs every candidate until the stopping rule
// ([searcher.enough]) holds over the ordered prefix, the clock included;
// with owned (a shard's slice, ascending indexes) it runs exactly those,
// and finish replays the rule over the merged results. A candidate that
// does not fit in the budget is not run. Results are in index order.
func (s *searcher) explore(ctx context.Context, cands []Plan, owned []int) ([]explored, error) {
	idx := owned
	if idx == nil {
		idx = make([]int, len(cands))
		for i := range idx {
			idx[i] = i
		}
	}
	var out []explored
	var trials []Trial
	if owned == nil && s.enough(trials, true) {
		return nil, nil
	}
	err := window(ctx, len(idx), s.opts.Parallel,
		func(k int) bool {
			c := cands[idx[k]]
			return s.launch("explore", c.String(), c.Seed, c.Duration(), s.reserve)
		},
		func(ctx context.Context, k int) (Trial, error) {
			return s.runOne(ctx, "explore", fmt.Sprintf("%s-%d", s.opts.Name, idx[k]), cands[idx[k]])
		},
		func(k int, t Trial, err error, ran bool) (bool, error) {
			if !ran {
				return false, nil // does not fit in what is left of the budget
			}
			if err != nil {
				return false, s.lost(ctx, "explore", cands[idx[k]], err)
			}
			out = append(out, explored{Index: idx[k], Trial: t})
			trials = append(trials, t)
			return owned == nil && s.enough(trials, true), nil
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// finish is everything a search does after the initial batch: it replays
// the stopping rule over the batch's results (in index order; a shard ran
// its whole slice), then runs the follow-up batches, decides the mode,
// measures the hit rates, shrinks and verifies (steps 2 to 5), then
// measures the hit rates of the runner-ups (step 6). The single process and a merge of shards
// both end here, so that the same results give the same diagnosis.
func (s *searcher) finish(ctx context.Context, results []explored) (*Outcome, error) {
	out := &Outcome{Customer: s.customer, ModeScores: map[string]float64{}, NotModelled: s.customer.NotModelled}
	var trials []Trial
	seen := map[string]bool{}
	for _, r := range results {
		if s.enough(trials, false) {
			break // the single process stopped here
		}
		seen[r.Trial.Plan.Key()+r.Trial.Plan.Mode] = true
		trials = append(trials, r.Trial)
	}
	if len(trials) == 0 {
		return out, nil
	}
	// 2. Follow up: batches derived from what the initial batch scored and
	// which of the log's events its runs logged or missed (FollowUps).
	more, rounds, err := s.refine(ctx, trials)
	if err != nil {
		return nil, err
	}
	out.FollowUps = rounds
	for _, t := range more {
		seen[t.Plan.Key()+t.Plan.Mode] = true
	}
	trials = append(trials, more...)
	// Best first; on a tie a build without defects, so that a log both
	// builds give is not reproduced with the defective one.
	sort.SliceStable(trials, func(i, j int) bool {
		if trials[i].Score != trials[j].Score {
			return trials[i].Score > trials[j].Score
		}
		return defectFree(trials[i].Plan.Mode) && !defectFree(trials[j].Plan.Mode)
	})
	out.Trials = trials
	for _, t := range trials {
		out.ModeScores[t.Plan.Mode] = max(out.ModeScores[t.Plan.Mode], t.Score)
	}
	best := trials[0]
	out.Best, out.Final, out.Score = best, best, best.Score
	out.Missing = Missing(s.customer, best.Sig)
	s.reserve = verifyDuration(best.Plan) + runOverhead // shrinking only shortens it
	// The best candidate's twins in its family's other builds decide the
	// mode; run them if exploring did not. A banner fixes the build: no twin.
	var twins []Plan
	for _, m := range s.twinModes(best.Plan) {
		if twin := best.Plan.WithMode(m); !seen[twin.Key()+twin.Mode] {
			twins = append(twins, twin)
		}
	}
	if len(twins) > 0 {
		res, _, err := s.runAll(ctx, "explore", twins)
		if err != nil {
			return nil, err
		}
		for _, t := range res {
			out.Trials = append(out.Trials, t)
			out.ModeScores[t.Plan.Mode] = max(out.ModeScores[t.Plan.Mode], t.Score)
		}
	}
	out.Mode = decideMode(out.ModeScores)
	if b, ok := kernel.LookupBuild(s.customer.Build); ok {
		out.Mode = b.ModeName() // the log's banner names it
	}
	if best.Score < Threshold {
		return out, nil
	}

	// 3. Hit rate over at least MinSeeds further seeds, for the best
	// candidates in turn until one is robust (hits in at least 2 of 3). No
	// measurement, no reproduction: a candidate whose seeds the budget
	// cannot pay for is not measured at all.
	var chosen Trial
	var chosenRuns []Trial
	measured := false
	cs := s.contenders(trials, out.Mode)
	rates, err := s.hitRatesAtOnce(ctx, cs)
	if err != nil {
		return nil, err
	}
	for k, c := range cs {
		var (
			hits, n int
			runs    []Trial
		)
		if rates != nil {
			hits, n, runs = rates[k].hits, rates[k].n, rates[k].runs
		} else if hits, n, runs, err = s.hitRate(ctx, c); err != nil {
			return nil, err
		}
		if n < s.opts.Seeds {
			continue // not measured: out of budget, or runs lost
		}
		rate := float64(hits) / float64(n)
		out.measured(c.Plan, measurement{hits: hits, n: n})
		if !measured || rate > out.HitRate {
			chosen, chosenRuns, measured = c, append([]Trial{c}, runs...), true
			out.Hits, out.HitRuns, out.HitRate = hits, n, rate
		}
		if rate >= 2.0/3 {
			break
		}
	}
	if !measured {
		return out, nil // Reason: the hit rate could not be measured
	}
	best = chosen
	out.Best, out.Final, out.Score = best, best, best.Score
	out.Missing = Missing(s.customer, best.Sig)
	// Shrinking keeps back the verification of the shrunk scenario and of
	// the unshrunk one, should the shrunk one fail (a step is kept on the
	// strength of one run; the verification runs it twice).
	s.reserve = 2 * (verifyDuration(best.Plan) + runOverhead)

	// 4. Shrink: keep any smaller plan that still matches as well.
	final, steps, err := s.shrink(ctx, best)
	if err != nil {
		return nil, err
	}
	out.Final, out.Shrinks = final, steps

	// 5. Write the expectations and verify the scenario once; fall back to
	// the unshrunk plan if the shrunk one does not pass. Expectations of
	// the unshrunk plan hold only what every hit of it logged.
	for _, t := range []Trial{final, best} {
		var others []Trial
		if t.Plan.Key() == best.Plan.Key() {
			others = chosenRuns
		}
		sc, err := ReproScenario(s.opts.Name, s.customer, t, others...)
		if err != nil {
			return nil, err
		}
		out.Scenario, out.Final = sc, t
		ok, verdict, checks, err := s.verify(ctx, t.Plan, sc)
		if err != nil {
			return nil, err
		}
		out.Verified, out.Verdict, out.Checks = ok, verdict, checks
		if ok || t.Plan.Key() == best.Plan.Key() || !s.fits(sc.Duration) {
			break
		}
		out.Shrinks = append(out.Shrinks, "shrunk scenario failed its verification: kept the unshrunk candidate")
	}
	out.Unreproduced = unreproduced(s.customer, out.Scenario)

	// 6. The hit rates of the runner-ups the diagnosis shows, by the same
	// rule, in what the budget leaves: last, so that they never cost the
	// top hypothesis a shrinking step or its verification.
	s.reserve = 0
	if err := s.runnerUpRates(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// contenders returns the explored trials worth a hit-rate estimate, best
// first: at least Threshold, of the decided build (any for "either"), one
// per plan, at most three.
func (s *searcher) contenders(trials []Trial, mode string) []Trial {
	var out []Trial
	seen := map[string]bool{}
	for _, t := range trials {
		if t.Score < Threshold || mode != "either" && t.Plan.Mode != mode || seen[t.Plan.Key()] {
			continue
		}
		seen[t.Plan.Key()] = true
		out = append(out, t)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// RunnerUps is how many runner-up hypotheses the diagnosis shows after the
// top one, and the search measures the hit rate of.
const RunnerUps = 3

// measured records m as the hit rate of p's plan and build.
func (o *Outcome) measured(p Plan, m measurement) {
	if o.hitRates == nil {
		o.hitRates = map[string]measurement{}
	}
	o.hitRates[p.Key()+"|"+p.Mode] = measurement{hits: m.hits, n: m.n}
}

// hit reports whether a further-seed run of a hypothesis reproduces the
// log: at least Threshold, no catalogued ID of the log missing.
func (s *searcher) hit(t Trial) bool {
	return t.Score >= Threshold && len(Missing(s.customer, t.Sig)) == 0
}

// runnerUpRates measures the hit rate of the RunnerUps hypotheses ranked
// after out.Best (as diagnosis.json ranks them) whose rate is not measured
// yet: Seeds further seeds each, hit as for the top. Their runs go in
// waves of at most Parallel runs and maxFamilyAtOnce of one family; a
// runner-up is measured only if its waves, with those of the runner-ups
// before it, fit in the budget with the reserve kept back, else it is
// marked "budget" and nothing of it runs. A runner-up that lost a run is
// marked "runs lost": a rate is over all Seeds seeds or none.
// phaseRunnerUp is the phase of the runner-ups' hit-rate runs: they come
// after the verification, so nothing is kept back for it.
const phaseRunnerUp = "runner-up"

func (s *searcher) runnerUpRates(ctx context.Context, out *Outcome) error {
	rs := ranked(s.customer, &out.Best, out.Trials)
	var cs []Trial
	for _, t := range rs[1:min(len(rs), RunnerUps+1)] {
		if _, ok := out.hitRates[t.Plan.Key()+"|"+t.Plan.Mode]; !ok {
			cs = append(cs, t)
		}
	}
	if len(cs) == 0 {
		return nil
	}
	type wave struct {
		plans    []Plan
		family   map[string]int
		duration time.Duration
	}
	// place puts plans into a copy of waves, each in the first with room.
	place := func(waves []wave, plans []Plan) []wave {
		out := make([]wave, len(waves))
		for i, w := range waves {
			out[i] = wave{plans: slices.Clone(w.plans), family: maps.Clone(w.family), duration: w.duration}
		}
		for _, p := range plans {
			i := slices.IndexFunc(out, func(w wave) bool {
				return len(w.plans) < max(s.opts.Parallel, 1) && w.family[p.Family] < maxFamilyAtOnce
			})
			if i < 0 {
				out = append(out, wave{family: map[string]int{}})
				i = len(out) - 1
			}
			out[i].plans = append(out[i].plans, p)
			out[i].family[p.Family]++
			out[i].duration = max(out[i].duration, p.Duration())
		}
		return out
	}
	var waves []wave
	var measuring []Trial
	for _, c := range cs {
		next := place(waves, s.seedPlans(c.Plan))
		var total time.Duration
		for _, w := range next {
			total += w.duration + runOverhead
		}
		if !s.fits(total - runOverhead + s.reserve) {
			out.unmeasured(c.Plan, "budget")
			continue
		}
		waves, measuring = next, append(measuring, c)
	}
	s.mu.Lock()
	from := len(s.launches)
	s.mu.Unlock()
	var res []Trial
	for _, w := range waves {
		r, _, err := s.runAll(ctx, phaseRunnerUp, w.plans)
		if err != nil {
			return err
		}
		res = append(res, r...)
	}
	for _, c := range measuring {
		m := s.measure(c.Plan, res)
		s.mu.Lock()
		launched := 0
		for _, l := range s.launches[from:] {
			if l.Phase == phaseRunnerUp && l.Plan == c.Plan.String() && l.Seed > c.Plan.Seed && l.Seed <= c.Plan.Seed+int64(s.opts.Seeds) {
				launched++
			}
		}
		s.mu.Unlock()
		switch {
		case m.n == s.opts.Seeds:
			out.measured(c.Plan, m)
		case launched < s.opts.Seeds:
			out.unmeasured(c.Plan, "budget") // the clock ran faster than planned
		default:
			out.unmeasured(c.Plan, "runs lost")
		}
	}
	return nil
}

// unmeasured records why the hit rate of p's plan and build was not
// measured.
func (o *Outcome) unmeasured(p Plan, why string) {
	if o.notMeasured == nil {
		o.notMeasured = map[string]string{}
	}
	o.notMeasured[p.Key()+"|"+p.Mode] = why
}

// measurement is the hit rate of one contender.
type measurement struct {
	hits, n int
	runs    []Trial
}

// maxFamilyAtOnce is the most runs of one family a hit-rate wave holds:
// nine slow-link runs healing at once (a latency toxic is removed only once
// its delayed data is out) were seen to time out the embedded Toxiproxy's
// API on 2 cores, and with it the search.
const maxFamilyAtOnce = 4

// hitRatesAtOnce measures the hit rate of every contender in one wave of
// runs when Parallel holds all their seeds, the wave holds at most
// maxFamilyAtOnce runs of one family, and it fits in the budget; it
// returns nil (and runs nothing) otherwise, and the contenders are then
// measured in turn. The choice made from the rates is the same
// either way: it reads them in the contenders' order.
func (s *searcher) hitRatesAtOnce(ctx context.Context, cs []Trial) ([]measurement, error) {
	if len(cs) < 2 || len(cs)*s.opts.Seeds > s.opts.Parallel {
		return nil, nil
	}
	perFamily := map[string]int{}
	for _, c := range cs {
		if perFamily[c.Plan.Family] += s.opts.Seeds; perFamily[c.Plan.Family] > maxFamilyAtOnce {
			return nil, nil
		}
	}
	var longest time.Duration
	var plans []Plan
	for _, c := range cs {
		longest = max(longest, c.Plan.Duration())
		plans = append(plans, s.seedPlans(c.Plan)...)
	}
	if !s.fits(longest + s.reserve) {
		return nil, nil
	}
	res, _, err := s.runAll(ctx, "hit-rate", plans)
	if err != nil {
		return nil, err
	}
	out := make([]measurement, len(cs))
	for k, c := range cs {
		out[k] = s.measure(c.Plan, res)
	}
	return out, nil
}

// seedPlans returns p under each of the Seeds further seeds a hit rate is
// measured over: p.Seed+1 to p.Seed+Seeds.
func (s *searcher) seedPlans(p Plan) []Plan {
	seeds := make([]Plan, 0, s.opts.Seeds)
	for k := 1; k <= s.opts.Seeds; k++ {
		q := p.clone()
		q.Seed = p.Seed + int64(k)
		seeds = append(seeds, q)
	}
	return seeds
}

// measure counts, among res, the runs of p's plan and build and the hits
// among them, keeping the hit runs.
func (s *searcher) measure(p Plan, res []Trial) measurement {
	var m measurement
	for _, r := range res {
		if r.Plan.Key() != p.Key() || r.Plan.Mode != p.Mode {
			continue
		}
		m.n++
		if s.hit(r) {
			m.hits++
			m.runs = append(m.runs, r)
		}
	}
	return m
}

// hitRate runs t's plan with Seeds further seeds and returns how many of
// them scored at least Threshold, how many ran, and the runs that hit. It
// launches nothing unless every batch of seeds fits in the budget, so that
// a measurement the budget cannot finish costs nothing.
func (s *searcher) hitRate(ctx context.Context, t Trial) (hits, n int, runs []Trial, err error) {
	batches := (s.opts.Seeds + s.opts.Parallel - 1) / s.opts.Parallel
	if !s.fits(time.Duration(batches)*(t.Plan.Duration()+runOverhead) - runOverhead + s.reserve) {
		return 0, 0, nil, nil
	}
	seeds := s.seedPlans(t.Plan)
	for i := 0; i < len(seeds); i += s.opts.Parallel {
		res, _, err := s.runAll(ctx, "hit-rate", seeds[i:min(i+s.opts.Parallel, len(seeds))])
		if err != nil {
			return 0, 0, nil, err
		}
		for _, r := range res {
			n++
			if s.hit(r) {
				hits++
				runs = append(runs, r)
			}
		}
	}
	return hits, n, runs, nil
}

// enough reports whether exploring can stop: a candidate matches well, its
// twin in the other build was tried, a second plan matches under the same
// build (a fallback should the first prove flaky), and every hypothesis
// (KB entry and build) of the candidates has had a run; or, with clock,
// the explore share of the budget is spent: 45% once a candidate reaches
// the threshold (the rest pays for its hit rate, shrinking and
// verification), 75% while none has. Without clock it is a function of
// trials alone, which a merge of shards replays.
func (s *searcher) enough(trials []Trial, clock bool) bool {
	best := Trial{Score: -1}
	for _, t := range trials {
		if t.Score > best.Score {
			best = t
		}
	}
	share := time.Duration(75)
	if best.Score >= Threshold {
		share = 45
	}
	if clock && time.Since(s.start) > s.opts.Budget*share/100 {
		return true
	}
	if len(trials) < 2 {
		return false
	}
	if best.Score < 0.9 {
		return false
	}
	ran := map[string]bool{}
	for _, t := range trials {
		kb, _ := hypothesisOf(t.Plan, s.customer)
		ran[kb+"|"+t.Plan.Mode] = true
	}
	for _, h := range s.hypotheses {
		if !ran[h] {
			return false // a hypothesis not scored yet
		}
	}
	twin, matches := len(s.twinModes(best.Plan)) == 0, map[string]bool{}
	for _, t := range trials {
		if t.Plan.Key() == best.Plan.Key() && t.Plan.Mode != best.Plan.Mode {
			twin = true
		}
		if t.Plan.Mode == best.Plan.Mode && t.Score >= Threshold {
			matches[t.Plan.Key()] = true
		}
	}
	return twin && len(matches) >= 2
}

// twinModes returns the builds, other than p's, that p's family runs
// under: its twins decide the mode. None when the log's banner fixes the
// build.
func (s *searcher) twinModes(p Plan) []string {
	if s.customer.Build != "" {
		if _, ok := kernel.LookupBuild(s.customer.Build); ok {
			return nil
		}
	}
	var out []string
	for _, m := range FamilyBuilds(p.Family) {
		if m != p.Mode {
			out = append(out, m)
		}
	}
	return out
}

// defectFree reports whether the build of mode name m carries no defect.
func defectFree(m string) bool {
	b, ok := kernel.LookupBuild(m)
	return ok && len(b.Defects) == 0
}

// modeMargin is how far apart the two best builds' best scores may lie for
// the log to be one both builds give ("either").
const modeMargin = 0.1

// decideMode names the build whose best run matches the log better than
// every other build's by more than modeMargin, or "either" when the
// runner-up build lies within it. The margin alone decides, whether the
// scores are above the threshold or below: a build that scores 0.74
// against the other's 0.80 logs the same thing, and one that scores 0.95
// against the other's 0.80 does not. "" when fewer than two builds have a
// score (a twin could not run), or, with only the 4.0 builds, one lacks it.
func decideMode(scores map[string]float64) string {
	_, ok0 := scores["sp0"]
	_, ok2 := scores["sp2"]
	if len(scores) < 2 || ok0 != ok2 && len(scores) == 2 {
		return ""
	}
	best, second, bestMode := -1.0, -1.0, ""
	for _, b := range kernel.Builds() {
		sc, ok := scores[b.ModeName()]
		switch {
		case !ok:
		case sc > best:
			best, second, bestMode = sc, best, b.ModeName()
		case sc > second:
			second = sc
		}
	}
	if math.Abs(best-second) <= modeMargin+1e-9 {
		return "either"
	}
	return bestMode
}

// fits reports whether a run of scenario duration d can still end within
// the budget.
func (s *searcher) fits(d time.Duration) bool {
	return time.Until(s.deadline) >= d+runOverhead
}

// launch reports whether a run of scenario duration d, keeping reserve back
// for later phases, fits in the budget now, and records it if it does.
func (s *searcher) launch(phase, plan string, seed int64, d, reserve time.Duration) bool {
	now := time.Now()
	if s.deadline.Sub(now) < d+reserve+runOverhead {
		return false
	}
	s.mu.Lock()
	s.launches = append(s.launches, Launch{Phase: phase, Plan: plan, Seed: seed, At: now.Sub(s.start), Planned: d, Reserve: reserve})
	s.mu.Unlock()
	return true
}

// maxInfraFailures is how many runs may fail for an infrastructure reason
// (a port taken while a proxy was disabled, a busy machine) before the
// search gives up; a single failure only costs its candidate.
const maxInfraFailures = 3

// runAll runs plans at once (at most Parallel of them) and scores them. A
// plan that does not fit in the remaining budget is not run; launched says
// how many were. A run that fails for an infrastructure reason is skipped,
// until maxInfraFailures is exceeded.
func (s *searcher) runAll(ctx context.Context, phase string, plans []Plan) (out []Trial, launched int, err error) {
	err = window(ctx, len(plans), s.opts.Parallel,
		func(i int) bool {
			ok := s.launch(phase, plans[i].String(), plans[i].Seed, plans[i].Duration(), s.reserveFor(phase))
			if ok {
				launched++
			}
			return ok
		},
		func(ctx context.Context, i int) (Trial, error) {
			return s.runOne(ctx, phase, fmt.Sprintf("%s-%d", s.opts.Name, i), plans[i])
		},
		func(i int, t Trial, err error, ran bool) (bool, error) {
			switch {
			case !ran:
			case err != nil:
				return false, s.lost(ctx, phase, plans[i], err)
			default:
				out = append(out, t)
			}
			return false, nil
		})
	if err != nil {
		return nil, launched, err
	}
	return out, launched, nil
}

// lost decides what a failed run costs: nothing more than its candidate
// when it failed for an infrastructure reason (until maxInfraFailures is
// exceeded), else the search (the error is returned).
func (s *searcher) lost(ctx context.Context, phase string, p Plan, err error) error {
	var infra *harness.InfraError
	if ctx.Err() == nil && errors.As(err, &infra) && s.infraFailed(phase, p, err) {
		return nil
	}
	return err
}

// infraFailed records a run lost to an infrastructure failure and reports
// whether the search may go on.
func (s *searcher) infraFailed(phase string, p Plan, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infra++
	s.log.Warn("repro: run lost to an infrastructure failure", "phase", phase, "plan", p.String(), "err", err)
	if s.opts.Progress != nil {
		fmt.Fprintf(s.opts.Progress, "[%5.1fs     %-8s] %-62s infrastructure failure, skipped: %v\n",
			time.Since(s.start).Seconds(), phase, p.String(), err)
	}
	return s.infra <= maxInfraFailures
}

func (s *searcher) reserveFor(phase string) time.Duration {
	if phase == "verify" {
		return 0
	}
	return s.reserve
}

// runOne runs one plan and scores it.
func (s *searcher) runOne(ctx context.Context, phase, name string, p Plan) (Trial, error) {
	sc, err := p.Scenario(name)
	if err != nil {
		return Trial{}, err
	}
	t0 := time.Now()
	res, err := s.harnessRun(ctx, sc)
	if err != nil {
		if ctx.Err() != nil {
			return Trial{}, fmt.Errorf("repro: %s: %w", p, ctx.Err())
		}
		return Trial{}, fmt.Errorf("repro: run %s: %w", p, err)
	}
	t := trialOf(p, res, s.customer)
	t.Seconds = time.Since(t0).Seconds()
	s.step(phase, t)
	return t, nil
}

// harnessRun runs sc on the shared backend, counting the runs in flight.
func (s *searcher) harnessRun(ctx context.Context, sc *scenario.Scenario) (*harness.Result, error) {
	s.mu.Lock()
	s.running++
	s.peak = max(s.peak, s.running)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	if s.opts.run != nil {
		return s.opts.run(ctx, sc)
	}
	return harness.Run(ctx, sc, harness.Options{Backend: s.backend, Logger: s.log})
}

// trialOf scores a run's result. A run's leak indicator is the truth the
// lab knows rather than the log heuristic: a KCB leaked (pool samples) and
// 1277 refused connections. (Under load an sp2 responder may log 1008s and
// refuse a crowd with 1277s naming one control block, which the heuristic
// would take for a leak.)
func trialOf(p Plan, res *harness.Result, customer Signature) Trial {
	t := Trial{Plan: p, Sig: NewSignature(res.Events), Events: map[string]map[string]int{}}
	for name, m := range res.Summary.MTAs {
		t.Leaked = max(t.Leaked, m.KCBsLeaked)
		t.Delivered += m.Delivered
		t.Submitted += m.Submitted
		t.Events[name] = m.Events
	}
	t.Sig.Leak = t.Leaked > 0 && t.Sig.Has(1277)
	t.Score = Score(customer, t.Sig)
	return t
}

func (s *searcher) step(phase string, t Trial) {
	s.mu.Lock()
	s.tried++
	if phase == "explore" || phase == "refine" || phase == "shrink" {
		s.best = max(s.best, t.Score)
	}
	st := Step{Phase: phase, Trial: t, Tried: s.tried, Elapsed: time.Since(s.start), Best: s.best}
	if s.opts.Progress != nil {
		fmt.Fprintf(s.opts.Progress, "[%5.1fs #%-2d %-8s] %-62s score %.3f  ids %v leak %v\n",
			st.Elapsed.Seconds(), st.Tried, phase, t.Plan.String(), t.Score, t.Sig.Modelled(), t.Sig.Leak)
	}
	s.mu.Unlock()
	if s.opts.OnStep != nil {
		s.opts.OnStep(st)
	}
	s.log.Debug("repro run", "phase", phase, "plan", t.Plan.String(), "score", t.Score)
}

// verifyRuns is how many times the repro scenario is run to verify it.
const verifyRuns = 2

// verify runs the repro scenario verifyRuns times at once (at most
// Parallel; its own seed each time, as `mtastorm run` would) and reports whether every run passed,
// with the verdict and checks of a failed run, or of the last.
func (s *searcher) verify(ctx context.Context, p Plan, sc *scenario.Scenario) (bool, string, []harness.Check, error) {
	if !s.fits(sc.Duration) {
		return false, harness.Unknown, nil, nil
	}
	type result struct {
		res *harness.Result
		err error
	}
	results := make([]result, min(verifyRuns, s.opts.Parallel))
	var wg sync.WaitGroup
	started := 0
	for i := range results {
		if !s.launch("verify", p.String(), sc.Seed, sc.Duration, 0) {
			break
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			res, err := s.harnessRun(ctx, sc)
			results[i] = result{res, err}
			if err == nil {
				t := trialOf(p, res, s.customer)
				t.Seconds = time.Since(t0).Seconds()
				s.step("verify", t)
			}
		}()
	}
	wg.Wait()
	ok, verdict, checks, n := true, harness.Unknown, []harness.Check(nil), 0
	for _, r := range results[:started] {
		var infra *harness.InfraError
		switch {
		case r.err != nil && ctx.Err() != nil:
			return false, harness.Unknown, nil, nil
		case r.err != nil && errors.As(r.err, &infra) && s.infraFailed("verify", p, r.err):
			continue // one lost run does not decide
		case r.err != nil:
			return false, "", nil, fmt.Errorf("repro: verify %s: %w", sc.Name, r.err)
		}
		n++
		if n == 1 || ok && r.res.Summary.Verdict != harness.Passed {
			verdict, checks = r.res.Summary.Verdict, r.res.Summary.Checks
		}
		ok = ok && r.res.Summary.Verdict == harness.Passed
	}
	return ok && n > 0, verdict, checks, nil
}

package repro

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mtastorm/mtastorm/internal/shard"
)

// Environment variables of a Kubernetes Indexed Job: the pod's index, set by
// the Job controller, and the Job's completions, which the manifest sets
// (Kubernetes does not). Together they are the default shard.
const (
	EnvShardIndex = shard.EnvIndex
	EnvShardCount = shard.EnvCount
)

// FileShard is the file of a shard directory.
const FileShard = "shard.json"

// shardVersion is the version of shard.json; a merge refuses another.
const shardVersion = 1

// Shard is one slice of a diagnosis's initial hypothesis batch: index
// Index of Count (internal/shard's partition, shared with the soak
// shards). It owns the candidates whose index i in the batch has
// i % Count == Index (round-robin): the batch is ordered by promise and
// groups a family's variants, so dealing it out spreads the promising and
// the long runs evenly, and no two shards differ by more than one
// candidate.
type Shard = shard.Shard

// ParseShard parses "I/N" (0 ≤ I < N).
func ParseShard(s string) (Shard, error) {
	sh, err := shard.Parse(s)
	if err != nil {
		return Shard{}, fmt.Errorf("repro: %w", err)
	}
	return sh, nil
}

// ShardFromEnv returns the shard JOB_COMPLETION_INDEX and JOB_COMPLETIONS
// name (read with getenv), and whether they name one: neither set is no
// shard. One set without the other, or a value that is not a number in
// range, is an error naming the variable. $MTASTORM_SHARD is not read:
// ci/nightly.sh exports it to shard the soak seeds, and it must not
// shard a diagnosis run inside the nightly.
func ShardFromEnv(getenv func(string) string) (Shard, bool, error) {
	sh, ok, err := shard.FromEnv(func(k string) string {
		if k == shard.EnvShard {
			return ""
		}
		return getenv(k)
	})
	if err != nil {
		return Shard{}, false, fmt.Errorf("repro: %w", err)
	}
	if !ok {
		return Shard{}, false, nil
	}
	return sh, true, nil
}

// ShardResult is shard.json: what one shard scored of the initial batch,
// and what a merge checks that its shards belong together by.
type ShardResult struct {
	Version int `json:"version"`
	// Log is the customer's event log as the shard's command line named it.
	Log string `json:"log"`
	// Name is the search's scenario name (from the log's file name).
	Name  string `json:"name"`
	Shard Shard  `json:"shard"`
	Seed  int64  `json:"seed"`
	// Fingerprint is the SHA-256 of the customer's signature (as JSON).
	Fingerprint string `json:"signature_sha256"`
	// Customer is the signature itself: a merge searches for it.
	Customer Signature `json:"customer"`
	// Hypotheses is the length of the whole initial batch, ListHash the
	// SHA-256 of its candidates (BatchHash).
	Hypotheses int    `json:"hypotheses"`
	ListHash   string `json:"hypotheses_sha256"`
	// Owned are the batch indexes of the shard's slice; Trials the scored
	// runs among them, in index order; Skipped those not run (the budget
	// ran out, or a run was lost to an infrastructure failure).
	Owned   []int        `json:"owned"`
	Trials  []ShardTrial `json:"trials"`
	Skipped []int        `json:"skipped"`
	// Launches are the shard's runs (times from the shard's start).
	Launches []LaunchJSON `json:"launches"`
	Seconds  float64      `json:"seconds"`

	// Dir is the directory the result was read from ("" if none).
	Dir string `json:"-"`
}

// ShardTrial is one scored run of a shard: the candidate of batch index
// Index and what its run logged.
type ShardTrial struct {
	Index int `json:"index"`
	// Plan describes the candidate (a merge takes the plan from the batch
	// it computes, and checks this against it).
	Plan      string                    `json:"plan"`
	Score     float64                   `json:"score"`
	Sig       Signature                 `json:"run_signature"`
	Leaked    int                       `json:"kcbs_leaked"`
	Delivered int                       `json:"delivered"`
	Submitted int                       `json:"submitted"`
	Seconds   float64                   `json:"seconds"`
	Events    map[string]map[string]int `json:"events"`
}

// Fingerprint returns the SHA-256 (hex) of sig as JSON: two shards search
// for the same log when their fingerprints agree.
func Fingerprint(sig Signature) (string, error) {
	b, err := json.Marshal(sig)
	if err != nil {
		return "", fmt.Errorf("repro: signature: %w", err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// BatchHash returns the SHA-256 (hex) of a batch of candidates: each one's
// index, description, key, build and seed, one a line.
func BatchHash(cands []Plan) string {
	h := sha256.New()
	for i, c := range cands {
		fmt.Fprintf(h, "%d\x00%s\x00%s\x00%s\x00%d\n", i, c, c.Key(), c.Mode, c.Seed)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ExploreShard scores the shard's slice of the initial hypothesis batch of
// a search for customer (the batch Search explores: Candidates with
// opts.Seed) and returns it for a merge: every candidate of the slice is
// run (no stopping rule: the merge replays it over the whole batch), as
// many at once as opts.Parallel, within opts.Budget.
func ExploreShard(ctx context.Context, customer Signature, sh Shard, opts Options) (*ShardResult, error) {
	if err := sh.Validate(); err != nil {
		return nil, fmt.Errorf("repro: shard %s: %w", sh, err)
	}
	fp, err := Fingerprint(customer)
	if err != nil {
		return nil, err
	}
	s, ctx, done, err := open(ctx, customer, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	cands := s.batch()
	s.reserve = 0 // a shard verifies nothing
	owned := sh.Indexes(len(cands))
	r := &ShardResult{Version: shardVersion, Name: s.opts.Name, Shard: sh, Seed: s.opts.Seed, Fingerprint: fp,
		Customer: customer, Hypotheses: len(cands), ListHash: BatchHash(cands), Owned: owned,
		Trials: []ShardTrial{}, Skipped: []int{}, Launches: []LaunchJSON{}}
	if len(owned) == 0 {
		r.Seconds = round3(time.Since(s.start).Seconds())
		return r, nil
	}
	results, err := s.explore(ctx, cands, owned)
	if err != nil {
		return nil, err
	}
	ran := map[int]bool{}
	for _, e := range results {
		t := e.Trial
		ran[e.Index] = true
		r.Trials = append(r.Trials, ShardTrial{Index: e.Index, Plan: t.Plan.String(), Score: t.Score, Sig: t.Sig,
			Leaked: t.Leaked, Delivered: t.Delivered, Submitted: t.Submitted, Seconds: round3(t.Seconds), Events: t.Events})
	}
	for _, i := range owned {
		if !ran[i] {
			r.Skipped = append(r.Skipped, i)
		}
	}
	s.mu.Lock()
	launched := slices.Clone(s.launches)
	s.mu.Unlock()
	for _, l := range launched {
		r.Launches = append(r.Launches, LaunchJSON{Phase: l.Phase, Plan: l.Plan, Seed: l.Seed,
			AtS: round3(l.At.Seconds()), PlannedS: round3(l.Planned.Seconds())})
	}
	r.Seconds = round3(time.Since(s.start).Seconds())
	return r, nil
}

// Write writes dir/shard.json.
func (r *ShardResult) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("repro: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("repro: shard: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileShard), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("repro: %w", err)
	}
	return nil
}

// ErrShards is wrapped by the error of a merge whose shard directories do
// not make one diagnosis: unreadable, missing or duplicate shards, shards
// of different logs, seeds or hypothesis lists.
var ErrShards = errors.New("shards do not make one diagnosis")

// ReadShard reads dir/shard.json and checks it is whole: the version, the
// signature against its fingerprint, the slice against the shard.
func ReadShard(dir string) (*ShardResult, error) {
	path := filepath.Join(dir, FileShard)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("repro: shard directory %s: %w: %w", dir, err, ErrShards)
	}
	var r ShardResult
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("repro: %s: %w: %w", path, err, ErrShards)
	}
	r.Dir = dir
	bad := func(format string, a ...any) error {
		return fmt.Errorf("repro: %s: %s: %w", path, fmt.Sprintf(format, a...), ErrShards)
	}
	if r.Version != shardVersion {
		return nil, bad("version %d, this mtastorm reads version %d", r.Version, shardVersion)
	}
	if err := r.Shard.Validate(); err != nil {
		return nil, bad("shard %s: %v", r.Shard, err)
	}
	if fp, err := Fingerprint(r.Customer); err != nil || fp != r.Fingerprint {
		return nil, bad("the signature does not match its fingerprint %.12s (edited or truncated)", r.Fingerprint)
	}
	if want := r.Shard.Indexes(r.Hypotheses); !slices.Equal(r.Owned, want) {
		return nil, bad("shard %s of %d hypotheses owns %v, not %v", r.Shard, r.Hypotheses, r.Owned, want)
	}
	prev := -1
	for _, t := range r.Trials {
		if !r.Shard.Owns(t.Index) || t.Index >= r.Hypotheses || t.Index <= prev {
			return nil, bad("trial of index %d: not in the shard's slice, or out of order", t.Index)
		}
		prev = t.Index
	}
	return &r, nil
}

// CheckShards checks that rs are the shards of one diagnosis: the same
// log (signature fingerprint), seed, scenario name and hypothesis list,
// the same shard count, each index once, none missing. The error names the
// shard directories concerned.
func CheckShards(rs []*ShardResult) error {
	if len(rs) == 0 {
		return fmt.Errorf("repro: merge: no shard directories: %w", ErrShards)
	}
	first := rs[0]
	for _, r := range rs[1:] {
		var what string
		switch {
		case r.Fingerprint != first.Fingerprint:
			what = fmt.Sprintf("different logs (signature %.12s in %s, %.12s in %s: %s, %s)",
				first.Fingerprint, first.Dir, r.Fingerprint, r.Dir, first.Log, r.Log)
		case r.Seed != first.Seed:
			what = fmt.Sprintf("different seeds (%d in %s, %d in %s)", first.Seed, first.Dir, r.Seed, r.Dir)
		case r.Shard.Count != first.Shard.Count:
			what = fmt.Sprintf("different shard counts (%d in %s, %d in %s)", first.Shard.Count, first.Dir, r.Shard.Count, r.Dir)
		case r.Hypotheses != first.Hypotheses || r.ListHash != first.ListHash:
			what = fmt.Sprintf("different hypothesis lists (%d, %.12s in %s; %d, %.12s in %s): shards of different mtastorm versions?",
				first.Hypotheses, first.ListHash, first.Dir, r.Hypotheses, r.ListHash, r.Dir)
		case r.Name != first.Name:
			what = fmt.Sprintf("different scenario names (%s in %s, %s in %s)", first.Name, first.Dir, r.Name, r.Dir)
		}
		if what != "" {
			return fmt.Errorf("repro: merge: %s: %w", what, ErrShards)
		}
	}
	byIndex := map[int][]string{}
	for _, r := range rs {
		byIndex[r.Shard.Index] = append(byIndex[r.Shard.Index], r.Dir)
	}
	var dup, missing []string
	for i := range first.Shard.Count {
		switch dirs := byIndex[i]; {
		case len(dirs) == 0:
			missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shard.Count))
		case len(dirs) > 1:
			dup = append(dup, fmt.Sprintf("%d/%d in %s", i, first.Shard.Count, strings.Join(dirs, " and ")))
		}
	}
	var why []string
	if len(dup) > 0 {
		why = append(why, "duplicate shard "+strings.Join(dup, "; "))
	}
	if len(missing) > 0 {
		dirs := make([]string, len(rs))
		for i, r := range rs {
			dirs[i] = r.Dir
		}
		why = append(why, fmt.Sprintf("missing shard %s (given %s)", strings.Join(missing, ", "), strings.Join(dirs, ", ")))
	}
	if len(why) > 0 {
		return fmt.Errorf("repro: merge: %s: %w", strings.Join(why, "; "), ErrShards)
	}
	return nil
}

// Merge finishes a sharded diagnosis: it checks that rs belong together
// (CheckShards), computes the initial batch again from their signature and
// seed and checks it against theirs, puts their trials back in batch
// order, and runs the same finish as Search (the stopping rule replayed,
// the mode, the hit-rate seeds of the top hypotheses, shrinking and
// verification) with opts (its Seed and Name are the shards'). The same
// trials give the same Outcome as a single process.
func Merge(ctx context.Context, rs []*ShardResult, opts Options) (*Outcome, error) {
	if err := CheckShards(rs); err != nil {
		return nil, err
	}
	if err := opts.hitSeeds(); err != nil {
		return nil, err
	}
	first := rs[0]
	opts.Seed, opts.Name = first.Seed, first.Name
	s, ctx, done, err := open(ctx, first.Customer, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	cands := s.batch()
	if len(cands) != first.Hypotheses || BatchHash(cands) != first.ListHash {
		return nil, fmt.Errorf("repro: merge: this mtastorm's hypothesis list for %s (%d, %.12s) is not the shards' (%d, %.12s in %s): merge with the mtastorm that ran them: %w",
			first.Log, len(cands), BatchHash(cands), first.Hypotheses, first.ListHash, first.Dir, ErrShards)
	}
	var results []explored
	var launches []Launch
	tried := 0
	for _, r := range rs {
		for _, st := range r.Trials {
			p := cands[st.Index]
			if st.Plan != p.String() {
				return nil, fmt.Errorf("repro: merge: %s: trial %d is %q, the batch's candidate %d is %q: %w",
					r.Dir, st.Index, st.Plan, st.Index, p.String(), ErrShards)
			}
			results = append(results, explored{Index: st.Index, Trial: Trial{Plan: p, Score: st.Score, Sig: st.Sig,
				Leaked: st.Leaked, Delivered: st.Delivered, Submitted: st.Submitted, Seconds: st.Seconds, Events: st.Events}})
		}
		tried += len(r.Trials)
		for _, l := range r.Launches {
			launches = append(launches, Launch{Phase: l.Phase, Plan: l.Plan, Seed: l.Seed,
				At: time.Duration(l.AtS * float64(time.Second)), Planned: time.Duration(l.PlannedS * float64(time.Second))})
		}
	}
	slices.SortFunc(results, func(a, b explored) int { return a.Index - b.Index })
	out, err := s.finish(ctx, results)
	if err != nil {
		return nil, err
	}
	out = s.complete(out)
	out.Tried += tried
	out.Launches = append(launches, out.Launches...)
	return out, nil
}

// Package shard splits a list of independent runs (soak seeds, nightly
// repeats) into N disjoint slices so that N processes, pods of a Kubernetes
// Indexed Job or jobs of a CI matrix, each run one slice and together run
// the whole list exactly once.
//
// The partition is round-robin by position: shard I of N owns the items
// whose index i has i mod N == I. It depends only on the list's order and
// N, never on time or randomness, so every shard computes the same split
// from the same list, and shard sizes differ by at most one.
//
// A process learns its shard from, in order: an explicit "I/N" (a flag, or
// $MTASTORM_SHARD), else $JOB_COMPLETION_INDEX with $JOB_COMPLETIONS (the
// Kubernetes Indexed Job sets the first; the manifest sets the second to
// spec.completions). Neither: the process is the only shard, 0/1.
package shard

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables a shard is read from.
const (
	// EnvShard holds an explicit "I/N"; it wins over the Job variables.
	EnvShard = "MTASTORM_SHARD"
	// EnvIndex is the Kubernetes Indexed Job's completion index, set by
	// the Job controller in every pod.
	EnvIndex = "JOB_COMPLETION_INDEX"
	// EnvCount is the number of completions; Kubernetes does not set it,
	// the manifest does (equal to spec.completions).
	EnvCount = "JOB_COMPLETIONS"
)

// Shard is slice Index of Count (0 <= Index < Count). The zero value is
// not valid; All is the single shard that owns everything.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// All is the shard of an unsharded process: it owns every item.
var All = Shard{Index: 0, Count: 1}

// Parse reads "I/N" with 0 <= I < N.
func Parse(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return Shard{}, fmt.Errorf("shard: %q: want I/N, e.g. 0/4", s)
	}
	return parts(s, i, n)
}

func parts(s, i, n string) (Shard, error) {
	idx, err := strconv.Atoi(strings.TrimSpace(i))
	if err != nil {
		return Shard{}, fmt.Errorf("shard: %q: index %q is not a number", s, i)
	}
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil {
		return Shard{}, fmt.Errorf("shard: %q: count %q is not a number", s, n)
	}
	sh := Shard{Index: idx, Count: count}
	if err := sh.Validate(); err != nil {
		return Shard{}, fmt.Errorf("shard: %q: %w", s, err)
	}
	return sh, nil
}

// Validate reports whether the shard is usable: Count >= 1 and 0 <= Index < Count.
func (s Shard) Validate() error {
	if s.Count < 1 {
		return fmt.Errorf("count %d: want at least 1", s.Count)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("index %d: want 0 to %d", s.Index, s.Count-1)
	}
	return nil
}

// FromEnv returns the shard named by the environment (getenv is os.Getenv
// in a program): $MTASTORM_SHARD as "I/N", else $JOB_COMPLETION_INDEX and
// $JOB_COMPLETIONS together, else All. set says whether the environment
// named one. Only one of the two Job variables set is an error: a Job
// manifest that forgot JOB_COMPLETIONS must not run every item in every pod.
func FromEnv(getenv func(string) string) (sh Shard, set bool, err error) {
	if v := getenv(EnvShard); v != "" {
		sh, err := Parse(v)
		if err != nil {
			return Shard{}, false, fmt.Errorf("$%s: %w", EnvShard, err)
		}
		return sh, true, nil
	}
	idx, count := getenv(EnvIndex), getenv(EnvCount)
	switch {
	case idx == "" && count == "":
		return All, false, nil
	case idx == "":
		return Shard{}, false, fmt.Errorf("shard: $%s=%s is set but $%s is not", EnvCount, count, EnvIndex)
	case count == "":
		return Shard{}, false, fmt.Errorf("shard: $%s=%s is set but $%s is not (set it to the Job's spec.completions)", EnvIndex, idx, EnvCount)
	}
	sh, err = parts("$"+EnvIndex+"="+idx+", $"+EnvCount+"="+count, idx, count)
	if err != nil {
		return Shard{}, false, err
	}
	return sh, true, nil
}

// String is "I/N", what Parse reads.
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Dir is the name of the shard's report folder, "shard-I-of-N": reports
// and results of one shard go under it, and ci/everfailed reads the shard
// back from it (ParseDir).
func (s Shard) Dir() string { return fmt.Sprintf("shard-%d-of-%d", s.Index, s.Count) }

// ParseDir reads a folder name written by Dir.
func ParseDir(name string) (Shard, error) {
	rest, ok := strings.CutPrefix(name, "shard-")
	i, n, ok2 := strings.Cut(rest, "-of-")
	if !ok || !ok2 {
		return Shard{}, fmt.Errorf("shard: folder %q: want shard-I-of-N", name)
	}
	return parts(name, i, n)
}

// Owns reports whether item i (0-based position in the list) is this shard's.
func (s Shard) Owns(i int) bool { return i%s.Count == s.Index }

// Indexes returns the positions of a list of n items the shard owns,
// ascending.
func (s Shard) Indexes(n int) []int {
	out := []int{}
	for i := s.Index; i < n; i += s.Count {
		out = append(out, i)
	}
	return out
}

// Owner returns the shard of count that owns item i.
func Owner(i, count int) Shard { return Shard{Index: i % count, Count: count} }

// Select returns the items of list this shard owns, in list order.
func Select[T any](s Shard, list []T) []T {
	var out []T
	for i, v := range list {
		if s.Owns(i) {
			out = append(out, v)
		}
	}
	return out
}

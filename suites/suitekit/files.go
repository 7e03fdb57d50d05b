package suitekit

import (
	"os"
	"path/filepath"
	"sort"
)

// Root returns the module root: the nearest folder above the working
// directory (a suite's package folder while it runs) holding go.mod. It
// panics when there is none, which can only happen outside the module.
func Root() string {
	dir, err := os.Getwd()
	if err != nil {
		panic("suitekit: " + err.Error())
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			panic("suitekit: no go.mod above " + dir)
		}
	}
}

// Files returns the files matching pattern (a filepath.Match glob, relative
// to the module root unless absolute), sorted. It is meant for building a
// table while the spec tree is constructed, so it never fails the suite:
// a missing folder gives no files, and the caller asserts on the count.
func Files(pattern string) []string {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(Root(), pattern)
	}
	m, _ := filepath.Glob(pattern) // the only error is a malformed pattern
	sort.Strings(m)
	return m
}

// Rel returns path relative to the module root, for labels and messages.
func Rel(path string) string {
	if r, err := filepath.Rel(Root(), path); err == nil {
		return r
	}
	return path
}

package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// Error is the list of located problems found in one scenario file.
type Error struct {
	// File is the file name the problems refer to (may be "").
	File string
	// Problems are sorted by line and column.
	Problems []Problem
}

// Problem is one located problem.
type Problem struct {
	// Line and Col are 1-based; 0 when unknown (e.g. some YAML syntax errors).
	Line, Col int
	// Key is the key path the problem concerns ("faults[1].down"); for an
	// unknown or duplicate key it is the path of the enclosing mapping
	// ("" at the top level).
	Key string
	// Msg says what is wrong.
	Msg string
}

// String renders the problem as "line:col: key: msg", leaving out the parts
// that are unknown or empty.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.Line > 0 && p.Col > 0:
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Col)
	case p.Line > 0:
		fmt.Fprintf(&b, "%d: ", p.Line)
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error renders one problem per line as "file:line:col: key: msg".
func (e *Error) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		s := p.String()
		if e.File != "" {
			if p.Line > 0 {
				s = e.File + ":" + s
			} else {
				s = e.File + ": " + s
			}
		}
		lines = append(lines, s)
	}
	if len(lines) == 0 {
		return e.File + ": invalid scenario"
	}
	return strings.Join(lines, "\n")
}

func (e *Error) sort() {
	sort.SliceStable(e.Problems, func(i, j int) bool {
		a, b := e.Problems[i], e.Problems[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// suggest returns ` (did you mean "x"?)` for the closest candidate to s, or "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(s) <= 3 {
		limit = 1
	}
	if best == "" || bestD > limit || bestD >= len(s) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Damerau-Levenshtein (optimal string alignment) distance.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

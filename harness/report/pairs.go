package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mtastorm/mtastorm/harness/result"
)

// pairRows is the most pairs the messages table lists one by one. A run
// with more lists only its worst pairs, those with a message undelivered,
// duplicated or refused (at most pairRows, most undelivered first), sums
// the others in one row and all of them in a total row: 400 pairs of a
// 200-MTA run do not make 400 rows.
const pairRows = 20

// pairTable is the report's messages table.
type pairTable struct {
	// N is the number of pairs.
	N int
	// Rows are the pairs listed one by one.
	Rows []result.PairSummary
	// Others sums the pairs not listed, Total all of them; both nil when
	// every pair is listed.
	Others, Total *pairSum
}

// pairSum is a row of sums over N pairs.
type pairSum struct {
	result.PairSummary
	N     int
	Label string
}

func (s *pairSum) add(p result.PairSummary) {
	s.N++
	s.Declared += p.Declared
	s.Submitted += p.Submitted
	s.Refused += p.Refused
	s.Delivered += p.Delivered
	s.Undelivered += p.Undelivered
	s.Duplicates += p.Duplicates
}

// newPairTable collapses pairs to at most pairRows rows plus sums.
func newPairTable(pairs []result.PairSummary) pairTable {
	t := pairTable{N: len(pairs)}
	if len(pairs) <= pairRows {
		t.Rows = pairs
		return t
	}
	worst := slices.Clone(pairs)
	slices.SortStableFunc(worst, func(a, b result.PairSummary) int {
		return cmp.Or(-cmp.Compare(a.Undelivered, b.Undelivered), -cmp.Compare(a.Duplicates, b.Duplicates), -cmp.Compare(a.Refused, b.Refused))
	})
	t.Others, t.Total = &pairSum{}, &pairSum{}
	bad := 0 // others with a message undelivered, duplicated or refused
	for _, p := range worst {
		t.Total.add(p)
		hurt := p.Undelivered+p.Duplicates+p.Refused > 0
		if len(t.Rows) < pairRows && hurt {
			t.Rows = append(t.Rows, p)
			continue
		}
		t.Others.add(p)
		if hurt {
			bad++
		}
	}
	more := "more "
	if len(t.Rows) == 0 {
		more = ""
	}
	t.Others.Label = fmt.Sprintf("%d %spairs, %d of them with a message undelivered, duplicated or refused", t.Others.N, more, bad)
	t.Total.Label = fmt.Sprintf("all %d pairs", t.N)
	return t
}

package loggen

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

// TestDeterministic: the same options give the same bytes, another seed
// other bytes; the file is a CSV whose rows and size Stats reports.
func TestDeterministic(t *testing.T) {
	gen := func(seed int64) ([]byte, Stats) {
		var b bytes.Buffer
		st, err := Write(&b, Options{Seed: seed, Events: 3000, RestartEvery: 500})
		if err != nil {
			t.Fatal(err)
		}
		return b.Bytes(), st
	}
	a, sa := gen(1)
	b, _ := gen(1)
	c, _ := gen(2)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("seed 1 twice equal %v, seeds 1 and 2 differ %v", bytes.Equal(a, b), !bytes.Equal(a, c))
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(a, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != sa.Rows+1 || sa.Bytes != int64(len(a)) || sa.Restarts < 2 || sa.MTAEvents() >= sa.Rows {
		t.Errorf("%d rows (header included), stats %+v, %d bytes", len(rows), sa, len(a))
	}
	if !strings.Contains(string(a), "Build 2448.4") || !strings.Contains(string(a), "\r\n") {
		t.Error("no banner or no CRLF")
	}
	if _, err := Write(&bytes.Buffer{}, Options{}); err == nil {
		t.Error("Events 0 accepted")
	}
}

package report

import (
	"testing"
	"time"
)

// countingWriter counts the bytes written through it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWriteHTMLOrg200 draws the report of a synthetic 200-MTA
// organisation (400 links, 30 s, samples every 50ms) and reports its size;
// BenchmarkWriteHTMLPair draws the hand-made two-MTA run beside it, so
// that the two read as a ratio on one machine.
//
//	go test -run '^$' -bench WriteHTML -benchmem ./harness/report
func BenchmarkWriteHTMLOrg200(b *testing.B) {
	in, _ := syntheticOrg(b, 200, 30*time.Second, 1)
	benchWriteHTML(b, in)
}

// BenchmarkWriteHTMLPair is the two-MTA report of handInput.
func BenchmarkWriteHTMLPair(b *testing.B) {
	benchWriteHTML(b, handInput(b))
}

func benchWriteHTML(b *testing.B, in *Input) {
	b.Helper()
	var size int64
	b.ReportAllocs()
	for b.Loop() {
		w := &countingWriter{}
		if err := WriteHTML(w, in); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(size), "bytes/report")
}

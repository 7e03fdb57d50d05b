package feed

import (
	"strconv"
	"testing"
)

// BenchmarkPublish publishes b.N items to 0, 1, 8 and 64 subscribers and
// waits until every subscriber received every item.
func BenchmarkPublish(b *testing.B) {
	for _, subs := range []int{0, 1, 8, 64} {
		b.Run("subs="+strconv.Itoa(subs), func(b *testing.B) {
			var f Feed[int]
			defer f.Close()
			n := b.N
			done := make(chan struct{}, subs)
			for range subs {
				s := f.Subscribe(false)
				go func() {
					got := 0
					for range s.C() {
						if got++; got == n {
							done <- struct{}{}
						}
					}
				}()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range n {
				f.Publish(i)
			}
			for range subs {
				<-done
			}
		})
	}
}

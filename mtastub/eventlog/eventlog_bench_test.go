package eventlog

import (
	"strconv"
	"testing"
)

// BenchmarkEmitFanout emits b.N records to a log with 0, 1, 8 and 64
// subscribers, each draining its channel on its own goroutine, and waits
// until every subscriber has received every record.
func BenchmarkEmitFanout(b *testing.B) {
	for _, subs := range []int{0, 1, 8, 64} {
		b.Run("subs="+strconv.Itoa(subs), func(b *testing.B) {
			l := NewLog("A", nil)
			defer l.Close()
			n := b.N
			done := make(chan struct{}, subs)
			for range subs {
				s := l.Subscribe()
				go func() {
					got := 0
					for range s.C() {
						if got++; got == n {
							done <- struct{}{}
						}
					}
				}()
			}
			rec := Record{ID: IDAssocError, KCB: 1, State: 2, Svc: 13, Flavor: 4, Reason: 8, Assoc: 1, Entity: "/O=ORG/OU=SITE/CN=B"}
			b.ReportAllocs()
			b.ResetTimer()
			for range n {
				l.Emit(rec)
			}
			for range subs {
				<-done
			}
		})
	}
}

package testenv

import (
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// PeakHeap runs fn with the collector set to gcPercent (low values keep
// garbage out of the figure) and returns the most heap that was live
// while it ran, above what was live before, sampled every interval.
func PeakHeap(gcPercent int, interval time.Duration, fn func()) uint64 {
	old := debug.SetGCPercent(gcPercent)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			default:
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			time.Sleep(interval)
		}
	}()
	fn()
	close(done)
	<-sampled
	return peak.Load()
}

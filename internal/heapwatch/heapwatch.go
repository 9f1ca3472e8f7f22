// Package heapwatch samples the Go heap while a benchmark runs and reports its peak, so
// benchmarks can say how much memory a run needed at most (b.ReportMetric).
package heapwatch

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Watch samples HeapInuse until Stop.
type Watch struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

// Start samples every interval.
func Start(every time.Duration) *Watch {
	w := &Watch{stop: make(chan struct{})}
	w.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > w.peak.Load() {
				w.peak.Store(ms.HeapInuse)
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	})
	return w
}

// Stop ends the sampling and returns the largest HeapInuse seen, in bytes.
func (w *Watch) Stop() uint64 {
	close(w.stop)
	w.wg.Wait()
	return w.peak.Load()
}

// MB converts bytes to mebibytes for a benchmark metric.
func MB(n uint64) float64 { return float64(n) / (1 << 20) }

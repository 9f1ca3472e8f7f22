// Package memlimit keeps pbisync's soft heap limit (runtime/debug.SetMemoryLimit) above
// what the process must hold.
//
// The default limit is small, so that a sync's heap stays near what its batches need
// instead of growing to twice that between collections. A tenant whose batches need more
// than the limit would otherwise have the collector run nearly without pause (the runtime
// caps it at about half the CPU) for no memory saved: what is live cannot be collected.
// Follow raises the limit when the live heap nears it, so that the limit costs at most
// what a collector with a quarter of headroom costs, and lowers it back when the live
// heap shrinks, never below the limit it was given.
package memlimit

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

const (
	// near is the part of the limit the live heap may reach before the limit rises.
	near = 0.9
	// headroom is the limit a raise sets, as a multiple of the live heap.
	headroom = 1 / 0.75
	// every is how often the live heap is read: cheap (runtime/metrics, no pause).
	every = 250 * time.Millisecond
)

// Next is the limit to set when the live heap (as the last collection marked it) is live,
// the limit is cur and the limit asked for is base: cur while live is below near*cur,
// else live*headroom; and back toward base when live falls, never below it.
func Next(base, cur, live int64) int64 {
	want := max(base, int64(float64(live)*headroom))
	switch {
	case float64(live) > near*float64(cur):
		return want // raise: the collector would run without rest
	case cur > base && want < cur:
		return want // the live heap shrank: lower back toward base
	}
	return cur
}

// Follow sets base as the limit, then adjusts it by Next until ctx ends. It returns at
// once; the adjusting runs in its own goroutine.
func Follow(ctx context.Context, base int64) {
	debug.SetMemoryLimit(base)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		cur := base
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur = Step(base, cur, sample)
		}
	}()
}

// Step reads the live heap into sample and applies Next; it returns the limit now set.
func Step(base, cur int64, sample []metrics.Sample) int64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return cur // a runtime without the metric: the limit stays as asked
	}
	live := int64(sample[0].Value.Uint64())
	if next := Next(base, cur, live); next != cur {
		debug.SetMemoryLimit(next)
		return next
	}
	return cur
}

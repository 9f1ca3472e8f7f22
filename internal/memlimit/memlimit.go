// Package memlimit keeps pbisync's soft heap limit (runtime/debug.SetMemoryLimit) above
// what the process must hold.
//
// The default limit is small, so that a sync's heap stays near what its batches need
// instead of growing to twice that between collections. A tenant whose batches need more
// than the limit would otherwise have the collector run nearly without pause (the runtime
// caps it at about half the CPU) for no memory saved: what is live cannot be collected.
// Follow raises the limit when the live heap passes four fifths of it, to about half as
// much again as the live heap (a collector with less runs too often: a 2,000-workspace
// tenant's sync took 19 s with a quarter of headroom, 16.5 s with this, 15 s with a fixed
// 350MiB), and lowers it back when the live heap shrinks, never below the limit it was
// given.
package memlimit

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

const (
	// near is the part of the limit the live heap may reach before the limit rises.
	near = 0.8
	// headroom is the limit a raise sets, as a multiple of the live heap.
	headroom = 1 / 0.65
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

var (
	mu      sync.Mutex
	base    int64 // the limit Follow was last given; 0 before
	started bool
)

// Follow sets base as the limit, then adjusts it by Next for the life of the process, in
// a goroutine of its own (one, however often Follow is called: a later call sets a new
// base). It returns at once.
func Follow(limit int64) {
	mu.Lock()
	defer mu.Unlock()
	base = limit
	debug.SetMemoryLimit(limit)
	if started {
		return
	}
	started = true
	go func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for range time.Tick(every) {
			mu.Lock()
			if b := base; b != 0 {
				Step(b, debug.SetMemoryLimit(-1), sample)
			}
			mu.Unlock()
		}
	}()
}

// Stop ends the following: the limit stays as it is (for tests, and a command that sets
// its own).
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	base = 0
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

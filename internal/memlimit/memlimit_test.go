package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

const mib = 1 << 20

func TestNext(t *testing.T) {
	raised := func(live int64) int64 { return int64(float64(live) * headroom) }
	for _, tc := range []struct {
		name            string
		base, cur, live int64
		want            int64
	}{
		{"well below the limit", 240 * mib, 240 * mib, 150 * mib, 240 * mib},
		{"at the threshold it stays", 240 * mib, 240 * mib, 192 * mib, 240 * mib},
		{"past it the limit rises to leave headroom", 240 * mib, 240 * mib, 200 * mib, raised(200 * mib)},
		{"a raised limit holds while the heap stays", 240 * mib, raised(200 * mib), 220 * mib, raised(200 * mib)},
		{"and rises again", 240 * mib, raised(200 * mib), 260 * mib, raised(260 * mib)},
		{"the heap shrank: back to the base", 240 * mib, raised(260 * mib), 100 * mib, 240 * mib},
		{"part of the way back", 240 * mib, raised(260 * mib), 180 * mib, raised(180 * mib)},
		{"never below the base", 240 * mib, 240 * mib, 0, 240 * mib},
	} {
		if got := Next(tc.base, tc.cur, tc.live); got != tc.want {
			t.Errorf("%s: Next(%d, %d, %d) = %d MiB, want %d MiB", tc.name, tc.base/mib, tc.cur/mib, tc.live/mib, got/mib, tc.want/mib)
		}
	}
}

var held [][]byte

// Step reads the runtime's own live heap: a process holding more than its limit gets a
// higher one, and the limit goes back to the base once that memory is released.
func TestStepWithTheRuntime(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(old)
	base := int64(16 * mib)
	debug.SetMemoryLimit(base)
	for range 64 {
		held = append(held, make([]byte, mib))
	}
	runtime.GC() // the live heap the metric reports is the last collection's
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	cur := Step(base, base, sample)
	if cur < 64*mib || debug.SetMemoryLimit(-1) != cur {
		t.Fatalf("holding 64 MiB under a 16 MiB limit: limit now %d MiB (runtime says %d MiB)", cur/mib, debug.SetMemoryLimit(-1)/mib)
	}
	held = nil
	runtime.GC()
	if cur = Step(base, cur, sample); cur != base || debug.SetMemoryLimit(-1) != base {
		t.Fatalf("after releasing it: limit %d MiB, want the base %d MiB", cur/mib, base/mib)
	}
}

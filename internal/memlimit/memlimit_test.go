package memlimit

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

const mib = 1 << 20

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		name            string
		base, cur, live int64
		want            int64
	}{
		{"well below the limit", 240 * mib, 240 * mib, 150 * mib, 240 * mib},
		{"at nine tenths it stays", 240 * mib, 240 * mib, 216 * mib, 240 * mib},
		{"past nine tenths it rises to a quarter of headroom", 240 * mib, 240 * mib, 300 * mib, 400 * mib},
		{"a raised limit holds while the heap stays", 240 * mib, 400 * mib, 330 * mib, 400 * mib},
		{"and rises again", 240 * mib, 400 * mib, 390 * mib, 520 * mib},
		{"the heap shrank: back toward the base", 240 * mib, 520 * mib, 150 * mib, 240 * mib},
		{"part of the way back", 240 * mib, 520 * mib, 300 * mib, 400 * mib},
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

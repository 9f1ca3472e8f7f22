package translate

import (
	"fmt"
	"sync/atomic"
)

// What host calls cost. Every call counts against max_calls; every call that
// allocates on the host counts its bytes against max_host_memory; edits, which the
// host keeps until the batch ends, also count against max_output and the stage's
// ceiling. All per asset: the counters restart at every next().
const (
	// editOverhead is charged per edit on top of its bytes: the item, map entry or
	// string header the host keeps even for an empty value.
	editOverhead = 64
	// parseCost is the factor by which a parsed JSON document outgrows its text.
	parseCost = 4
)

// budget holds a batch's per-asset counters. Its zero value has no limits (tests).
type budget struct {
	maxCalls   int
	maxHostMem int64
	calls      int   // host calls in the current phase (asset, or before/after them)
	hostMem    int64 // host bytes allocated in the current phase
	stage      *stage
	lines      int // guest log and output lines of the current asset
	// stopped is set when the call must end (time-out, cancellation): the next host
	// call traps.
	stopped atomic.Bool
}

// stage is the ceiling of one translator's Translate call over all its instances:
// the edits it holds may not pass limit (half of limits.stage_memory; the instances'
// linear memories take the other half, see WASM.poolSize).
type stage struct {
	held     atomic.Int64
	limit    int64
	exceeded atomic.Bool
}

// startPhase restarts the per-asset counters.
func (b *budget) startPhase() { b.calls, b.hostMem, b.lines = 0, 0, 0 }

// call counts one host call and ends the asset (a trap with a clear reason) when it
// passes max_calls.
func (b *budget) call() {
	if b.stopped.Load() {
		panic(guestFault{"stopped"})
	}
	b.calls++
	if b.maxCalls > 0 && b.calls > b.maxCalls {
		panic(guestFault{fmt.Sprintf("more than limits.max_calls (%d) host calls for one asset: the translator is stuck in a loop of host calls, or raise the limit", b.maxCalls)})
	}
}

// alloc counts n bytes the host allocates for the guest and ends the asset when they
// pass max_host_memory.
func (b *budget) alloc(n int) {
	b.hostMem += int64(n)
	if b.maxHostMem > 0 && b.hostMem > b.maxHostMem {
		panic(guestFault{fmt.Sprintf("the host calls of one asset allocated more than limits.max_host_memory (%s)", sizeText(uint64(b.maxHostMem)))})
	}
}

// holdStage counts n bytes of edits the host keeps until the batch ends. Past the
// stage's ceiling the whole Translate call fails (see errStage): which asset passes it
// depends on scheduling, so failing one asset would not be reproducible.
func (b *budget) holdStage(n int) {
	if b.stage == nil {
		return
	}
	if b.stage.held.Add(int64(n)) > b.stage.limit {
		b.stage.exceeded.Store(true)
		panic(guestFault{"stage memory ceiling"})
	}
}

// fits reports whether an edit of n bytes stays within max_output, so the host can
// refuse it before copying it out of guest memory.
func (b *batch) fits(n uint32) bool {
	if !b.current() || b.maxOutput <= 0 {
		return true
	}
	return int64(b.res[b.cur].written)+int64(n) <= int64(b.maxOutput)
}

// tooLarge refuses an edit that would pass max_output before it is copied.
func (b *batch) tooLarge(op string, field int32) int32 {
	if !b.current() {
		return statusNoCurrent
	}
	return b.reject(statusTooLarge, "%s(%s): edits of this asset exceed max_output (%d bytes)", op, fieldLabel(field), b.maxOutput)
}

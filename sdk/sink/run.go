package sink

import (
	"context"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
)

// RunKind says what a run is, so a sink knows what its output becomes.
type RunKind int

// The kinds of run.
const (
	// RunUnspecified is a run begun by a host that predates runs (or implicitly, by the
	// kit, when batches arrive without Begin): sinks treat it as a sync.
	RunUnspecified RunKind = iota
	// RunSync is a full sync: every asset's spec, then removals and the summary. An
	// output that holds the synced state (a file of specs, a catalog file) is replaced
	// on Commit, and stays as it was on Abort.
	RunSync
	// RunRefresh is a refresh outside a sync (`pbisync refresh`, or the refresh step of
	// `pbisync run` once its sync committed): refresh events only; nothing is replaced,
	// events are appended.
	RunRefresh
	// RunStream is `pbisync serve`'s long-lived stream of refresh events. Like a
	// refresh, but Commit may come days later: every acknowledged batch must already
	// be durable.
	RunStream
)

func (k RunKind) String() string {
	switch k {
	case RunSync:
		return "sync"
	case RunRefresh:
		return "refresh"
	case RunStream:
		return "stream"
	}
	return "unspecified"
}

// Replaces reports whether a run of this kind replaces what a replacing output holds:
// a sync does (and so does a run of a host that predates runs); a refresh or a stream
// appends.
func (k RunKind) Replaces() bool { return k == RunSync || k == RunUnspecified }

// RunKindFromProto and ToProto convert to and from the protocol's enum.
func RunKindFromProto(k sinkpb.RunKind) RunKind {
	switch k {
	case sinkpb.RunKind_RUN_KIND_SYNC:
		return RunSync
	case sinkpb.RunKind_RUN_KIND_REFRESH:
		return RunRefresh
	case sinkpb.RunKind_RUN_KIND_STREAM:
		return RunStream
	}
	return RunUnspecified
}

// ToProto returns the protocol's form of k.
func (k RunKind) ToProto() sinkpb.RunKind {
	switch k {
	case RunSync:
		return sinkpb.RunKind_RUN_KIND_SYNC
	case RunRefresh:
		return sinkpb.RunKind_RUN_KIND_REFRESH
	case RunStream:
		return sinkpb.RunKind_RUN_KIND_STREAM
	}
	return sinkpb.RunKind_RUN_KIND_UNSPECIFIED
}

// Run is what a sink learns when a run begins.
type Run struct {
	Kind RunKind
	// ID names the run, unique to it; a restarted sink that resumes the run gets the
	// same ID (OpenRunFile names its temporary file after it).
	ID string
	// Resume is set when the host restarted the sink within the run: keep what was
	// written before; the unacknowledged batches come again.
	Resume    bool
	StartedAt time.Time
	// ChangesOnly is set on a sync that carries only what changed since the output's
	// last committed sync (new and changed assets' specs, removals, the summary): keep
	// everything else the output holds. The kit sets it only for a sink that said, in
	// TakesChanges, that it can apply such a run; every other sink gets whole syncs.
	ChangesOnly bool
	// Unchanged is set, with ChangesOnly, when nothing changed: only the summary
	// follows. A sink that replaces its output (a file of specs) may take such a run if
	// the output is still there, and leave it as it is.
	Unchanged bool
}

// ChangesTaker is implemented by sinks that can apply a sync of changes only: their
// output is upserted into (a catalog, a database, an appending file), not replaced. The
// kit asks when the host offers such a run; TakesChanges reports whether this run can be
// one (an output that is gone, or was never written, needs every asset: answer false).
// A sink that does not implement it, or answers false, gets every asset of the estate.
type ChangesTaker interface {
	TakesChanges(ctx context.Context, run Run) bool
}

// Transactional is implemented by sinks that take part in runs. The kit calls Begin
// before the run's first batch, then Commit when the run completed or Abort when it
// failed; a sink that replaces an output replaces it in Commit (OpenRunFile does the
// file side). After Commit or Abort another run may Begin.
//
// A sink that does not implement it gets its batches as before, and Close at the end.
// With a host that predates runs, the kit begins a run of kind RunUnspecified before
// the first batch and commits it in Close.
type Transactional interface {
	Sink
	Begin(ctx context.Context, run Run) error
	Commit(ctx context.Context) error
	// Abort is told why the run failed. It must leave an output that the run would
	// have replaced as it was.
	Abort(ctx context.Context, reason string) error
}

// Selective is implemented by sinks that write only some kinds of event. Accepts is
// called after a successful Configure; nil means every kind. The host does not begin
// a run on a sink that takes none of the run's events, so its output is not opened.
type Selective interface {
	Accepts() []event.Kind
}

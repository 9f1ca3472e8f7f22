package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

// removals sends a removed event for every asset of the previous sync that this one did
// not produce; saveState keeps this sync's assets once the sinks have them. It only runs
// after a complete sync: a partial one would report everything it missed as removed.
// Assets the sources could not read (r.unread) are not removed either: a removal needs
// positive evidence.
func (r *run) removals(ctx context.Context) error {
	var prev map[state.AssetID]state.Asset
	if r.cov != nil && r.cov.prev != nil {
		prev = r.cov.prev
	} else {
		var err error
		if prev, err = r.e.State.PreviousAssets(ctx, r.e.Pipeline); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	current := make([]state.Asset, 0, r.rel.sentN)
	r.rel.eachSent(func(key spec.Key, id spec.Identity) {
		current = append(current, state.Asset{Key: key, PowerBI: id})
	})
	sentN := len(current)
	// An incremental sync keeps the assets of the workspaces it did not rescan (carried
	// first: a full sync carries nothing, and need not look each asset up).
	for id, a := range prev {
		if r.cov.carried(a) && !r.rel.sent(id) {
			current = append(current, a)
		}
	}
	// Gone: neither sent nor carried (what current holds, without a set of it).
	gone := r.unread.filter(state.RemovedUnless(prev, func(id state.AssetID, a state.Asset) bool {
		return r.rel.sent(id) || r.cov.carried(a)
	}), r.log)
	if r.cov != nil && r.cov.partial {
		r.cov.sent = current[:sentN]
		for i := range gone {
			r.cov.gone = append(r.cov.gone, state.IDOf(gone[i].PowerBI))
		}
	}
	events := make([]event.Event, len(gone))
	for i := range gone {
		events[i] = event.Event{Kind: event.KindRemoved, Removed: &gone[i]}
	}
	r.res.Summary.Removed = len(events)
	r.current = current
	return r.write(ctx, events)
}

// saveState remembers this sync's assets for the next one's removals, once every sink
// received everything: a sink that missed a removal must be told again next time.
func (r *run) saveState(ctx context.Context) error {
	for _, s := range r.all {
		if !s.Complete {
			r.log.Warn("not saving this sync's assets in the state store: a sink did not receive everything, so the next sync compares with the previous one again", "sink", s.Name)
			return nil
		}
	}
	if u, ok := r.e.State.(assetUpdater); ok && r.cov != nil && r.cov.partial {
		// An incremental sync changes only what it sent or removed.
		if err := u.UpdateAssets(ctx, r.e.Pipeline, r.cov.sent, r.cov.gone); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	} else if err := r.e.State.SaveAssets(ctx, r.e.Pipeline, r.current); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	if err := r.saveOutputMarks(ctx); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return r.saveMarks(ctx)
}

// write hands events to every sink in batches, the sinks in parallel. A failing sink is
// recorded and skipped from then on; the others go on.
func (r *run) write(ctx context.Context, events []event.Event) error {
	if err := r.writeBehind(ctx, events); err != nil {
		return err
	}
	return r.waitBehind()
}

func (r *run) writeNow(ctx context.Context, events []event.Event) error {
	for start := 0; start < len(events); start += r.batch {
		chunk := events[start:min(start+r.batch, len(events))]
		if err := r.fanOutNow(ctx, len(chunk), nil, func(s Sink) error { return s.Write(ctx, chunk) }); err != nil {
			return err
		}
	}
	return nil
}

// writeBehind is write in the background: a part's specs go to the outputs (the
// estate's encoding and staging, the plugins' queues) while the next part is built
// and translated. One such write is in flight at a time, and every other write, and
// the end of the pull, wait for it first, so the outputs get events in order. When an
// output takes the protocol's encoding, the part's specs are encoded meanwhile, in a
// goroutine of their own, while the write before it is still going.
func (r *run) writeBehind(ctx context.Context, events []event.Event) error {
	// Each spec is converted to the sink protocol's form once, for every output that
	// takes it in that form (sink plugins, the estate).
	for i := range events {
		if events[i].Kind == event.KindSpec && events[i].Shared == nil {
			events[i].Shared = &event.Shared{}
		}
	}
	var encoded chan struct{}
	if r.encodes {
		encoded = make(chan struct{})
		go func() {
			defer close(encoded)
			for i := range events {
				if events[i].Kind == event.KindSpec && ctx.Err() == nil {
					// An error is the event's: the outputs get it when they ask.
					_, _ = sink.EventBytesShared(&events[i])
				}
			}
		}()
	}
	if err := r.waitBehind(); err != nil {
		if encoded != nil {
			<-encoded
		}
		return err
	}
	done := make(chan struct{})
	r.behind = done
	go func() {
		defer close(done)
		if encoded != nil {
			<-encoded
		}
		r.behindErr = r.writeNow(ctx, events)
	}()
	return nil
}

// waitBehind waits for the write in flight, if any, and returns its error.
func (r *run) waitBehind() error {
	if r.behind == nil {
		return nil
	}
	<-r.behind
	r.behind = nil
	err := r.behindErr
	r.behindErr = nil
	return err
}

// fanOut hands n events to the open outputs that to selects (every one when to is nil),
// the outputs in parallel, through send. A failing output is recorded and skipped from
// then on; the others go on.
func (r *run) fanOut(ctx context.Context, n int, to []bool, send func(Sink) error) error {
	if err := r.waitBehind(); err != nil {
		return err
	}
	return r.fanOutNow(ctx, n, to, send)
}

func (r *run) fanOutNow(ctx context.Context, n int, to []bool, send func(Sink) error) error {
	var wg sync.WaitGroup
	for i, s := range r.out {
		if (to != nil && !to[i]) || r.sinks[i].Err != nil {
			continue
		}
		wg.Go(func() {
			if err := send(s); err != nil {
				r.sinks[i].Err = fmt.Errorf("sink %s: %w", s.Name(), err)
				r.log.Error("sink failed", "sink", s.Name(), "error", err)
				return
			}
			r.sinks[i].Events += n
		})
	}
	wg.Wait()
	return ctx.Err()
}

// unread is what the sources' problems left unread this sync.
type unread struct {
	scope snapshot.Scope
	// any is set when some source problem (other than a gone workspace) may hide data
	// sources, which belong to no one workspace.
	any bool
}

// sourceProblems adds every source problem to the result (so the summary and the exit
// status report it) and notes what they leave unread.
func (r *run) sourceProblems() {
	var all []error
	for _, src := range r.e.Sources {
		pr, ok := src.(ProblemReporter)
		if !ok {
			continue
		}
		for _, p := range pr.Problems() {
			for _, e := range snapshot.Problems(p) {
				all = append(all, e)
				r.problems([]record.Problem{{Stage: "source " + src.Name(), Err: e, Warning: snapshot.IsWarning(e)}})
			}
		}
	}
	r.unread.scope = snapshot.ScopeOf(all)
	for _, e := range all {
		var gone *snapshot.GoneError
		if !errors.As(e, &gone) {
			r.unread.any = true
		}
	}
}

// filter drops the removals that lack evidence: assets of workspaces a source could
// not read completely, data sources when any source had a problem, and everything
// when a problem's extent is unknown.
func (u unread) filter(gone []event.Removed, log *slog.Logger) []event.Removed {
	if len(gone) == 0 || (!u.any && !u.scope.Unknown) {
		return gone
	}
	if u.scope.Unknown {
		log.Warn("a source problem of unknown extent: no asset is reported removed this sync", "unseen", len(gone))
		return nil
	}
	kept := gone[:0:0]
	held := 0
	for _, g := range gone {
		if g.PowerBI.Type == spec.DataSource || u.scope.Has(g.PowerBI.WorkspaceID) {
			held++
			continue
		}
		kept = append(kept, g)
	}
	if held > 0 {
		log.Warn("unseen assets of workspaces that could not be read completely are not reported removed", "held", held, "workspaces", len(u.scope.Workspaces))
	}
	return kept
}

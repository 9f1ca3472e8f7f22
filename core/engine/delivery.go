package engine

import (
	"context"
	"fmt"
	"sync"

	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// removals sends a removed event for every asset of the previous sync that this one did
// not produce; saveState keeps this sync's assets once the sinks have them. It only runs
// after a complete sync: a partial one would report everything it missed as removed.
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
	current := make([]spec.AssetSpec, 0, len(r.seen))
	for _, a := range r.seen {
		current = append(current, spec.AssetSpec{Key: a.key, PowerBI: a.id})
	}
	// An incremental sync keeps the assets of the workspaces it did not rescan.
	for id, a := range prev {
		if _, sent := r.seen[id]; !sent && r.cov.carried(a) {
			current = append(current, spec.AssetSpec{Key: a.Key, PowerBI: a.PowerBI})
		}
	}
	gone := state.Removed(prev, current)
	if r.cov != nil && r.cov.partial {
		r.cov.sent = current[:len(r.seen)]
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
	for _, s := range r.sinks {
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
	return r.saveMarks(ctx)
}

// seenAsset is what a sync remembers of each asset it sent.
type seenAsset struct {
	key spec.Key
	id  spec.Identity
}

// write hands events to every sink in batches, the sinks in parallel. A failing sink is
// recorded and skipped from then on; the others go on.
func (r *run) write(ctx context.Context, events []event.Event) error {
	for start := 0; start < len(events); start += r.batch {
		chunk := events[start:min(start+r.batch, len(events))]
		var wg sync.WaitGroup
		for i, s := range r.out {
			if r.sinks[i].Err != nil {
				continue
			}
			wg.Go(func() {
				if err := s.Write(ctx, chunk); err != nil {
					r.sinks[i].Err = fmt.Errorf("sink %s: %w", s.Name(), err)
					r.log.Error("sink failed", "sink", s.Name(), "error", err)
					return
				}
				r.sinks[i].Events += len(chunk)
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

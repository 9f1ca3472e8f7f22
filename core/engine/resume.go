package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
)

// A sync that stops before the end (--no-wait at a quota) keeps the batches it read in the
// state store; the next run of the pipeline replays them instead of scanning their
// workspaces again, scans the rest, and saves the stopped run's high-water mark, so a
// workspace changed in between is scanned by the sync after.

// resumeStore keeps a stopped sync's batches (core/state implements it).
type resumeStore interface {
	SaveResumeBatch(ctx context.Context, pipeline, source string, b state.ResumeBatch) error
	ResumeBatches(ctx context.Context, pipeline, source string, since time.Time) ([]state.ResumeBatch, error)
	ClearResume(ctx context.Context, pipeline, source string) error
}

// resumeRetention bounds how old a kept batch may be to be replayed.
const resumeRetention = 24 * time.Hour

// resumer is a powerbi source's part in resuming.
type resumer struct {
	store    resumeStore
	pipeline string
	save     bool // keep this run's batches (set with --no-wait)
	log      *slog.Logger

	// Set by apply for the next Snapshots.
	replay []*snapshot.Snapshot
	skip   map[string]bool // lower-case ids of the workspaces replay holds
	mark   time.Time
}

// apply finds the batches a stopped sync kept for the plan's workspaces: they are
// replayed, not scanned, and the plan's mark becomes the stopped sync's.
func (r *resumer) apply(ctx context.Context, source string, plan *powerbi.SyncPlan) error {
	r.replay, r.skip, r.mark = nil, map[string]bool{}, plan.Mark
	batches, err := r.store.ResumeBatches(ctx, r.pipeline, source, time.Now().Add(-resumeRetention))
	if err != nil {
		return err
	}
	read := make(map[string]bool, len(plan.Read))
	for _, w := range plan.Read {
		read[strings.ToLower(w.ID)] = true
	}
	for _, b := range batches {
		snap, err := snapshot.Read(bytes.NewReader(b.Snapshot))
		if err != nil {
			r.log.Warn("a kept batch of a stopped sync cannot be read; scanning its workspaces again", "error", err.Error())
			continue
		}
		kept := snap.Workspaces[:0]
		for _, w := range snap.Workspaces {
			id := strings.ToLower(w.ID)
			if read[id] && !r.skip[id] {
				r.skip[id] = true
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			continue
		}
		snap.Workspaces = kept
		r.replay = append(r.replay, snap)
		if b.Mark.Before(plan.Mark) {
			plan.Mark = b.Mark
		}
	}
	r.mark = plan.Mark
	if len(r.skip) > 0 {
		r.log.Info("resuming a stopped sync", "source", source, "workspaces kept", len(r.skip), "to scan", len(plan.Read)-len(r.skip))
	}
	return nil
}

// snapshots replays the kept batches, then scans the rest of the plan through scan,
// keeping each new batch when save is set.
func (r *resumer) snapshots(ctx context.Context, source string, plan *powerbi.SyncPlan, emit func(*snapshot.Snapshot) error,
	scan func(*powerbi.SyncPlan, func(*snapshot.Snapshot) error) (powerbi.Stats, error)) (powerbi.Stats, error) {
	for _, s := range r.replay {
		if err := emit(s); err != nil {
			return powerbi.Stats{}, err
		}
	}
	rest := *plan
	rest.Read = nil
	for _, w := range plan.Read {
		if !r.skip[strings.ToLower(w.ID)] {
			rest.Read = append(rest.Read, w)
		}
	}
	keep := emit
	if r.save {
		keep = func(s *snapshot.Snapshot) error {
			var buf bytes.Buffer
			if err := snapshot.Save(&buf, s); err != nil {
				return fmt.Errorf("keeping a batch to resume from: %w", err)
			}
			ids := make([]string, len(s.Workspaces))
			for i := range s.Workspaces {
				ids[i] = s.Workspaces[i].ID
			}
			if err := r.store.SaveResumeBatch(ctx, r.pipeline, source, state.ResumeBatch{Mark: r.mark, TakenAt: time.Now(), Workspaces: ids, Snapshot: buf.Bytes()}); err != nil {
				return err
			}
			return emit(s)
		}
	}
	return scan(&rest, keep)
}

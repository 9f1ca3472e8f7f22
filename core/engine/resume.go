package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/rawblob"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
)

// The raw store (core/state, version 15) keeps the latest raw snapshot of every workspace
// an incremental source read, written as each batch arrives, with the sync that read it.
// A sync that did not complete (killed, stopped at a quota with --no-wait, failed) is
// finished by the next one: the workspaces it read are replayed from the raw store
// instead of scanned again, the scans it started and did not read are read (scanStatus,
// scanResult) instead of started again while the service keeps them, and its high-water
// mark is the one saved, so what changed in between is scanned by the sync after. A
// translator change replays every stored workspace the sync does not rescan
// (incremental.go).

// rawStore is the raw store (core/state implements it).
type rawStore interface {
	BeginSyncRun(ctx context.Context, pipeline, source string, r state.SyncRun) error
	UnfinishedSyncRuns(ctx context.Context, pipeline, source string) ([]state.SyncRun, error)
	SaveRawWorkspaces(ctx context.Context, pipeline, source string, ws []state.RawWorkspace) error
	RawWorkspaceIndex(ctx context.Context, pipeline, source string) (map[string]state.RawWorkspace, error)
	RawWorkspaceData(ctx context.Context, pipeline, source, workspaceID string) (state.RawWorkspace, error)
	SavePendingScan(ctx context.Context, pipeline, source string, p state.PendingScan) error
	DropPendingScan(ctx context.Context, pipeline, source, scanID string) error
	PendingScans(ctx context.Context, pipeline, source string) ([]state.PendingScan, error)
	CompleteSyncRuns(ctx context.Context, pipeline, source string, listed map[string]bool) error
	// The batches an older pbisync kept to resume from (version 12), replayed once.
	ResumeBatches(ctx context.Context, pipeline, source string, since time.Time) ([]state.ResumeBatch, error)
}

// resumeRetention bounds how old what an unfinished sync read may be to be replayed.
const resumeRetention = 24 * time.Hour

// replayBatch is how many stored workspaces are replayed as one batch.
const replayBatch = 100

// resumer is a powerbi source's part in the raw store. It is set up per sync by apply
// and serves as the client's scan journal.
type resumer struct {
	store    rawStore
	pipeline string
	source   string
	log      *slog.Logger
	now      func() time.Time

	// Set by apply for the next Snapshots.
	syncID  string
	active  bool                 // the plan reads a listing: raw rows are kept and replayed
	legacy  []*snapshot.Snapshot // version 12 batches to replay
	replay  []string             // lower-case ids of the workspaces replayed from raw rows
	skip    map[string]bool      // lower-case ids of every workspace replayed or read from a started scan
	started []startedScan        // scans an unfinished sync started and did not read
	listed  map[string]bool      // lower-case ids of the plan's complete listing
	// Why, for the log: how many workspaces were resumed, replayed for translators.
	resumed, retranslated int

	mu     sync.Mutex
	writer *rawWriter // the raw store's writes while Snapshots scans (rawwriter.go)
}

type startedScan struct {
	id string
	ws []powerbi.Workspace
}

func newSyncID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (r *resumer) clock() time.Time {
	if r.now != nil {
		return r.now()
	}
	return time.Now()
}

// reset forgets the previous sync's part.
func (r *resumer) reset() {
	r.syncID, r.active, r.legacy, r.replay, r.skip, r.started, r.listed = newSyncID(), false, nil, nil, map[string]bool{}, nil, nil
	r.resumed, r.retranslated = 0, 0
}

// apply decides, for the plan, what is replayed from the raw store and what is read from
// scans an unfinished sync started, records the sync as begun, and lowers the plan's mark
// to that of the oldest unfinished sync it finishes. With replayAll (the translators
// changed) every listed workspace the plan does not scan is replayed too, and those the
// store lacks are added to the plan's reads; with replayNothing (--full) nothing is.
func (r *resumer) apply(ctx context.Context, plan *powerbi.SyncPlan, mode replayMode) error {
	r.reset()
	if plan.Listed == nil {
		return nil // the source lists and reads everything its own way: nothing to resume
	}
	r.active = true
	now := r.clock()
	r.listed = make(map[string]bool, len(plan.Listed))
	for _, w := range plan.Listed {
		r.listed[strings.ToLower(w.ID)] = true
	}
	if mode == replayNothing {
		return r.store.BeginSyncRun(ctx, r.pipeline, r.source, state.SyncRun{ID: r.syncID, Mark: plan.Mark, StartedAt: now})
	}
	runs, err := r.store.UnfinishedSyncRuns(ctx, r.pipeline, r.source)
	if err != nil {
		return err
	}
	unfinished := map[string]bool{}
	for _, run := range runs {
		if now.Sub(run.StartedAt) > resumeRetention {
			continue
		}
		unfinished[run.ID] = true
		if !run.Mark.IsZero() && run.Mark.Before(plan.Mark) {
			plan.Mark = run.Mark
		}
	}
	index, err := r.store.RawWorkspaceIndex(ctx, r.pipeline, r.source)
	if err != nil {
		return err
	}
	reads := make(map[string]bool, len(plan.Read))
	for _, w := range plan.Read {
		id := strings.ToLower(w.ID)
		reads[id] = true
		if raw, ok := index[id]; ok && unfinished[raw.SyncID] && now.Sub(raw.ReadAt) <= resumeRetention {
			r.skip[id] = true
			r.replay = append(r.replay, id)
		}
	}
	r.resumed = len(r.replay)
	if err := r.applyLegacy(ctx, plan, reads); err != nil {
		return err
	}
	// Scans an unfinished sync started: read them rather than start new ones, while the
	// service keeps them and the plan reads every one of their workspaces.
	pending, err := r.store.PendingScans(ctx, r.pipeline, r.source)
	if err != nil {
		return err
	}
	rest := make([]powerbi.Workspace, 0, len(plan.Read))
	for _, w := range plan.Read {
		if !r.skip[strings.ToLower(w.ID)] {
			rest = append(rest, w)
		}
	}
	for _, p := range pending {
		if !unfinished[p.SyncID] || now.Sub(p.RequestedAt) > powerbi.ScanRetention {
			continue
		}
		ws, ok := powerbi.StartedScanWorkspaces(p.Workspaces, rest)
		if !ok || anySkipped(ws, r.skip) {
			continue
		}
		for _, w := range ws {
			r.skip[strings.ToLower(w.ID)] = true
		}
		r.started = append(r.started, startedScan{id: p.ScanID, ws: ws})
	}
	if mode == replayAll {
		for _, w := range plan.Listed {
			id := strings.ToLower(w.ID)
			if reads[id] {
				continue
			}
			if _, ok := index[id]; ok {
				r.skip[id] = true
				r.replay = append(r.replay, id)
				r.retranslated++
				continue
			}
			// Not in the raw store (read before it existed): scanned.
			plan.Read = append(plan.Read, w)
			reads[id] = true
		}
	}
	if r.resumed > 0 || len(r.started) > 0 || len(r.legacy) > 0 {
		toScan := 0
		for _, w := range plan.Read {
			if !r.skip[strings.ToLower(w.ID)] {
				toScan++
			}
		}
		r.log.Info("finishing an unfinished sync", "source", r.source, "workspaces replayed", r.resumed, "scans read, not started again", len(r.started),
			"to scan", toScan, "mark", plan.Mark.UTC().Format(time.RFC3339))
	}
	return r.store.BeginSyncRun(ctx, r.pipeline, r.source, state.SyncRun{ID: r.syncID, Mark: plan.Mark, StartedAt: now})
}

func anySkipped(ws []powerbi.Workspace, skip map[string]bool) bool {
	for _, w := range ws {
		if skip[strings.ToLower(w.ID)] {
			return true
		}
	}
	return false
}

// applyLegacy takes the batches a stopped sync of an older pbisync kept (version 12).
func (r *resumer) applyLegacy(ctx context.Context, plan *powerbi.SyncPlan, reads map[string]bool) error {
	batches, err := r.store.ResumeBatches(ctx, r.pipeline, r.source, r.clock().Add(-resumeRetention))
	if err != nil {
		return err
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
			if reads[id] && !r.skip[id] {
				r.skip[id] = true
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			continue
		}
		snap.Workspaces = kept
		r.legacy = append(r.legacy, snap)
		if b.Mark.Before(plan.Mark) {
			plan.Mark = b.Mark
		}
	}
	return nil
}

// snapshots replays what apply chose, reads the started scans, then scans the rest of
// the plan through scan; every batch read from the service is kept in the raw store
// before it goes on.
func (r *resumer) snapshots(ctx context.Context, client *powerbi.Client, plan *powerbi.SyncPlan, emit func(*snapshot.Snapshot) error,
	scan func(*powerbi.SyncPlan, func(*snapshot.Snapshot) error) (powerbi.Stats, error)) (powerbi.Stats, error) {
	if !r.active {
		return scan(plan, emit)
	}
	for _, s := range r.legacy {
		if err := emit(s); err != nil {
			return powerbi.Stats{}, err
		}
	}
	again, err := r.replayRaw(ctx, emit)
	if err != nil {
		return powerbi.Stats{}, err
	}
	r.writer = startRawWriter(ctx)
	st, err := r.scanKeeping(ctx, client, plan, again, scan, func(s *snapshot.Snapshot) error {
		if err := r.keep(ctx, s); err != nil {
			return err
		}
		return emit(s)
	})
	w := r.writer
	r.mu.Lock()
	r.writer = nil
	r.mu.Unlock()
	if werr := w.wait(); err == nil {
		err = werr
	}
	return st, err
}

// scanKeeping reads the started scans, then scans the rest of the plan, through keep.
func (r *resumer) scanKeeping(ctx context.Context, client *powerbi.Client, plan *powerbi.SyncPlan, again map[string]bool,
	scan func(*powerbi.SyncPlan, func(*snapshot.Snapshot) error) (powerbi.Stats, error), keep func(*snapshot.Snapshot) error) (powerbi.Stats, error) {
	var total powerbi.Stats
	for _, s := range r.started {
		st, err := client.ReadStartedScan(ctx, s.id, s.ws, keep)
		total.Problems = append(total.Problems, st.Problems...)
		if errors.Is(err, powerbi.ErrScanGone) {
			r.log.Info("a scan the unfinished sync started can no longer be read; scanning its workspaces again", "source", r.source, "scan", s.id, "why", err.Error())
			for _, w := range s.ws {
				again[strings.ToLower(w.ID)] = true
			}
			err = nil
		}
		if err != nil {
			return total, err
		}
		if derr := r.ScanRead(ctx, s.id); derr != nil {
			r.log.Warn("cannot forget a read scan", "scan", s.id, "error", derr.Error())
		}
	}
	rest := *plan
	rest.Read = nil
	for _, w := range plan.Read {
		if id := strings.ToLower(w.ID); !r.skip[id] || again[id] {
			rest.Read = append(rest.Read, w)
		}
	}
	for _, w := range plan.Listed {
		// A retranslated workspace whose stored snapshot could not be read.
		if id := strings.ToLower(w.ID); again[id] && !containsWorkspace(rest.Read, id) {
			rest.Read = append(rest.Read, w)
		}
	}
	st, err := scan(&rest, keep)
	st.Problems = append(total.Problems, st.Problems...)
	return st, err
}

func containsWorkspace(ws []powerbi.Workspace, id string) bool {
	for _, w := range ws {
		if strings.EqualFold(w.ID, id) {
			return true
		}
	}
	return false
}

// replayRaw emits the stored workspaces apply chose, replayBatch at a time. It returns
// the ids of those whose stored snapshot could not be read: they are scanned again.
func (r *resumer) replayRaw(ctx context.Context, emit func(*snapshot.Snapshot) error) (map[string]bool, error) {
	again := map[string]bool{}
	var parts []*snapshot.Snapshot
	flush := func() error {
		if len(parts) == 0 {
			return nil
		}
		s := rawblob.Merge(parts)
		parts = parts[:0]
		return emit(s)
	}
	for _, id := range r.replay {
		raw, err := r.store.RawWorkspaceData(ctx, r.pipeline, r.source, id)
		if err != nil {
			return nil, err
		}
		snap, err := rawblob.Decode(raw.Data)
		if err == nil && !strings.EqualFold(snap.Workspaces[0].ID, id) {
			err = fmt.Errorf("it holds workspace %s", snap.Workspaces[0].ID)
		}
		if err != nil {
			r.log.Warn("a stored workspace snapshot cannot be read; scanning the workspace again", "source", r.source, "workspace", id, "error", err.Error())
			again[id] = true
			continue
		}
		parts = append(parts, snap)
		if len(parts) == replayBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	return again, flush()
}

// keep writes a batch read from the service to the raw store.
func (r *resumer) keep(ctx context.Context, s *snapshot.Snapshot) error {
	blobs, err := rawblob.Encode(s)
	if err != nil {
		return fmt.Errorf("raw store: %w", err)
	}
	at := s.TakenAt
	if at.IsZero() {
		at = r.clock()
	}
	rows := make([]state.RawWorkspace, len(blobs))
	for i, b := range blobs {
		rows[i] = state.RawWorkspace{ID: s.Workspaces[i].ID, SyncID: r.syncID, ReadAt: at, Data: b}
	}
	return r.write(ctx, func(ctx context.Context) error { return r.store.SaveRawWorkspaces(ctx, r.pipeline, r.source, rows) })
}

// write runs a write to the raw store through the sync's writer, or now without one.
func (r *resumer) write(ctx context.Context, op func(context.Context) error) error {
	r.mu.Lock()
	w := r.writer
	r.mu.Unlock()
	if w == nil {
		return op(ctx)
	}
	return w.do(ctx, op)
}

// ScanStarted records a scan this sync started (powerbi.ScanJournal).
func (r *resumer) ScanStarted(ctx context.Context, scanID string, workspaces []string) error {
	if !r.active {
		return nil
	}
	p := state.PendingScan{ScanID: scanID, SyncID: r.syncID, RequestedAt: r.clock(), Workspaces: workspaces}
	return r.write(ctx, func(ctx context.Context) error { return r.store.SavePendingScan(ctx, r.pipeline, r.source, p) })
}

// ScanRead forgets a scan whose result was delivered (and kept).
func (r *resumer) ScanRead(ctx context.Context, scanID string) error {
	if !r.active {
		return nil
	}
	return r.write(ctx, func(ctx context.Context) error { return r.store.DropPendingScan(ctx, r.pipeline, r.source, scanID) })
}

// complete tells the store the sync completed.
func (r *resumer) complete(ctx context.Context) error {
	if !r.active {
		return nil
	}
	return r.store.CompleteSyncRuns(ctx, r.pipeline, r.source, r.listed)
}

package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/spec"
)

// An incremental sync reads only the workspaces a source names as modified since its
// high-water mark (kept in the state store per pipeline and source). The assets of the
// workspaces it did not rescan are carried: neither sent nor removed, kept in the state
// store and the estate, and known to the builder and the key check so that dependencies
// and clashes with them are still seen. An asset whose workspace is gone from the
// complete listing is removed.

// incrementalSource is a source that can plan a sync that reads only what changed.
type incrementalSource interface {
	Source
	// PlanSync lists the source's workspaces and decides which the next Snapshots reads
	// (all of them when since is zero); the plan holds until that Snapshots ends.
	// replay says what it may take from the raw store instead of scanning.
	PlanSync(ctx context.Context, since time.Time, replay replayMode) (*powerbi.SyncPlan, error)
	// FullEvery is how often a full scan is due anyway.
	FullEvery() time.Duration
}

// replayMode says what a sync may take from the raw store (resume.go) instead of scanning.
type replayMode int

const (
	// replayUnfinished replays what unfinished syncs read (the default).
	replayUnfinished replayMode = iota
	// replayAll replays, besides, every listed workspace the plan does not scan: the
	// translators changed.
	replayAll
	// replayNothing scans everything the plan reads (--full).
	replayNothing
)

// markStore keeps the sources' high-water marks (core/state implements it).
type markStore interface {
	SyncMark(ctx context.Context, pipeline, source string) (state.SyncMark, error)
	SetSyncMark(ctx context.Context, pipeline, source string, m state.SyncMark) error
}

// knower is a builder that can be told assets outside the stream (assets.Builder).
type knower interface {
	Know(t spec.ContentType, id string, key spec.Key)
}

// coverage is what this run's sources read, for removals.
type coverage struct {
	partial bool // some source read only part of its listing
	// source is the source that listed each workspace (lower-case id).
	source map[string]Source
	// unchanged is set on a partial sync that reads no workspace and removes none.
	unchanged bool
	listed    map[string]bool // lower-case ids of every workspace an incremental source listed
	read      map[string]bool // ... and of those it reads
	marks     map[string]state.SyncMark
	prev      map[state.AssetID]state.Asset // the previous sync's assets, read once
	sent      []state.Asset                 // what this sync sent, and removed, for UpdateAssets
	gone      []state.AssetID
}

// assetUpdater saves an incremental sync's changes in place (core/state implements it).
type assetUpdater interface {
	UpdateAssets(ctx context.Context, pipeline string, upserts []state.Asset, removed []state.AssetID) error
}

// carried reports whether an asset of the previous sync that this run did not send keeps
// its place: its workspace was listed but not rescanned, or it belongs to no workspace
// (a data source) in a partial sync, where only a full scan can show it unused.
func (c *coverage) carried(a state.Asset) bool {
	if c == nil || !c.partial {
		return false
	}
	ws := strings.ToLower(a.PowerBI.WorkspaceID)
	if ws == "" {
		return true
	}
	return c.listed[ws] && !c.read[ws]
}

// plan asks every incremental source for its plan. full forces full scans.
func (r *run) plan(ctx context.Context, full bool, b Builder) error {
	ms, ok := r.e.State.(markStore)
	if !ok || ms == nil {
		return nil
	}
	now := time.Now
	if r.e.Now != nil {
		now = r.e.Now
	}
	fingerprint := r.e.translatorsFingerprint()
	// A full scan asked for (--full) replays nothing from the raw store; one the estate
	// makes necessary may finish what an unfinished sync read.
	forced := full
	cov := &coverage{listed: map[string]bool{}, read: map[string]bool{}, marks: map[string]state.SyncMark{}, source: map[string]Source{}}
	fullWhy := "--full"
	if !full {
		// An incremental sync sends outputs that need every asset the unchanged ones
		// from the estate: without it, only a full scan can.
		ok, why, err := r.feedable(ctx)
		if err != nil {
			return fmt.Errorf("state: %w", err)
		}
		if !ok && why != "" && r.hasMarks(ctx, ms) {
			r.log.Info("a full scan: the estate cannot stand in for the service", "why", why)
		}
		full, fullWhy = !ok, why
	}
	for _, src := range r.e.Sources {
		is, ok := src.(incrementalSource)
		if !ok {
			continue
		}
		m, err := ms.SyncMark(ctx, r.e.Pipeline, src.Name())
		if err != nil {
			return err
		}
		since := m.Mark
		reason := ""
		switch {
		case full:
			since, reason = time.Time{}, fullWhy
		case !m.FullAt.IsZero() && now().Sub(m.FullAt) >= is.FullEvery():
			since, reason = time.Time{}, fmt.Sprintf("the last full scan (%s) is older than full_every %s", m.FullAt.UTC().Format(time.RFC3339), is.FullEvery())
		}
		// A translator change since the last complete sync rebuilds every asset: what the
		// plan does not rescan is replayed from the raw store.
		retranslate := !since.IsZero() && m.Translators != "" && m.Translators != fingerprint
		mode := replayUnfinished
		switch {
		case forced:
			mode = replayNothing
		case retranslate:
			mode = replayAll
		}
		p, err := is.PlanSync(ctx, since, mode)
		var apiErr *powerbi.APIError
		if errors.As(err, &apiErr) && apiErr.Refused() {
			// The admin API was refused: the source's own path falls back and reads all.
			r.log.Warn("incremental sync needs the admin API, which was refused; reading everything", "source", src.Name(), "error", err.Error())
			continue
		}
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name(), err)
		}
		if reason == "" {
			reason = p.Reason
		}
		if retranslate && !p.Full && p.Listed != nil {
			reason += "; the translators changed since the last complete sync (their modules' sha256 or config), so every stored workspace it does not rescan is replayed through them"
		}
		r.log.Info("sync plan", "source", src.Name(), "full", p.Full, "workspaces", len(p.Listed), "scanned", len(p.Read), "why", reason)
		next := state.SyncMark{Mark: p.Mark, FullAt: m.FullAt, Translators: fingerprint}
		switch {
		case p.Full:
			next.FullAt = p.Mark
		case retranslate && p.Listed != nil:
			// Every listed workspace is scanned or replayed: the run covers the whole
			// estate, and removals follow the full sync's rule.
		default:
			cov.partial = true
		}
		cov.marks[src.Name()] = next
		for _, w := range p.Listed {
			cov.listed[strings.ToLower(w.ID)] = true
			cov.source[strings.ToLower(w.ID)] = src
		}
		for _, w := range p.Read {
			cov.read[strings.ToLower(w.ID)] = true
		}
	}
	r.cov = cov
	if !cov.partial {
		return nil
	}
	prev, err := r.e.State.PreviousAssets(ctx, r.e.Pipeline)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	cov.prev = prev
	cov.unchanged = len(cov.read) == 0
	for _, a := range prev {
		if ws := strings.ToLower(a.PowerBI.WorkspaceID); ws != "" && !cov.listed[ws] {
			cov.unchanged = false // its workspace is gone: a removal
			break
		}
	}
	if err := r.knowCarriedRelated(ctx); err != nil {
		return err
	}
	kn, _ := b.(knower)
	for _, a := range prev {
		if !cov.carried(a) {
			continue
		}
		if kn != nil {
			kn.Know(a.PowerBI.Type, a.PowerBI.ID, a.Key)
		}
		if r.e.Keys != nil {
			r.e.Keys.Claim(a.Key, &a.PowerBI)
		}
	}
	return nil
}

// hasMarks reports whether any incremental source has a mark: a sync after the first.
func (r *run) hasMarks(ctx context.Context, ms markStore) bool {
	for _, src := range r.e.Sources {
		if _, ok := src.(incrementalSource); !ok {
			continue
		}
		if m, err := ms.SyncMark(ctx, r.e.Pipeline, src.Name()); err == nil && !m.Mark.IsZero() {
			return true
		}
	}
	return false
}

// saveMarks records the sources' marks once the sync completed and its assets were saved.
func (r *run) saveMarks(ctx context.Context) error {
	ms, ok := r.e.State.(markStore)
	if !ok || r.cov == nil {
		return nil
	}
	for src, m := range r.cov.marks {
		if err := ms.SetSyncMark(ctx, r.e.Pipeline, src, m); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	// What unfinished syncs read is in this complete one now; the raw rows of the
	// workspaces gone from the listing go.
	for _, src := range r.e.Sources {
		if ps, ok := src.(*powerbiSource); ok && ps.resume != nil {
			if err := ps.resume.complete(ctx); err != nil {
				return fmt.Errorf("state: %w", err)
			}
		}
	}
	return nil
}

// withKeptModels adds to this run's models those of the previous run that it carried,
// and keeps the result for the next run. The first run of a process takes them from the
// estate, when refreshes may follow (refresh selection needs every model).
func (r *run) withKeptModels(ctx context.Context, refreshes bool) ([]Model, error) {
	if r.noModels {
		r.e.kept = nil // the next run that needs them reads the estate's
		return nil, nil
	}
	models := r.models
	if r.cov != nil && r.cov.partial && r.e.kept == nil && refreshes {
		carried, err := r.estateModels(ctx)
		if err != nil {
			return nil, err
		}
		models = append(models, carried...)
	} else if r.cov != nil && r.cov.partial {
		sent := make(map[string]bool, len(models))
		for _, m := range models {
			sent[m.Record.Spec.PowerBI.ID] = true
		}
		for _, m := range r.e.kept {
			if !sent[m.Record.Spec.PowerBI.ID] && r.cov.carried(state.Asset{Key: m.Record.Spec.Key, PowerBI: m.Record.Spec.PowerBI}) {
				models = append(models, m)
			}
		}
	}
	if models == nil {
		models = []Model{}
	}
	r.e.kept = models
	return models, nil
}

// planQuotas makes every Power BI source plan its admin requests against the service's
// documented limits, counted per tenant in the state store (this process only without
// one).
func (s *setup) planQuotas(e *Engine) {
	var ledger powerbi.QuotaLedger
	if st, ok := e.State.(*state.Store); ok && st != nil {
		ledger = st
	}
	for _, src := range e.Sources {
		if ps, ok := src.(*powerbiSource); ok {
			cfg := ps.client.Config()
			log := s.opts.Logger
			if log != nil {
				log = log.With("source", ps.name)
			}
			ps.client.UseQuota(powerbi.NewQuota(cfg.TenantID, ledger, s.opts.NoWait, log))
			if ledger != nil {
				ps.resume = &resumer{store: e.State.(*state.Store), pipeline: e.Pipeline, source: ps.name, log: s.opts.Logger}
				ps.client.UseScanJournal(ps.resume)
			}
		}
	}
}

// fingerprinter is a translator that can say what decides its output (core/translate's
// steps: the module's sha256 and config, or the no-code rules).
type fingerprinter interface {
	Fingerprint() string
}

// translatorsFingerprint is the sha256 of every translator's fingerprint, in order: when
// it differs from the one saved with the marks, the translators changed.
func (e *Engine) translatorsFingerprint() string {
	h := sha256.New()
	io.WriteString(h, "pbisync translators 1\n")
	for _, t := range e.Translators {
		fp := "name " + t.Name()
		if f, ok := t.(fingerprinter); ok {
			fp = f.Fingerprint()
		}
		fmt.Fprintf(h, "%d\n%s\n", len(fp), fp)
	}
	return hex.EncodeToString(h.Sum(nil))
}

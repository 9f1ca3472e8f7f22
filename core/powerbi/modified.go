package powerbi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// The service's limits of GET admin/workspaces/modified: modifiedSince must lie between
// 30 minutes and 30 days ago (powerbi-rest.md).
const (
	ModifiedMinAge = 30 * time.Minute
	ModifiedMaxAge = 30 * 24 * time.Hour
	// markMargin is taken off the high-water mark, so a workspace changed while the
	// previous sync ran, or a clock that runs a little ahead, is scanned again rather
	// than missed.
	markMargin = 2 * time.Minute
)

// DefaultFullEvery is how often an incremental source runs a full scan anyway, for
// safety: 7 days.
const DefaultFullEvery = 7 * 24 * time.Hour

// IncrementalConfig is the `incremental:` section of a powerbi source.
type IncrementalConfig struct {
	// Enabled scans only the workspaces modified since the last complete sync (default
	// true; it needs the scanner path, admin discovery, a state_dir and the estate).
	// Outputs that hold the last sync get only the changes; the others are sent every
	// asset, the unchanged ones from the estate (core/engine/whole.go).
	Enabled *bool `yaml:"enabled"`
	// FullEvery schedules a full scan when the last one is older (default 168h).
	FullEvery time.Duration `yaml:"full_every"`
}

// IncrementalEnabled reports whether the source may sync incrementally.
func (c *Config) IncrementalEnabled() bool {
	return (c.Incremental.Enabled == nil || *c.Incremental.Enabled) && c.ScannerEnabled() && c.Workspaces.Discover != "groups" && c.Workspaces.Discover != "none"
}

// FullEvery is Incremental.FullEvery or its default.
func (c *Config) FullEvery() time.Duration {
	if c.Incremental.FullEvery > 0 {
		return c.Incremental.FullEvery
	}
	return DefaultFullEvery
}

// SyncPlan is what one sync of a source reads: the complete listing of its workspaces,
// and those of them it scans.
type SyncPlan struct {
	// Full is set when every listed workspace is scanned; Reason says why.
	Full   bool
	Reason string
	// Listed holds every workspace of the complete listing (after the filters); a
	// workspace absent from it is gone.
	Listed []Workspace
	// Read are the workspaces scanned: all of Listed for a full plan, else those
	// modified since the mark.
	Read       []Workspace
	everything bool // ScanPlan runs Snapshots: Listed is not known
	// Mark is the next sync's high-water mark: when this plan was made (the next plan
	// asks from a margin before it).
	Mark time.Time
}

// Plan lists the workspaces and decides which to scan. With a zero since every workspace
// is scanned; otherwise only those GET admin/workspaces/modified names as modified since
// it (a since older than the service allows gives a full plan; one younger than its
// minimum age asks from the minimum, which includes everything since). now is the
// local time (time.Now when zero).
func (c *Client) Plan(ctx context.Context, since, now time.Time) (*SyncPlan, error) {
	if now.IsZero() {
		now = time.Now()
	}
	f, err := c.cfg.compileFilters()
	if err != nil {
		return nil, err
	}
	plan := &SyncPlan{Mark: now.UTC()}
	if !c.cfg.IncrementalEnabled() {
		// Snapshots lists and reads everything its own way (regular API, fallback).
		plan.Full, plan.everything = true, true
		plan.Reason = "incremental sync is off for this source (it needs the scanner path with admin discovery)"
		return plan, nil
	}
	mode := c.cfg.Workspaces.Discover
	if mode == "" {
		mode = "admin"
	}
	listed, err := c.Discover(ctx, mode, f)
	if err != nil {
		return nil, err
	}
	plan.Listed = listed
	switch {
	case plan.Full:
	case since.IsZero():
		plan.Full, plan.Reason = true, "no earlier complete sync"
	case now.Sub(since) > ModifiedMaxAge-markMargin:
		plan.Full, plan.Reason = true, fmt.Sprintf("the last complete sync (%s) is older than admin/workspaces/modified looks back (30 days)", since.UTC().Format(time.RFC3339))
	}
	if plan.Full {
		plan.Read = listed
		return plan, nil
	}
	ask := since.Add(-markMargin)
	if latest := now.Add(-ModifiedMinAge - time.Minute); ask.After(latest) {
		ask = latest
	}
	ids, err := c.Modified(ctx, ask, true, true)
	if err != nil {
		return nil, err
	}
	for _, w := range listed {
		if ids[strings.ToLower(w.ID)] {
			plan.Read = append(plan.Read, w)
		}
	}
	plan.Reason = fmt.Sprintf("%d of %d workspaces modified since %s", len(plan.Read), len(listed), ask.UTC().Format(time.RFC3339))
	return plan, nil
}

// Modified returns the ids (lower case) of the workspaces modified since the given time,
// through GET admin/workspaces/modified.
func (c *Client) Modified(ctx context.Context, since time.Time, excludePersonal, excludeInactive bool) (map[string]bool, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("modifiedSince", since.UTC().Format("2006-01-02T15:04:05.0000000Z"))
	}
	q.Set("excludePersonalWorkspaces", fmt.Sprint(excludePersonal))
	q.Set("excludeInActiveWorkspaces", fmt.Sprint(excludeInactive))
	var body []json.RawMessage
	if _, err := c.Do(ctx, "GET", "admin/workspaces/modified?"+q.Encode(), nil, &body); err != nil {
		return nil, fmt.Errorf("listing the workspaces modified since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return decodeModified(body)
}

// decodeModified reads the bare array [{"id": "..."}] the modified endpoint answers.
func decodeModified(body []json.RawMessage) (map[string]bool, error) {
	out := make(map[string]bool, len(body))
	for i, raw := range body {
		var w struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, fmt.Errorf("listing modified workspaces: item %d: %w", i, err)
		}
		if w.ID == "" {
			return nil, fmt.Errorf("listing modified workspaces: item %d has no id", i)
		}
		out[strings.ToLower(w.ID)] = true
	}
	return out, nil
}

// ScanPlan scans the plan's Read workspaces through the scanner, as Snapshots does for a
// full listing. A plan that reads nothing emits nothing.
func (c *Client) ScanPlan(ctx context.Context, plan *SyncPlan, emit func(*snapshot.Snapshot) error) (Stats, error) {
	if plan.everything {
		return c.Snapshots(ctx, emit)
	}
	start := time.Now()
	if len(plan.Read) == 0 {
		return Stats{Path: "scanner", Duration: time.Since(start)}, nil
	}
	emitted := false
	counting := func(s *snapshot.Snapshot) error {
		emitted = true
		return emit(s)
	}
	if c.quota != nil && c.quota.NoWait {
		return c.scanEach(ctx, plan.Read, counting)
	}
	st, err := c.scan(ctx, plan.Read, counting)
	var apiErr *APIError
	if err != nil && !emitted && plan.Full && errors.As(err, &apiErr) && apiErr.Refused() {
		// The scanner was refused after the listing worked: Snapshots falls back
		// (or explains why it may not).
		return c.Snapshots(ctx, emit)
	}
	st.Duration = time.Since(start)
	return st, err
}

// scanEach scans one batch after another, for a client that stops at a quota (NoWait):
// a stop then costs only the batch it interrupts, and the batches before it were
// emitted (and kept, to resume from), where parallel scans would all be cancelled.
func (c *Client) scanEach(ctx context.Context, ws []Workspace, emit func(*snapshot.Snapshot) error) (Stats, error) {
	start := time.Now()
	total := Stats{Path: "scanner", Workspaces: len(ws)}
	size := c.cfg.Scanner.BatchFor(len(ws))
	for _, batch := range chunk(ws, size) {
		st, err := c.scanBatches(ctx, batch, size, emit)
		total.Batches += st.Batches
		total.Problems = append(total.Problems, st.Problems...)
		if err != nil {
			total.Duration = time.Since(start)
			return total, err
		}
	}
	total.Duration = time.Since(start)
	return total, nil
}

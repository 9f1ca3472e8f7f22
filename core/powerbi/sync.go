package powerbi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// Progress is reported while Snapshots runs, for a progress display.
type Progress struct {
	Path            string // "scanner" or "api"
	WorkspacesTotal int
	WorkspacesDone  int
	BatchesTotal    int
	BatchesDone     int
}

// Stats summarises a Snapshots run.
type Stats struct {
	// Path is the path that produced the snapshots: "scanner" or "api".
	Path string
	// FellBack is true when the scanner was refused and the regular API was used.
	FellBack   bool
	Workspaces int
	Batches    int
	// Problems are items that could not be read; everything else was emitted.
	Problems []error
	Duration time.Duration
}

// Workspace is a discovered workspace.
type Workspace struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	State string `json:"state"`

	raw json.RawMessage // the listing's object, kept for the snapshot
}

// Snapshots reads the configured workspaces and calls emit with one Snapshot per batch
// (a scan of up to scanner.batch_size workspaces, or as many read through the regular
// API), one call at a time. Only a few batches are held at once, so memory grows with
// the batch, not the tenant. When the scanner is refused (401/403) and scanner.fallback
// is on, it warns and uses the regular API. An error from emit stops the run.
func (c *Client) Snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) (Stats, error) {
	start := time.Now()
	st, err := c.snapshots(ctx, emit)
	st.Duration = time.Since(start)
	return st, err
}

func (c *Client) snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) (Stats, error) {
	f, err := c.cfg.compileFilters()
	if err != nil {
		return Stats{}, err
	}
	if !c.cfg.ScannerEnabled() {
		ws, err := c.Discover(ctx, c.cfg.Workspaces.Discover, f)
		if err != nil {
			return Stats{Path: "api"}, err
		}
		return c.readAPI(ctx, ws, emit)
	}
	emitted := false
	countingEmit := func(s *snapshot.Snapshot) error {
		emitted = true
		return emit(s)
	}
	ws, err := c.Discover(ctx, c.cfg.Workspaces.Discover, f)
	var st Stats
	if err == nil {
		st, err = c.scan(ctx, ws, countingEmit)
		if err == nil {
			return st, nil
		}
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !apiErr.Refused() || emitted {
		return st, err
	}
	if !c.cfg.FallbackEnabled() {
		return st, fmt.Errorf("the scanner (admin) API was refused and scanner.fallback is false: %w; grant the service principal read-only admin API access in the Power BI admin portal, or set scanner.enabled: false", err)
	}
	c.log.Warn("the scanner (admin) API was refused; reading through the regular API instead (no table schemas or M expressions, only workspaces the principal is a member of)",
		"error", err.Error())
	mode := c.cfg.Workspaces.Discover
	if mode == "admin" {
		mode = "groups"
	}
	ws, err = c.Discover(ctx, mode, f)
	if err != nil {
		return Stats{Path: "api", FellBack: true}, err
	}
	st, err = c.readAPI(ctx, ws, emit)
	st.FellBack = true
	return st, err
}

// Discover lists workspaces: mode is "admin" (GET admin/groups), "groups" (GET groups)
// or "none" (workspaces.ids only), filtered by the configured filters.
func (c *Client) Discover(ctx context.Context, mode string, f *filters) ([]Workspace, error) {
	if f == nil {
		var err error
		if f, err = c.cfg.compileFilters(); err != nil {
			return nil, err
		}
	}
	wantIDs := map[string]bool{}
	for _, id := range c.cfg.Workspaces.IDs {
		wantIDs[strings.ToLower(id)] = true
	}
	if mode == "none" {
		out := make([]Workspace, 0, len(c.cfg.Workspaces.IDs))
		for _, id := range c.cfg.Workspaces.IDs {
			if f.keep(id, "", "") {
				out = append(out, Workspace{ID: id})
			}
		}
		return out, nil
	}
	path := "groups"
	if mode == "admin" {
		path = "admin/groups"
	}
	const page = 5000
	var out []Workspace
	for skip := 0; ; skip += page {
		var body struct {
			Value []json.RawMessage `json:"value"`
		}
		q := url.Values{"$top": {strconv.Itoa(page)}, "$skip": {strconv.Itoa(skip)}}
		if _, err := c.Do(ctx, "GET", path+"?"+q.Encode(), nil, &body); err != nil {
			return nil, fmt.Errorf("listing workspaces: %w", err)
		}
		for i, raw := range body.Value {
			var w Workspace
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, fmt.Errorf("listing workspaces: item %d: %w", skip+i, err)
			}
			w.raw = raw
			if w.State != "" && w.State != "Active" {
				continue
			}
			if len(wantIDs) > 0 && !wantIDs[strings.ToLower(w.ID)] {
				continue
			}
			if f.keep(w.ID, w.Name, w.Type) {
				out = append(out, w)
			}
		}
		c.report(Progress{Path: map[bool]string{true: "scanner", false: "api"}[mode == "admin"], WorkspacesTotal: len(out)})
		if len(body.Value) < page {
			return out, nil
		}
	}
}

func (c *Client) report(p Progress) {
	if c.progress != nil {
		c.progress(p)
	}
}

// runner runs batches with bounded parallelism, holding at most `slots` decoded batches
// at once, emitting one at a time, stopping everything at the first error.
type runner struct {
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}

	emitMu sync.Mutex
	emit   func(*snapshot.Snapshot) error

	mu       sync.Mutex
	err      error
	problems []error
	done     int
	wsDone   int
}

func newRunner(ctx context.Context, emit func(*snapshot.Snapshot) error, slots int) *runner {
	ctx, cancel := context.WithCancel(ctx)
	return &runner{ctx: ctx, cancel: cancel, slots: make(chan struct{}, slots), emit: emit}
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.cancel()
}

// acquire takes a decode slot: a batch is fetched and decoded only while holding one.
func (r *runner) acquire() bool {
	select {
	case r.slots <- struct{}{}:
		return true
	case <-r.ctx.Done():
		return false
	}
}

func (r *runner) release() { <-r.slots }

func (r *runner) deliver(s *snapshot.Snapshot, problem error, workspaces int) (done, wsDone int, err error) {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	if r.ctx.Err() != nil {
		return 0, 0, r.ctx.Err()
	}
	if err := r.emit(s); err != nil {
		return 0, 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if problem != nil {
		r.problems = append(r.problems, problem)
	}
	r.done++
	r.wsDone += workspaces
	return r.done, r.wsDone, nil
}

func chunk[T any](list []T, n int) [][]T {
	var out [][]T
	for len(list) > 0 {
		k := min(n, len(list))
		out = append(out, list[:k:k])
		list = list[k:]
	}
	return out
}

func describe(ws []Workspace) string {
	parts := make([]string, 0, min(len(ws), 10))
	for i, w := range ws {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ws)-10))
			break
		}
		if w.Name != "" {
			parts = append(parts, fmt.Sprintf("%q (%s)", w.Name, w.ID))
		} else {
			parts = append(parts, w.ID)
		}
	}
	return strings.Join(parts, ", ")
}

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
	// Discovered is how many workspaces the listing returned, before filters.
	Discovered int
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
	c.discovered.Store(0)
	st, err := c.snapshots(ctx, emit)
	st.Duration = time.Since(start)
	st.Discovered = int(c.discovered.Load())
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
	listed := 0
	seen := map[string]bool{}
	next := path + "?" + url.Values{"$top": {strconv.Itoa(page)}, "$skip": {"0"}}.Encode()
	for skip := 0; ; {
		var body struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
			// Some admin listings page by a continuation instead.
			ContinuationURI string `json:"continuationUri"`
		}
		if _, err := c.Do(ctx, "GET", next, nil, &body); err != nil {
			return nil, fmt.Errorf("listing workspaces: %w", err)
		}
		// The service may cap a page below $top, so only an empty page (or no next
		// link where it sends them) ends the listing.
		if len(body.Value) == 0 {
			break
		}
		fresh := 0
		for i, raw := range body.Value {
			var w Workspace
			if err := json.Unmarshal(raw, &w); err != nil {
				return nil, fmt.Errorf("listing workspaces: item %d: %w", listed+i, err)
			}
			w.raw = raw
			if seen[strings.ToLower(w.ID)] {
				continue
			}
			seen[strings.ToLower(w.ID)] = true
			fresh++
			if w.State != "" && !strings.EqualFold(w.State, "Active") {
				continue
			}
			if len(wantIDs) > 0 && !wantIDs[strings.ToLower(w.ID)] {
				continue
			}
			if f.keep(w.ID, w.Name, w.Type) {
				out = append(out, w)
			}
		}
		listed += len(body.Value)
		c.report(Progress{Path: map[bool]string{true: "scanner", false: "api"}[mode == "admin"], WorkspacesTotal: len(out)})
		if fresh == 0 {
			// A server that ignores $skip would send the same page forever.
			return nil, fmt.Errorf("listing workspaces: the page at $skip=%d repeats workspaces already listed; stopping after %d", skip, listed)
		}
		skip += len(body.Value)
		link := body.NextLink
		if link == "" {
			link = body.ContinuationURI
		}
		if rel, ok := c.relativeLink(link); ok {
			next = rel
			continue
		}
		next = path + "?" + url.Values{"$top": {strconv.Itoa(page)}, "$skip": {strconv.Itoa(skip)}}.Encode()
	}
	c.log.Info("listed workspaces", "listed", listed, "kept", len(out), "mode", mode)
	c.discovered.Store(int64(listed))
	return out, nil
}

// relativeLink turns a next-page link of the API into a path for Do; links to other
// hosts are not followed (the token is not sent there).
func (c *Client) relativeLink(link string) (string, bool) {
	if link == "" {
		return "", false
	}
	base := c.base.String() + "/"
	if rest, ok := strings.CutPrefix(link, base); ok {
		return rest, true
	}
	c.log.Warn("not following a next-page link outside the API", "link_host", hostOf(link))
	return "", false
}

func hostOf(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return "?"
	}
	return u.Host
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

package powerbi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// ScanRetention is how long the service keeps a scan's result readable after getInfo
// started it (powerbi-rest.md: scan results are kept about 24 hours). A scan older than
// that is not asked for: its workspaces are scanned again.
const ScanRetention = 24 * time.Hour

// ScanJournal is told of every scan the client starts and of every scan whose result
// it delivered, so that a sync killed between the two can have a later one read the
// scan (ReadStartedScan) instead of starting it again. Its errors are logged, not
// returned: a scan is not failed for its journal.
type ScanJournal interface {
	ScanStarted(ctx context.Context, scanID string, workspaces []string) error
	ScanRead(ctx context.Context, scanID string) error
}

// UseScanJournal makes the client record its scans in j (nil: none).
func (c *Client) UseScanJournal(j ScanJournal) { c.journal = j }

func (c *Client) journalStarted(ctx context.Context, scanID string, batch []Workspace) {
	if c.journal == nil {
		return
	}
	ids := make([]string, len(batch))
	for i, w := range batch {
		ids[i] = w.ID
	}
	// Recorded even when ctx ends now: the scan was started, and a later sync can read it.
	if err := c.journal.ScanStarted(context.WithoutCancel(ctx), scanID, ids); err != nil {
		c.log.Warn("cannot record a started scan; a sync that resumes this one will scan its workspaces again", "scan", scanID, "error", err.Error())
	}
}

func (c *Client) journalRead(ctx context.Context, scanID string) {
	if c.journal == nil {
		return
	}
	if err := c.journal.ScanRead(ctx, scanID); err != nil {
		c.log.Warn("cannot record a read scan", "scan", scanID, "error", err.Error())
	}
}

// ErrScanGone says a scan started earlier can no longer be read: the service does not
// know it (404, its retention passed), it failed, or it did not finish in time. Its
// workspaces need a new scan.
var ErrScanGone = errors.New("the earlier scan can no longer be read")

// ReadStartedScan reads a scan that getInfo started earlier, possibly in another
// process: it polls scanStatus until the scan succeeded, reads scanResult and emits the
// snapshot, as a scan of ws would. An error wrapping ErrScanGone means the workspaces
// must be scanned again; nothing was emitted then.
func (c *Client) ReadStartedScan(ctx context.Context, scanID string, ws []Workspace, emit func(*snapshot.Snapshot) error) (Stats, error) {
	start := time.Now()
	st := Stats{Path: "scanner", Workspaces: len(ws), Batches: 1}
	r := newRunner(ctx, emit, 1)
	defer r.cancel()
	err := c.readScan(r, scanStatus{ID: scanID, Status: "Running"}, ws, len(ws), 1)
	if err == nil {
		err = r.err
	}
	st.Problems = r.problems
	st.Duration = time.Since(start)
	if err == nil {
		return st, ctx.Err()
	}
	var apiErr *APIError
	var scanErr *ScanError
	emitted := r.done > 0
	switch {
	case emitted:
	case errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusBadRequest || apiErr.Status == http.StatusGone):
		err = fmt.Errorf("%w: scan %s of workspaces %s: %w", ErrScanGone, scanID, describe(ws), err)
	case errors.As(err, &scanErr):
		err = fmt.Errorf("%w: %w", ErrScanGone, err)
	}
	return st, err
}

// StartedScanWorkspaces matches a started scan's workspace ids against the workspaces a
// plan reads: it returns them when the plan reads every one (a scan of workspaces the
// plan does not read would send assets it does not expect).
func StartedScanWorkspaces(ids []string, read []Workspace) ([]Workspace, bool) {
	byID := make(map[string]Workspace, len(read))
	for _, w := range read {
		byID[strings.ToLower(w.ID)] = w
	}
	out := make([]Workspace, 0, len(ids))
	for _, id := range ids {
		w, ok := byID[strings.ToLower(id)]
		if !ok {
			return nil, false
		}
		out = append(out, w)
	}
	return out, len(out) > 0
}

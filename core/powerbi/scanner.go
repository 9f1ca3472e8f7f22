package powerbi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

const getInfoQuery = "admin/workspaces/getInfo?lineage=true&datasourceDetails=true&datasetSchema=true&datasetExpressions=true&getArtifactUsers=true"

// ScanError is a scan that failed or did not finish in time.
type ScanError struct {
	ScanID     string
	Workspaces []Workspace
	Status     string // Failed, or the last status seen at the timeout
	Code       string
	Message    string
	Timeout    time.Duration // set when the scan timed out
}

func (e *ScanError) Error() string {
	if e.Timeout > 0 {
		return fmt.Sprintf("scan %s of workspaces %s did not finish within scanner.timeout %s (last status %s)",
			e.ScanID, describe(e.Workspaces), e.Timeout, e.Status)
	}
	return fmt.Sprintf("scan %s of workspaces %s failed: %s: %s", e.ScanID, describe(e.Workspaces), e.Code, e.Message)
}

type scanStatus struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// scan reads the workspaces through the scanner API, scanner.parallel_scans batches at once.
func (c *Client) scan(ctx context.Context, ws []Workspace, emit func(*snapshot.Snapshot) error) (Stats, error) {
	return c.scanBatches(ctx, ws, c.cfg.Scanner.BatchFor(len(ws)), emit)
}

// scanBatches is scan with batches of size workspaces.
func (c *Client) scanBatches(ctx context.Context, ws []Workspace, size int, emit func(*snapshot.Snapshot) error) (Stats, error) {
	batches := chunk(ws, size)
	st := Stats{Path: "scanner", Workspaces: len(ws), Batches: len(batches)}
	c.report(Progress{Path: "scanner", WorkspacesTotal: len(ws), BatchesTotal: len(batches)})
	// One scan result is fetched and decoded at a time: the engine works on the
	// previous one meanwhile, so both cores stay busy, and a second decode slot costs a
	// batch of memory (about 80 MB of RSS for 100 large workspaces) for no speed.
	r := newRunner(ctx, emit, 1)
	defer r.cancel()
	work := make(chan []Workspace)
	var wg sync.WaitGroup
	for range min(c.cfg.Scanner.ParallelScans, max(len(batches), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range work {
				if err := c.scanBatch(r, batch, len(ws), len(batches)); err != nil {
					r.fail(err)
				}
			}
		}()
	}
feed:
	for _, b := range batches {
		select {
		case work <- b:
		case <-r.ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	st.Problems = r.problems
	if r.err != nil {
		return st, r.err
	}
	return st, ctx.Err()
}

func (c *Client) scanBatch(r *runner, batch []Workspace, totalWS, totalBatches int) error {
	ctx := r.ctx
	ids := make([]string, len(batch))
	for i, w := range batch {
		ids[i] = w.ID
	}
	var started scanStatus
	if _, err := c.Do(ctx, "POST", getInfoQuery, map[string][]string{"workspaces": ids}, &started); err != nil {
		return fmt.Errorf("starting a scan of workspaces %s: %w", describe(batch), err)
	}
	if started.ID == "" {
		return fmt.Errorf("starting a scan of workspaces %s: the answer has no scan id", describe(batch))
	}
	c.journalStarted(ctx, started.ID, batch)
	return c.readScan(r, started, batch, totalWS, totalBatches)
}

// readScan waits for a started scan to succeed, then reads its result and delivers it.
func (c *Client) readScan(r *runner, started scanStatus, batch []Workspace, totalWS, totalBatches int) error {
	ctx := r.ctx
	deadline := time.Now().Add(c.cfg.Scanner.Timeout)
	interval := c.cfg.Scanner.PollInterval
	maxInterval := min(max(c.cfg.Scanner.PollInterval*8, c.cfg.Scanner.PollInterval), 30*time.Second)
	status := started.Status
	// The service's casing of statuses varies (Succeeded, SUCCEEDED, succeeded).
	for !strings.EqualFold(status, "Succeeded") {
		if strings.EqualFold(status, "Failed") {
			e := &ScanError{ScanID: started.ID, Workspaces: batch, Status: status}
			if started.Error != nil {
				e.Code, e.Message = started.Error.Code, started.Error.Message
			}
			return e
		}
		if time.Now().Add(interval).After(deadline) {
			return &ScanError{ScanID: started.ID, Workspaces: batch, Status: status, Timeout: c.cfg.Scanner.Timeout}
		}
		if err := c.sleep(ctx, interval); err != nil {
			return err
		}
		interval = min(interval*3/2, maxInterval)
		var s scanStatus
		if _, err := c.Do(ctx, "GET", "admin/workspaces/scanStatus/"+started.ID, nil, &s); err != nil {
			return fmt.Errorf("scan %s of workspaces %s: %w", started.ID, describe(batch), err)
		}
		status, started.Error = s.Status, s.Error
	}
	if !r.acquire() {
		return nil // stopping: another batch failed or ctx ended
	}
	defer r.release()
	var snap *snapshot.Snapshot
	var problem error
	_, err := c.DoStream(ctx, "GET", "admin/workspaces/scanResult/"+started.ID, func(body io.Reader) error {
		cb := &countedBody{r: body, hint: int(c.scanSize.Load()) * len(batch)}
		if h, ok := body.(snapshot.SizeHinter); ok {
			cb.hint = h.SizeHint()
		}
		var derr error
		snap, derr = snapshot.DecodeScanResult(cb)
		if len(batch) > 0 {
			c.scanSize.Store(int64(cb.n / len(batch)))
		}
		if snap == nil {
			return derr
		}
		problem = derr
		return nil
	})
	if err != nil {
		return fmt.Errorf("scan %s of workspaces %s: result: %w", started.ID, describe(batch), err)
	}
	if problem != nil {
		c.log.Warn("some items of a scan could not be read", "scan", started.ID, "error", problem.Error())
	}
	problem = errors.Join(problem, missingFromScan(started.ID, batch, snap), c.paginatedDataSources(ctx, snap))
	snap.Source = "scanner"
	snap.TakenAt = time.Now().UTC()
	c.readDataflowDocuments(ctx, snap)
	done, wsDone, err := r.deliver(snap, problem, len(batch))
	if err != nil {
		if errors.Is(err, context.Canceled) && r.ctx.Err() != nil {
			return nil
		}
		return err
	}
	c.journalRead(ctx, started.ID)
	c.report(Progress{Path: "scanner", WorkspacesTotal: totalWS, WorkspacesDone: wsDone, BatchesTotal: totalBatches, BatchesDone: done})
	return nil
}

// missingFromScan names each requested workspace the scan result left out: a
// warning, and no evidence that its assets are gone.
func missingFromScan(scanID string, batch []Workspace, snap *snapshot.Snapshot) error {
	got := make(map[string]bool, len(snap.Workspaces))
	for i := range snap.Workspaces {
		got[strings.ToLower(snap.Workspaces[i].ID)] = true
	}
	var errs []error
	for _, w := range batch {
		if !got[strings.ToLower(w.ID)] {
			errs = append(errs, &snapshot.IncompleteError{WorkspaceID: w.ID, Warning: true,
				Err: fmt.Errorf("workspace %s was asked for but is missing from the result of scan %s; its assets are kept as they were", describe([]Workspace{w}), scanID)})
		}
	}
	return errors.Join(errs...)
}

// paginatedDataSources reads, through the regular API, the data sources of paginated
// reports that the scan result gives neither a semantic model nor data sources, so
// their lineage is not lost. A report whose data sources cannot be read is a warning
// naming it.
func (c *Client) paginatedDataSources(ctx context.Context, snap *snapshot.Snapshot) error {
	seen := make(map[string]bool, len(snap.DataSources))
	for i := range snap.DataSources {
		seen[snap.DataSources[i].ID] = true
	}
	var errs []error
	for wi := range snap.Workspaces {
		ws := &snap.Workspaces[wi]
		for ri := range ws.Reports {
			r := &ws.Reports[ri]
			if !strings.EqualFold(r.ReportType, "PaginatedReport") || r.DatasetID != "" || len(r.DataSourceIDs) > 0 {
				continue
			}
			var l rawList
			if _, err := c.Do(ctx, "GET", "groups/"+ws.ID+"/reports/"+r.ID+"/datasources", nil, &l); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, &snapshot.IncompleteError{WorkspaceID: ws.ID, Warning: true,
					Err: fmt.Errorf("workspace %q (%s): paginated report %q (%s): its data sources could not be read, so it has no lineage: %w", ws.Name, ws.ID, r.Name, r.ID, err)})
				continue
			}
			for i, raw := range l.Value {
				ds, err := snapshot.DecodeDataSource(raw)
				if err != nil {
					errs = append(errs, snapshot.Incomplete(ws.ID, fmt.Errorf("workspace %q (%s): paginated report %q (%s): datasources[%d]: %w", ws.Name, ws.ID, r.Name, r.ID, i, err)))
					continue
				}
				if !slices.Contains(r.DataSourceIDs, ds.ID) {
					r.DataSourceIDs = append(r.DataSourceIDs, ds.ID)
				}
				ws.Raw = nil // the scan result no longer says all of it
				if !seen[ds.ID] {
					seen[ds.ID] = true
					snap.DataSources = append(snap.DataSources, ds)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// countedBody counts what is read of a scan result and passes on its size hint: the
// length the service declared, or else that of the last result per workspace, times
// this batch's workspaces (batches are alike).
type countedBody struct {
	r    io.Reader
	hint int
	n    int
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countedBody) SizeHint() int { return b.hint }

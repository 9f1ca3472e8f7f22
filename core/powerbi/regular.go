package powerbi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

type rawList struct {
	Value []json.RawMessage `json:"value"`
}

// readAPI reads the workspaces through the regular API: batches of scanner.batch_size
// workspaces, `concurrency` workspaces at once, one Snapshot per batch.
func (c *Client) readAPI(ctx context.Context, ws []Workspace, emit func(*snapshot.Snapshot) error) (Stats, error) {
	batches := chunk(ws, c.cfg.Scanner.BatchFor(len(ws)))
	st := Stats{Path: "api", Workspaces: len(ws), Batches: len(batches)}
	c.report(Progress{Path: "api", WorkspacesTotal: len(ws), BatchesTotal: len(batches)})
	done := 0
	// refused counts workspaces whose own lists were refused; when every workspace is,
	// the credentials are at fault, not the workspaces, and the sync fails.
	refused := 0
	var firstRefusal error
	for i, batch := range batches {
		results := make([]snapshot.APIWorkspace, len(batch))
		keep := make([]bool, len(batch))
		var mu sync.Mutex
		var firstErr error
		sem := make(chan struct{}, c.cfg.Concurrency)
		var wg sync.WaitGroup
		bctx, cancel := context.WithCancel(ctx)
		for j, w := range batch {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				aw, problems, err := c.readWorkspace(bctx, w)
				mu.Lock()
				defer mu.Unlock()
				st.Problems = append(st.Problems, problems...)
				switch {
				case err == nil:
					results[j], keep[j] = aw, true
				case isGone(err) || isIncomplete(err):
					// Deleted while we read (evidence its assets are gone), or refused
					// for this workspace alone (no evidence): the rest goes on.
					st.Problems = append(st.Problems, err)
					if isIncomplete(err) {
						refused++
						if firstRefusal == nil {
							firstRefusal = err
						}
					}
				case firstErr == nil:
					firstErr = err
					cancel()
				}
			}()
		}
		wg.Wait()
		cancel()
		if firstErr != nil {
			return st, firstErr
		}
		if refused == len(ws) {
			return st, fmt.Errorf("every one of the %d workspaces was refused: %w", refused, firstRefusal)
		}
		kept := results[:0]
		for j := range results {
			if keep[j] {
				kept = append(kept, results[j])
			}
		}
		snap, err := snapshot.FromAPI(kept)
		if err != nil {
			c.log.Warn("some items could not be read", "error", err.Error())
			st.Problems = append(st.Problems, err)
		}
		snap.TakenAt = time.Now().UTC()
		if err := emit(snap); err != nil {
			return st, err
		}
		done += len(batch)
		c.report(Progress{Path: "api", WorkspacesTotal: len(ws), WorkspacesDone: done, BatchesTotal: len(batches), BatchesDone: i + 1})
	}
	return st, nil
}

// readWorkspace reads one workspace through the regular API. A failure of the
// workspace's own lists is returned as the error: a 404 means the workspace is gone
// (a GoneError), another refusal (4xx) costs this workspace (an IncompleteError), and
// anything else stops the sync. A refused sub-resource (a report's pages, a
// dashboard's tiles, a dataset's data sources) costs only that part of its item: the
// item is kept and the failure is one of the returned problems.
func (c *Client) readWorkspace(ctx context.Context, w Workspace) (snapshot.APIWorkspace, []error, error) {
	where := fmt.Sprintf("workspace %q (%s)", w.Name, w.ID)
	group := w.raw
	if group == nil {
		var err error
		if group, err = json.Marshal(w); err != nil {
			return snapshot.APIWorkspace{}, nil, err
		}
	}
	aw := snapshot.APIWorkspace{Group: group}
	var problems []error
	g := "groups/" + w.ID
	get := func(path string) ([]json.RawMessage, error) {
		var l rawList
		_, err := c.Do(ctx, "GET", path, nil, &l)
		return l.Value, err
	}
	// workspaceList reads one of the workspace's own lists.
	workspaceList := func(what string) ([]json.RawMessage, error) {
		l, err := get(g + "/" + what)
		if err == nil {
			return l, nil
		}
		err = fmt.Errorf("%s: %w", where, err)
		switch status := apiStatus(err); {
		case status == http.StatusNotFound:
			return nil, &snapshot.GoneError{WorkspaceID: w.ID, Err: fmt.Errorf("%w; the workspace is gone", err)}
		case refusedHere(status):
			return nil, snapshot.Incomplete(w.ID, err)
		}
		return nil, err
	}
	// subProblem turns a failed sub-resource read of one item into a problem of that
	// item when the service refused it; anything else stops the sync.
	subProblem := func(item string, err error) error {
		if refusedHere(apiStatus(err)) {
			c.log.Warn("a part of an item could not be read; the item is kept without it", "workspace", w.ID, "item", item, "error", err.Error())
			problems = append(problems, snapshot.Incomplete(w.ID, fmt.Errorf("%s: %s: %w", where, item, err)))
			return nil
		}
		return fmt.Errorf("%s: %s: %w", where, item, err)
	}
	subList := func(item, path string) ([]json.RawMessage, error) {
		l, err := get(path)
		if err != nil {
			return nil, subProblem(item, err)
		}
		return l, nil
	}
	datasets, err := workspaceList("datasets")
	if err != nil {
		return aw, problems, err
	}
	for _, d := range datasets {
		var id itemHead
		_ = json.Unmarshal(d, &id) // a malformed item is reported by FromAPI
		ad := snapshot.APIDataset{Dataset: d}
		if id.ID != "" {
			if ad.DataSources, err = subList(id.describe("dataset"), g+"/datasets/"+id.ID+"/datasources"); err != nil {
				return aw, problems, err
			}
		}
		aw.Datasets = append(aw.Datasets, ad)
	}
	reports, err := workspaceList("reports")
	if err != nil {
		return aw, problems, err
	}
	for _, r := range reports {
		var id itemHead
		_ = json.Unmarshal(r, &id)
		ar := snapshot.APIReport{Report: r}
		if id.ID != "" {
			if ar, err = readReport(ar, id, g, get, subProblem); err != nil {
				return aw, problems, err
			}
		}
		aw.Reports = append(aw.Reports, ar)
	}
	dashboards, err := workspaceList("dashboards")
	if err != nil {
		return aw, problems, err
	}
	for _, b := range dashboards {
		var id itemHead
		_ = json.Unmarshal(b, &id)
		ab := snapshot.APIDashboard{Dashboard: b}
		if id.ID != "" {
			if ab.Tiles, err = subList(id.describe("dashboard"), g+"/dashboards/"+id.ID+"/tiles"); err != nil {
				return aw, problems, err
			}
		}
		aw.Dashboards = append(aw.Dashboards, ab)
	}
	return aw, problems, nil
}

// readReport reads a report's pages, or a paginated report's data sources: the
// service has no pages for those and answers 400 "not supported for RDL reports".
func readReport(ar snapshot.APIReport, id itemHead, g string, get func(string) ([]json.RawMessage, error),
	subProblem func(item string, err error) error) (snapshot.APIReport, error) {
	item := id.describe("report")
	if !strings.EqualFold(id.ReportType, "PaginatedReport") {
		pages, err := get(g + "/reports/" + id.ID + "/pages")
		switch {
		case err == nil:
			ar.Pages = pages
			return ar, nil
		case !rdlRefusal(err):
			return ar, subProblem(item, err)
		}
		// A report without reportType that is paginated after all: read its data sources.
	}
	ds, err := get(g + "/reports/" + id.ID + "/datasources")
	if err != nil {
		return ar, subProblem(item, err)
	}
	ar.DataSources = ds
	return ar, nil
}

// itemHead is what readWorkspace reads of an item before handing it to FromAPI.
type itemHead struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	ReportType  string `json:"reportType"`
}

func (h itemHead) describe(kind string) string {
	name := h.Name
	if name == "" {
		name = h.DisplayName
	}
	return fmt.Sprintf("%s %q (%s)", kind, name, h.ID)
}

// apiStatus is the HTTP status of an API error in err, or 0.
func apiStatus(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// refusedHere reports whether a status refuses one call (a 4xx other than
// throttling, which Do retries): it costs what the call reads, not the sync.
func refusedHere(status int) bool {
	return status >= 400 && status < 500 && status != http.StatusTooManyRequests
}

// rdlRefusal reports whether err is the service's 400 for a paginated report's pages.
func rdlRefusal(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && strings.Contains(strings.ToLower(ae.Message), "rdl")
}

func isGone(err error) bool {
	var g *snapshot.GoneError
	return errors.As(err, &g)
}

func isIncomplete(err error) bool {
	var inc *snapshot.IncompleteError
	return errors.As(err, &inc)
}

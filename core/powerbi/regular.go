package powerbi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

type rawList struct {
	Value []json.RawMessage `json:"value"`
}

type idOnly struct {
	ID string `json:"id"`
}

// readAPI reads the workspaces through the regular API: batches of scanner.batch_size
// workspaces, `concurrency` workspaces at once, one Snapshot per batch.
func (c *Client) readAPI(ctx context.Context, ws []Workspace, emit func(*snapshot.Snapshot) error) (Stats, error) {
	batches := chunk(ws, c.cfg.Scanner.BatchSize)
	st := Stats{Path: "api", Workspaces: len(ws), Batches: len(batches)}
	c.report(Progress{Path: "api", WorkspacesTotal: len(ws), BatchesTotal: len(batches)})
	done := 0
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
				aw, err := c.readWorkspace(bctx, w)
				mu.Lock()
				defer mu.Unlock()
				var apiErr *APIError
				switch {
				case err == nil:
					results[j], keep[j] = aw, true
				case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
					st.Problems = append(st.Problems, err) // deleted while we read; the rest goes on
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

func (c *Client) readWorkspace(ctx context.Context, w Workspace) (snapshot.APIWorkspace, error) {
	where := fmt.Sprintf("workspace %q (%s)", w.Name, w.ID)
	group := w.raw
	if group == nil {
		var err error
		if group, err = json.Marshal(w); err != nil {
			return snapshot.APIWorkspace{}, err
		}
	}
	aw := snapshot.APIWorkspace{Group: group}
	g := "groups/" + w.ID
	list := func(path string) ([]json.RawMessage, error) {
		var l rawList
		if _, err := c.Do(ctx, "GET", path, nil, &l); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return l.Value, nil
	}
	datasets, err := list(g + "/datasets")
	if err != nil {
		return aw, err
	}
	for _, d := range datasets {
		var id idOnly
		_ = json.Unmarshal(d, &id) // a malformed item is reported by FromAPI
		ad := snapshot.APIDataset{Dataset: d}
		if id.ID != "" {
			if ad.DataSources, err = list(g + "/datasets/" + id.ID + "/datasources"); err != nil {
				return aw, err
			}
		}
		aw.Datasets = append(aw.Datasets, ad)
	}
	reports, err := list(g + "/reports")
	if err != nil {
		return aw, err
	}
	for _, r := range reports {
		var id idOnly
		_ = json.Unmarshal(r, &id)
		ar := snapshot.APIReport{Report: r}
		if id.ID != "" {
			if ar.Pages, err = list(g + "/reports/" + id.ID + "/pages"); err != nil {
				return aw, err
			}
		}
		aw.Reports = append(aw.Reports, ar)
	}
	dashboards, err := list(g + "/dashboards")
	if err != nil {
		return aw, err
	}
	for _, b := range dashboards {
		var id idOnly
		_ = json.Unmarshal(b, &id)
		ab := snapshot.APIDashboard{Dashboard: b}
		if id.ID != "" {
			if ab.Tiles, err = list(g + "/dashboards/" + id.ID + "/tiles"); err != nil {
				return aw, err
			}
		}
		aw.Dashboards = append(aw.Dashboards, ab)
	}
	return aw, nil
}

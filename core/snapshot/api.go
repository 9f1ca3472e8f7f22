package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
)

// APIWorkspace is what the regular (non-admin) REST API returns for one workspace: the
// group object and the raw items of each list call. FromAPI turns a set of them into a
// Snapshot.
type APIWorkspace struct {
	Group      json.RawMessage // an element of GET /groups
	Datasets   []APIDataset
	Reports    []APIReport
	Dashboards []APIDashboard
}

// APIDataset is a dataset with the answer of GET .../datasets/{id}/datasources.
type APIDataset struct {
	Dataset     json.RawMessage
	DataSources []json.RawMessage
}

// APIReport is a report with the answer of GET .../reports/{id}/pages, or for a
// paginated report (which has no pages) of GET .../reports/{id}/datasources.
type APIReport struct {
	Report      json.RawMessage
	Pages       []json.RawMessage
	DataSources []json.RawMessage
}

// APIDashboard is a dashboard with the answer of GET .../dashboards/{id}/tiles.
type APIDashboard struct {
	Dashboard json.RawMessage
	Tiles     []json.RawMessage
}

// FromAPI assembles a Snapshot from regular-API answers. Each dataset's data sources
// become its DataSourceIDs (a data source without datasourceId gets a derived one) and
// appear once in Snapshot.DataSources. Malformed items are left out and named in the
// returned error; everything else is kept.
func FromAPI(workspaces []APIWorkspace) (*Snapshot, error) {
	s := &Snapshot{Version: Version, Source: "api", Workspaces: make([]Workspace, 0, len(workspaces)), DataSources: []DataSource{}, FromRaw: true}
	seen := map[string]bool{}
	var errs []error
	// dataSources decodes an item's data sources into s.DataSources and returns their ids.
	dataSources := func(wsID, where string, list []json.RawMessage) []string {
		var ids []string
		for i, raw := range list {
			ds, err := DecodeDataSource(raw)
			if err != nil {
				errs = append(errs, Incomplete(wsID, fmt.Errorf("%s: datasources[%d]: %w", where, i, describeJSONError(err))))
				continue
			}
			ids = appendUnique(ids, ds.ID)
			if !seen[ds.ID] {
				seen[ds.ID] = true
				s.DataSources = append(s.DataSources, ds)
			}
		}
		return ids
	}
	for _, aw := range workspaces {
		var ww wireWorkspace
		if err := json.Unmarshal(aw.Group, &ww); err != nil && (!wrongType(err) || ww.ID == "") {
			werr := fmt.Errorf("workspace%s: %w", itemID(aw.Group), describeJSONError(err))
			if ww.ID == "" {
				errs = append(errs, werr) // which workspace is unknown: no removal can be inferred
			} else {
				errs = append(errs, Incomplete(ww.ID, werr))
			}
			continue
		}
		ws, _ := decodeWorkspace(ww) // the group object carries no items
		where := fmt.Sprintf("workspace %s (%s)", quoteName(ws.Name), ws.ID)
		// bad records a malformed item and says whether what was read of it is kept.
		bad := func(what string, raw json.RawMessage, id string, err error) (keep bool) {
			if err == nil {
				return true
			}
			errs = append(errs, Incomplete(ws.ID, fmt.Errorf("%s: %s%s: %w", where, what, itemID(raw), describeJSONError(err))))
			return id != "" && wrongType(err)
		}
		for _, ad := range aw.Datasets {
			m, err := decodeDataset(ad.Dataset, nil)
			if !bad("dataset", ad.Dataset, m.ID, err) {
				continue
			}
			for _, id := range dataSources(ws.ID, fmt.Sprintf("%s: dataset %q (%s)", where, m.Name, m.ID), ad.DataSources) {
				m.DataSourceIDs = appendUnique(m.DataSourceIDs, id)
			}
			ws.SemanticModels = append(ws.SemanticModels, m)
		}
		for _, ar := range aw.Reports {
			r, err := decodeReport(ar.Report)
			if !bad("report", ar.Report, r.ID, err) {
				continue
			}
			for i, raw := range ar.Pages {
				p, err := decodePage(raw)
				if bad(fmt.Sprintf("report %q (%s): pages[%d]", r.Name, r.ID, i), raw, "", err) {
					r.Pages = append(r.Pages, p)
				}
			}
			for _, id := range dataSources(ws.ID, fmt.Sprintf("%s: report %q (%s)", where, r.Name, r.ID), ar.DataSources) {
				r.DataSourceIDs = appendUnique(r.DataSourceIDs, id)
			}
			ws.Reports = append(ws.Reports, r)
		}
		for _, ab := range aw.Dashboards {
			d, err := decodeDashboard(ab.Dashboard)
			if !bad("dashboard", ab.Dashboard, d.ID, err) {
				continue
			}
			for i, raw := range ab.Tiles {
				t, err := decodeTile(raw)
				if bad(fmt.Sprintf("dashboard %q (%s): tiles[%d]", d.DisplayName, d.ID, i), raw, "", err) {
					d.Tiles = append(d.Tiles, t)
				}
			}
			ws.Dashboards = append(ws.Dashboards, d)
		}
		s.Workspaces = append(s.Workspaces, ws)
	}
	return s, errors.Join(errs...)
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

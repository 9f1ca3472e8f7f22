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

// APIReport is a report with the answer of GET .../reports/{id}/pages.
type APIReport struct {
	Report json.RawMessage
	Pages  []json.RawMessage
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
	s := &Snapshot{Version: Version, Source: "api", Workspaces: make([]Workspace, 0, len(workspaces)), DataSources: []DataSource{}}
	seen := map[string]bool{}
	var errs []error
	for _, aw := range workspaces {
		var ww wireWorkspace
		if err := json.Unmarshal(aw.Group, &ww); err != nil {
			errs = append(errs, fmt.Errorf("workspace%s: %w", itemID(aw.Group), describeJSONError(err)))
			continue
		}
		ws, _ := decodeWorkspace(ww) // the group object carries no items
		where := fmt.Sprintf("workspace %s (%s)", quoteName(ws.Name), ws.ID)
		for _, ad := range aw.Datasets {
			m, err := decodeDataset(ad.Dataset)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: dataset%s: %w", where, itemID(ad.Dataset), describeJSONError(err)))
				continue
			}
			for i, raw := range ad.DataSources {
				ds, err := DecodeDataSource(raw)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: dataset %q (%s): datasources[%d]: %w", where, m.Name, m.ID, i, describeJSONError(err)))
					continue
				}
				m.DataSourceIDs = appendUnique(m.DataSourceIDs, ds.ID)
				if !seen[ds.ID] {
					seen[ds.ID] = true
					s.DataSources = append(s.DataSources, ds)
				}
			}
			ws.SemanticModels = append(ws.SemanticModels, m)
		}
		for _, ar := range aw.Reports {
			r, err := decodeReport(ar.Report)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: report%s: %w", where, itemID(ar.Report), describeJSONError(err)))
				continue
			}
			for i, raw := range ar.Pages {
				p, err := decodePage(raw)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: report %q (%s): pages[%d]: %w", where, r.Name, r.ID, i, describeJSONError(err)))
					continue
				}
				r.Pages = append(r.Pages, p)
			}
			ws.Reports = append(ws.Reports, r)
		}
		for _, ab := range aw.Dashboards {
			d, err := decodeDashboard(ab.Dashboard)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: dashboard%s: %w", where, itemID(ab.Dashboard), describeJSONError(err)))
				continue
			}
			for i, raw := range ab.Tiles {
				t, err := decodeTile(raw)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: dashboard %q (%s): tiles[%d]: %w", where, d.DisplayName, d.ID, i, describeJSONError(err)))
					continue
				}
				d.Tiles = append(d.Tiles, t)
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

package snapshot

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"testing"
)

// msdocsValues returns the "value" items of every example of an msdocs example file.
func msdocsValues(t *testing.T, file string) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("../powerbi/powerbitest/testdata/msdocs/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples map[string]struct {
			Responses map[string]struct {
				Body  *struct{ Value []json.RawMessage } `json:"body"`
				Value []json.RawMessage                  `json:"value"`
			} `json:"responses"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var out []json.RawMessage
	// In name order: a map's order would make "the first item" differ between runs.
	for _, name := range slices.Sorted(maps.Keys(doc.Examples)) {
		for _, r := range doc.Examples[name].Responses {
			if r.Body != nil {
				out = append(out, r.Body.Value...)
			}
			out = append(out, r.Value...)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no items", file)
	}
	return out
}

// TestFromAPIMSDocs decodes Microsoft's documented regular-API answers.
func TestFromAPIMSDocs(t *testing.T) {
	groups := msdocsValues(t, "groups.json")
	aw := APIWorkspace{Group: groups[0]}
	for _, d := range msdocsValues(t, "datasets.json") {
		aw.Datasets = append(aw.Datasets, APIDataset{Dataset: d, DataSources: msdocsValues(t, "datasources.json")})
	}
	for _, r := range msdocsValues(t, "reports.json") {
		aw.Reports = append(aw.Reports, APIReport{Report: r, Pages: msdocsValues(t, "pages.json")})
	}
	for _, b := range msdocsValues(t, "dashboards.json") {
		aw.Dashboards = append(aw.Dashboards, APIDashboard{Dashboard: b, Tiles: msdocsValues(t, "tiles.json")})
	}
	s, err := FromAPI([]APIWorkspace{aw})
	if err != nil {
		t.Fatal(err)
	}
	ws := s.Workspaces[0]
	if ws.Name != "sample group" || ws.SemanticModels[0].ConfiguredBy != "john@contoso.com" || *ws.SemanticModels[0].IsRefreshable != true {
		t.Errorf("workspace/model: %+v", ws)
	}
	// Several examples share one datasourceId; each id is kept once, with its details.
	ids := map[string]bool{}
	for _, raw := range msdocsValues(t, "datasources.json") {
		var d struct{ DatasourceID string }
		json.Unmarshal(raw, &d)
		ids[d.DatasourceID] = true
	}
	if len(s.DataSources) != len(ids) || len(ws.SemanticModels[0].DataSourceIDs) != len(ids) {
		t.Errorf("got %d data sources, want %d", len(s.DataSources), len(ids))
	}
	for _, d := range s.DataSources {
		if d.ConnectionDetails == nil || *d.ConnectionDetails == (ConnectionDetails{}) {
			t.Errorf("data source %s (%s) lost its connection details", d.ID, d.Type)
		}
	}
	r := ws.Reports[0]
	if r.DatasetID != "cfafbeb1-8037-4d0c-896e-a46fb27ff229" || len(r.Pages) != 2 || r.Pages[1].Order != 1 || r.Pages[1].DisplayName != "Geographic Analysis" {
		t.Errorf("report %+v", r)
	}
	if tl := ws.Dashboards[0].Tiles[0]; tl.ReportID != "5b218778-e7a5-4d73-8187-f10824047715" {
		t.Errorf("tile %+v", tl)
	}
}

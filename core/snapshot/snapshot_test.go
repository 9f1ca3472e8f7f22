package snapshot

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update if the change is intended\ngot:\n%s", name, got)
	}
}

func TestDecodeScanResultMSDocs(t *testing.T) {
	f, err := os.Open("testdata/scanresult_msdocs.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := DecodeScanResult(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Workspaces) != 1 {
		t.Fatalf("workspaces = %d", len(s.Workspaces))
	}
	ws := s.Workspaces[0]
	if ws.Name != "V2 shared" || len(ws.Reports) != 1 || len(ws.Dashboards) != 1 || len(ws.SemanticModels) != 1 || len(ws.Dataflows) != 2 {
		t.Fatalf("unexpected workspace %+v", ws)
	}
	r := ws.Reports[0]
	if r.Endorsement != "Certified" || r.CertifiedBy != "john@contoso.com" || r.SensitivityLabel != "85b38049-4259-43a2-8feb-244e222d96c0" {
		t.Errorf("report flattening: %+v", r)
	}
	m := ws.SemanticModels[0]
	if len(m.Tables) == 0 || len(m.Tables[0].Source) == 0 || len(m.Expressions) != 2 {
		t.Errorf("model tables/expressions: %+v", m)
	}
	if !reflect.DeepEqual(m.DataSourceIDs, []string{"c79ad907-df19-43fe-a0f7-d9f365d67070"}) {
		t.Errorf("model data sources %v", m.DataSourceIDs)
	}
	if len(m.UpstreamDataflows) != 2 || m.UpstreamDataflows[0].WorkspaceID != "b7416115-7421-42c0-b525-1505ce40d2f0" {
		t.Errorf("upstream dataflows %+v", m.UpstreamDataflows)
	}
	if ws.Dataflows[0].ID != "a842dbb1-32ca-46b0-9648-498b2c2d5e38" {
		t.Errorf("dataflow id %q", ws.Dataflows[0].ID)
	}
	// The example's datamart is kept, as a dataflow of type Datamart.
	if dm := ws.Dataflows[1]; dm.Type != Datamart || dm.Name != "MyDatamart" || len(dm.UpstreamDataflows) != 1 {
		t.Errorf("datamart %+v", dm)
	}
	if len(s.DataSources) != 2 || s.DataSources[0].ConnectionDetails.Server != "qlserver.database.windows.net" {
		t.Errorf("data sources %+v", s.DataSources)
	}
	if !json.Valid(m.Raw) || !bytes.Contains(m.Raw, []byte(`"ExportB"`)) {
		t.Errorf("model raw not kept")
	}
	var buf bytes.Buffer
	if err := Save(&buf, s); err != nil {
		t.Fatal(err)
	}
	golden(t, "scanresult_msdocs.snapshot.json", buf.Bytes())
	// Save then Read gives the same snapshot back.
	back, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := Save(&again, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("Save(Read(Save(s))) differs from Save(s)")
	}
}

func TestDecodeScanResultVariants(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string // substring; "" means no error
		check   func(t *testing.T, s *Snapshot)
	}{
		{
			name: "capitalised swagger names and odata context",
			doc: `{"odata.context":"x","@odata.context":"y","Workspaces":[{"Id":"w1","Name":"Finance","Datasets":[{"Id":"d1","Name":"M",
				"UpstreamDataflows":[{"TargetDataflowId":"f1","GroupId":"w2"}],"DatasourceUsages":[{"DatasourceInstanceId":"s1"}]}]}],
				"DatasourceInstances":[{"DatasourceType":"Sql","ConnectionDetails":{"Server":"srv","Database":"db"},"DatasourceId":"s1"}]}`,
			check: func(t *testing.T, s *Snapshot) {
				m := s.Workspaces[0].SemanticModels[0]
				if m.ID != "d1" || m.UpstreamDataflows[0].ID != "f1" || m.DataSourceIDs[0] != "s1" {
					t.Errorf("got %+v", m)
				}
				if s.DataSources[0].ConnectionDetails.Database != "db" {
					t.Errorf("got %+v", s.DataSources[0])
				}
			},
		},
		{
			name: "data source without id and without connectionDetails",
			doc:  `{"workspaces":[],"datasourceInstances":[{"datasourceType":"Web"},{"datasourceType":"File","connectionDetails":{"path":"c:\\a.xlsx"}},{"datasourceType":"Web"}]}`,
			check: func(t *testing.T, s *Snapshot) {
				if len(s.DataSources) != 2 {
					t.Fatalf("want the duplicate derived data source merged, got %d", len(s.DataSources))
				}
				if !s.DataSources[0].IDDerived || s.DataSources[0].ConnectionDetails != nil || !strings.HasPrefix(s.DataSources[0].ID, "derived-") {
					t.Errorf("got %+v", s.DataSources[0])
				}
				if s.DataSources[1].ConnectionDetails.Path != `c:\a.xlsx` {
					t.Errorf("got %+v", s.DataSources[1])
				}
			},
		},
		{
			name: "connectionDetails as a JSON string",
			doc:  `{"workspaces":[],"datasourceInstances":[{"datasourceType":"Sql","datasourceId":"a","connectionDetails":"{\"server\":\"s\"}"}]}`,
			check: func(t *testing.T, s *Snapshot) {
				if s.DataSources[0].ConnectionDetails.Server != "s" {
					t.Errorf("got %+v", s.DataSources[0])
				}
			},
		},
		{
			// A field of the wrong type costs that field, not the item.
			name:    "bad item is named and the rest kept",
			doc:     `{"workspaces":[{"id":"w1","name":"Sales","reports":[{"id":"r1","name":"Good"},{"id":"r2","name":"Bad","reportType":7}]}]}`,
			wantErr: `workspace "Sales" (w1): reports[1] "Bad" (r2): at offset`,
			check: func(t *testing.T, s *Snapshot) {
				rs := s.Workspaces[0].Reports
				if len(rs) != 2 || rs[0].ID != "r1" || rs[1].ID != "r2" || rs[1].Name != "Bad" || rs[1].ReportType != "" {
					t.Errorf("reports: %+v", rs)
				}
			},
		},
		{
			// dashboards as an object, not a list: the workspace keeps the rest, and
			// the workspaces after it are read.
			name:    "malformed workspace is named and the batch goes on",
			doc:     `{"workspaces":[{"id":"w1","name":"Odd","dashboards":{"id":"d1"},"reports":[{"id":"r1","name":"R"}]},{"id":"w2","name":"Fine","reports":[{"id":"r2","name":"S"}]}],"datasourceInstances":[]}`,
			wantErr: `workspace "Odd" (w1), workspaces[0]: at offset`,
			check: func(t *testing.T, s *Snapshot) {
				if len(s.Workspaces) != 2 || s.Workspaces[1].ID != "w2" || len(s.Workspaces[1].Reports) != 1 {
					t.Fatalf("workspaces: %+v", s.Workspaces)
				}
				if len(s.Workspaces[0].Reports) != 1 || len(s.Workspaces[0].Dashboards) != 0 {
					t.Errorf("what could be read of w1 is lost: %+v", s.Workspaces[0])
				}
			},
		},
		{
			name:    "datasourceInstances not a list",
			doc:     `{"workspaces":[{"id":"w1","name":"A"}],"datasourceInstances":{"x":1}}`,
			wantErr: `scanResult: datasourceInstances: at offset`,
			check: func(t *testing.T, s *Snapshot) {
				if len(s.Workspaces) != 1 {
					t.Errorf("workspaces lost: %+v", s.Workspaces)
				}
			},
		},
		{
			name: "enumerations in any case keep the documented spelling",
			doc:  `{"workspaces":[{"id":"w1","type":"WORKSPACE","state":"active","reports":[{"id":"r1","reportType":"paginatedreport","endorsementDetails":{"endorsement":"CERTIFIED"}}],"datasets":[{"id":"d1","endorsementDetails":{"endorsement":"promoted"}}]}]}`,
			check: func(t *testing.T, s *Snapshot) {
				w := s.Workspaces[0]
				if w.Type != "Workspace" || w.State != "Active" || w.Reports[0].ReportType != "PaginatedReport" ||
					w.Reports[0].Endorsement != "Certified" || w.SemanticModels[0].Endorsement != "Promoted" {
					t.Errorf("got %+v", w)
				}
			},
		},
		{
			name: "paginated report data sources",
			doc:  `{"workspaces":[{"id":"w1","reports":[{"id":"r1","reportType":"PaginatedReport","datasourceUsages":[{"datasourceInstanceId":"a"}]}]}],"datasourceInstances":[{"datasourceType":"Sql","datasourceId":"a"}]}`,
			check: func(t *testing.T, s *Snapshot) {
				if got := s.Workspaces[0].Reports[0].DataSourceIDs; len(got) != 1 || got[0] != "a" {
					t.Errorf("report data sources: %v", got)
				}
			},
		},
		{name: "syntax error has an offset", doc: `{"workspaces":[{"id":}]}`, wantErr: "workspaces[0], which starts at offset 15: invalid character '}'"},
		{name: "truncated", doc: `{"workspaces":[{"id":"w"`, wantErr: "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeScanResult(strings.NewReader(tt.doc))
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		name, doc, wantErr, wantSource string
	}{
		{name: "native", doc: `{"version":1,"source":"scanner","workspaces":[{"id":"w","name":"n"}],"dataSources":[]}`, wantSource: "scanner"},
		{name: "raw scanResult", doc: `{"workspaces":[{"id":"w","name":"n"}]}`, wantSource: "scanResult"},
		{name: "newer version", doc: `{"version":99,"workspaces":[]}`, wantErr: "version 99 is newer than this pbisync reads (up to 1)"},
		{name: "zero version", doc: `{"version":0}`, wantErr: "not valid"},
		{name: "neither", doc: `{"value":[]}`, wantErr: "not a snapshot"},
		{name: "not an object", doc: `[1]`, wantErr: "not a snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Read(strings.NewReader(tt.doc))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Source != tt.wantSource || len(s.Workspaces) != 1 {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(path, []byte(`{"version":2}`), 0o644)
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name %s", err, path)
	}
}

func TestFromAPI(t *testing.T) {
	aw := APIWorkspace{
		Group: json.RawMessage(`{"id":"w1","name":"Sales","isOnDedicatedCapacity":true,"type":"Workspace"}`),
		Datasets: []APIDataset{{
			Dataset: json.RawMessage(`{"id":"d1","name":"Orders","configuredBy":"a@b.com","isRefreshable":true}`),
			DataSources: []json.RawMessage{
				json.RawMessage(`{"datasourceType":"Sql","connectionDetails":{"server":"s","database":"db"},"datasourceId":"x1"}`),
				json.RawMessage(`{"datasourceType":"Web","connectionDetails":{"url":"https://a"}}`),
			},
		}, {
			Dataset:     json.RawMessage(`{"id":"d2","name":"Other"}`),
			DataSources: []json.RawMessage{json.RawMessage(`{"datasourceType":"Sql","connectionDetails":{"server":"s","database":"db"},"datasourceId":"x1"}`)},
		}},
		Reports: []APIReport{{
			Report: json.RawMessage(`{"id":"r1","name":"Rep","datasetId":"d9","datasetWorkspaceId":"w2"}`),
			Pages:  []json.RawMessage{json.RawMessage(`{"name":"ReportSection","displayName":"One","order":"0"}`), json.RawMessage(`{"name":"ReportSection1","displayName":"Two","order":1}`)},
		}},
		Dashboards: []APIDashboard{{
			Dashboard: json.RawMessage(`{"id":"b1","displayName":"Q3 Review.pbix"}`),
			Tiles:     []json.RawMessage{json.RawMessage(`{"id":"t1","reportId":"r1","rowSpan":0}`)},
		}},
	}
	s, err := FromAPI([]APIWorkspace{aw})
	if err != nil {
		t.Fatal(err)
	}
	ws := s.Workspaces[0]
	if len(s.DataSources) != 2 || len(ws.SemanticModels[0].DataSourceIDs) != 2 || ws.SemanticModels[1].DataSourceIDs[0] != "x1" {
		t.Errorf("data sources: %+v / %+v", s.DataSources, ws.SemanticModels)
	}
	if !s.DataSources[1].IDDerived {
		t.Error("want a derived id")
	}
	if ws.Reports[0].Pages[1].Order != 1 || ws.Reports[0].DatasetWorkspaceID != "w2" {
		t.Errorf("report: %+v", ws.Reports[0])
	}
	if ws.Dashboards[0].Tiles[0].ReportID != "r1" {
		t.Errorf("tiles: %+v", ws.Dashboards[0].Tiles)
	}
}

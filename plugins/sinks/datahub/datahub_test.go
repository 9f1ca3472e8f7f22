package datahub

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
	"github.com/pbisync/pbisync/sdk/spec"
)

const (
	token     = "dh-token-5ecret"
	wsURN     = "urn:li:container:145ab1061013ec5566427399a7496d6e" // md5 of {"platform":"powerbi","workspace":"Finance"}
	ordersURN = "urn:li:dataset:(urn:li:dataPlatform:powerbi,Sales_Model.orders,PROD)"
	reportURN = "urn:li:dashboard:(powerbi,reports.3c4d5e6f-0000-4000-8000-000000000003)"
	dashURN   = "urn:li:dashboard:(powerbi,dashboards.7d8e9f00-0000-4000-8000-000000000004)"
)

func TestGUIDMatchesPython(t *testing.T) {
	// Values computed with Python's json.dumps(..., separators=(",", ":"), sort_keys=True).
	for key, want := range map[string]string{
		"Finance":                     "145ab1061013ec5566427399a7496d6e",
		"Finance & Ops é 📊 <x> \"q\"": "019825abbe249cad51a40412708fa835",
	} {
		if got := guid(map[string]string{"platform": "powerbi", "workspace": key}); got != want {
			t.Errorf("%q: %s, want %s", key, got, want)
		}
	}
}

func TestREST(t *testing.T) {
	g := newGMS(t, token)
	state := filepath.Join(t.TempDir(), "dh-state.json")
	cfg := `{"server":"` + g.srv.URL + `","token":"` + token + `","upstream":{"platform":"mssql"},"state_file":"` + state + `","workers":3}`
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, BatchSize: 4}, sinktest.Sample()); err != nil {
		t.Fatal(err)
	}
	if len(g.errs) > 0 {
		t.Fatalf("GMS rejected requests:\n%s", strings.Join(g.errs, "\n"))
	}
	aspect := func(urn, name string) map[string]any {
		t.Helper()
		a, ok := g.got[urn][name]
		if !ok {
			t.Fatalf("no %s for %s; entities: %v", name, urn, g.order)
		}
		return a
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	// Conventions of DataHub's Power BI source (powerbi.py, acryl-datahub 1.7.0.17):
	// the workspace container's subtype is the workspace type; tables sit in the
	// workspace container (extract_datasets_to_containers false) and keep their case
	// (convert_urns_to_lowercase false).
	if got := js(aspect(wsURN, "containerProperties")["name"]); got != `"Finance"` {
		t.Errorf("workspace container name %s", got)
	}
	if got := js(aspect(wsURN, "subTypes")); got != `{"typeNames":["Workspace"]}` {
		t.Errorf("workspace subtypes %s", got)
	}
	if got := js(aspect(ordersURN, "container")); got != `{"container":"`+wsURN+`"}` {
		t.Errorf("table container %s", got)
	}
	if got := js(aspect(ordersURN, "browsePathsV2")); got != `{"path":[{"id":"Finance","urn":"`+wsURN+`"},{"id":"Sales Model"}]}` {
		t.Errorf("table browse path %s", got)
	}
	fields := aspect(ordersURN, "schemaMetadata")["fields"].([]any)
	if len(fields) != 3 || js(fields[1]) != `{"description":"net of tax","fieldPath":"amount","isPartOfKey":false,"nativeDataType":"Decimal","nullable":false,"recursive":false,"type":{"type":{"com.linkedin.schema.NumberType":{}}}}` {
		t.Errorf("orders fields %s", js(fields))
	}
	if _, ok := g.got[ordersURN]["upstreamLineage"]; ok {
		t.Errorf("a table without resolved M got lineage: %s", js(g.got[ordersURN]["upstreamLineage"]))
	}
	// Tables name their owner users.<configuredBy>, reports by email; type NONE.
	if got := js(aspect(ordersURN, "ownership")["owners"]); got != `[{"owner":"urn:li:corpuser:users.ana@example.com","type":"NONE"}]` {
		t.Errorf("owners %s", got)
	}
	if got := js(aspect(reportURN, "ownership")["owners"]); got != `[{"owner":"urn:li:corpuser:ana@example.com","type":"NONE"}]` {
		t.Errorf("report owners %s", got)
	}
	budget := "urn:li:dataset:(urn:li:dataPlatform:powerbi,Budget.budget,PROD)"
	if got := js(aspect(budget, "ownership")["owners"]); got != `[{"owner":"urn:li:corpGroup:finance","type":"NONE"}]` {
		t.Errorf("group owner %s", got)
	}
	info := aspect(reportURN, "dashboardInfo")
	if js(info["charts"]) != `["urn:li:chart:(powerbi,pages.3c4d5e6f-0000-4000-8000-000000000003.ReportSection1)","urn:li:chart:(powerbi,pages.3c4d5e6f-0000-4000-8000-000000000003.ReportSection2)"]` ||
		!strings.Contains(js(info["datasetEdges"]), `{"destinationUrn":"`+ordersURN+`"}`) || info["datasets"] != nil || info["title"] != "Sales Overview" {
		t.Errorf("report info %s", js(info))
	}
	if got := js(aspect("urn:li:chart:(powerbi,pages.3c4d5e6f-0000-4000-8000-000000000003.ReportSection1)", "subTypes")); got != `{"typeNames":["PowerBI Page"]}` {
		t.Errorf("page subtypes %s", got)
	}
	if _, ok := g.got[reportURN]["globalTags"]; ok {
		t.Errorf("a report without endorsement got tags: %s", js(g.got[reportURN]["globalTags"]))
	}
	tile := aspect("urn:li:chart:(powerbi,charts.tile-1)", "chartInfo")
	reportWeb := "https://app.powerbi.com/groups/a1b2c3d4-0000-4000-8000-000000000001/reports/3c4d5e6f-0000-4000-8000-000000000003"
	if tile["externalUrl"] != reportWeb || tile["title"] != "Revenue" ||
		js(tile["customProperties"]) != `{"createdFrom":"Report","reportId":"3c4d5e6f-0000-4000-8000-000000000003","reportWebUrl":"`+reportWeb+`"}` {
		t.Errorf("tile %s", js(tile))
	}
	if got := js(aspect("urn:li:chart:(powerbi,charts.tile-2)", "chartInfo")["customProperties"]); got != `{"createdFrom":"Visualization"}` {
		t.Errorf("tile-2 %s", got)
	}
	if got := js(aspect("urn:li:chart:(powerbi,charts.tile-1)", "subTypes")); got != `{"typeNames":["PowerBI Tile"]}` {
		t.Errorf("tile subtypes %s", got)
	}
	dinfo := aspect(dashURN, "dashboardInfo")
	if got := js(dinfo["charts"]); got != `["urn:li:chart:(powerbi,charts.tile-1)","urn:li:chart:(powerbi,charts.tile-2)"]` {
		t.Errorf("dashboard charts %s", got)
	}
	if got := js(dinfo["dashboards"]); got != `[{"destinationUrn":"`+reportURN+`"}]` {
		t.Errorf("dashboard -> report edges %s", got)
	}
	if got := js(aspect("urn:li:dashboard:(powerbi,reports.0ld00000-0000-4000-8000-000000000009)", "status")); got != `{"removed":true}` {
		t.Errorf("removed report status %s", got)
	}
	for urn := range g.got {
		if strings.Contains(urn, "sales_db") {
			t.Errorf("a data source became an entity: %s", urn)
		}
	}

	// Next sync, in a new process: the Sales model, the report and the dashboard are
	// gone; the state file still knows what was made under them (tables, pages, tiles),
	// so they are soft-deleted with them.
	var gone []event.Event
	for _, i := range []int{1, 3, 4} {
		s := sinktest.Sample()[i].Spec
		gone = append(gone, event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: s.Key, PowerBI: s.PowerBI}})
	}
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, gone); err != nil {
		t.Fatal(err)
	}
	for _, urn := range []string{ordersURN, "urn:li:dataset:(urn:li:dataPlatform:powerbi,Sales_Model.customers,PROD)",
		reportURN, "urn:li:chart:(powerbi,pages.3c4d5e6f-0000-4000-8000-000000000003.ReportSection2)",
		dashURN, "urn:li:chart:(powerbi,charts.tile-1)", "urn:li:chart:(powerbi,charts.tile-2)"} {
		if got := js(aspect(urn, "status")); got != `{"removed":true}` {
			t.Errorf("%s status %s after removal", urn, got)
		}
	}
}

func TestRESTErrorsKeepTheTokenOut(t *testing.T) {
	for _, tc := range []struct {
		status int
		want   string
	}{
		{500, "after 2 attempts"},
		{400, "DataHub answered 400 Bad Request: injected failure"},
	} {
		g := newGMS(t, token)
		g.status = tc.status
		cfg := `{"server":"` + g.srv.URL + `","token":"` + token + `","retries":1}`
		err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, sinktest.Sample()[:2])
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "urn:li:") {
			t.Fatalf("status %d: error %v", tc.status, err)
		}
		if strings.Contains(err.Error(), token) {
			t.Fatal("token in the error")
		}
	}
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcps.json")
	cfg := `{"file":"` + path + `","env":"DEV","platform_instance":"tenant1","lowercase_urns":false,"keep_partial":true}`
	sample := sinktest.Sample()
	previous := []byte("[\n]\n")
	os.WriteFile(path, previous, 0o644)
	// A sync that fails leaves the file as it was and keeps its partial one.
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, RunID: "r1", AbortWith: "the source failed"}, sample[:3]); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(previous) {
		t.Fatalf("an aborted sync changed the file: %s", got)
	}
	// As if the sink had crashed in that run: its replacement, with a partial line,
	// is resumed by the restarted sink and committed.
	resumed := filepath.Join(dir, ".mcps.json.r1.partial")
	if err := os.Rename(path+".partial", resumed); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(resumed, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(",\n{\"entityType\":\"dat")
	f.Close()
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, RunID: "r1", Resume: true}, sample[3:]); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(resumed); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the replacement was not renamed into place: %v", err)
	}
	// A refresh takes nothing DataHub writes: the file is not touched.
	before, _ := os.ReadFile(path)
	var refreshes []event.Event
	for _, e := range sample {
		if e.Kind == event.KindRefresh {
			refreshes = append(refreshes, e)
		}
	}
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, Kind: sink.RunRefresh}, refreshes); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("a refresh run changed the DataHub file")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []struct {
		EntityType string                     `json:"entityType"`
		EntityURN  string                     `json:"entityUrn"`
		ChangeType string                     `json:"changeType"`
		AspectName string                     `json:"aspectName"`
		Aspect     map[string]json.RawMessage `json:"aspect"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&items); err != nil {
		t.Fatalf("not a JSON array of MCPs: %v\n%s", err, data)
	}
	urns := map[string]bool{}
	for _, it := range items {
		var a map[string]any
		if len(it.Aspect) != 1 || json.Unmarshal(it.Aspect["json"], &a) != nil {
			t.Fatalf("aspect must be {\"json\": {...}}: %v", it.Aspect)
		}
		if err := checkProposal(it.EntityType, it.EntityURN, it.AspectName, a); err != nil || it.ChangeType != "UPSERT" {
			t.Fatalf("%s %s: %v", it.EntityURN, it.AspectName, err)
		}
		urns[it.EntityURN] = true
	}
	for _, want := range []string{
		"urn:li:dataset:(urn:li:dataPlatform:powerbi,tenant1.Sales_Model.orders,DEV)",
		"urn:li:dashboard:(powerbi,tenant1.reports.3c4d5e6f-0000-4000-8000-000000000003)",
		"urn:li:dashboard:(powerbi,tenant1.dashboards.7d8e9f00-0000-4000-8000-000000000004)",
	} {
		if !urns[want] {
			t.Errorf("missing %s", want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                                  "",
		`{"server":"x","file":"y"}`:           "file",
		`{"server":"ftp://x"}`:                "server",
		`{"server":"http://x","workers":0.5}`: "workers",
		`{"server":"http://x","retries":-1}`:  "retries",
		`{"server":"http://x","upstream":{"platfrom":"x"}}`: "upstream.platfrom",
		`{"server":"http://x","timeout":"soon"}`:            "timeout",
	} {
		err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: in}, nil)
		var ce sinktest.ConfigErrors
		if !errors.As(err, &ce) || strings.Join(ce[0].Path, ".") != want {
			t.Errorf("%s: error %v, want one at %q", in, err, want)
		}
	}
}

func TestUnknownTypesAndDataSourcesMakeNothing(t *testing.T) {
	m := newMapper(namer{env: "PROD"}, upstreamConfig{}, options{}, nil)
	for _, typ := range []spec.ContentType{spec.DataSource, "dataflow"} {
		mcps, err := m.specMCPs(&event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"x"}, PowerBI: spec.Identity{Type: typ, ID: "1"}}})
		if err != nil || len(mcps) != 0 {
			t.Fatalf("%s: %v %v", typ, mcps, err)
		}
	}
	if _, err := m.specMCPs(&event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"x"}, PowerBI: spec.Identity{Type: spec.Report}}}); err == nil {
		t.Fatal("a report without an id must fail")
	}
}

// A model table whose M the resolver followed gets its own upstreams, on the platform the
// M names; a table it did not list (a date table built with List.Dates) gets none, not
// the model's: lineage is per table. Column names keep their case on both ends.
func TestTableLevelLineage(t *testing.T) {
	m := newMapper(namer{env: "PROD"}, upstreamConfig{Platform: "mssql"}, options{}, nil)
	s := &spec.AssetSpec{
		Key:  spec.Key{"semantic_model", "Sales"},
		Deps: []spec.Key{{"dw", "dbo", "fallback"}},
		Metadata: map[string]spec.Metadata{
			"orders_column_schema":    spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "id", Type: "Int64"}}}),
			"customers_column_schema": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "id", Type: "Int64"}}}),
			"powerbi/table_lineage": spec.JSON([]any{map[string]any{"table": "Orders", "upstream": []any{
				map[string]any{"platform": "snowflake", "database": "SALES_DB", "schema": "PUBLIC", "table": "ORDERS"}},
				"columns": []any{map[string]any{"column": "ID", "upstream": []any{
					map[string]any{"platform": "snowflake", "database": "SALES_DB", "schema": "PUBLIC", "table": "ORDERS", "column": "ORDER_ID"}}}}}}),
		},
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
	}
	mcps, err := m.specMCPs(&event.Event{Kind: event.KindSpec, Spec: s})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var fine []any
	for _, x := range mcps {
		if x.AspectName != "upstreamLineage" {
			continue
		}
		// Through JSON, as GMS receives it, and past the receiver's aspect checks.
		var aspect map[string]any
		b, _ := json.Marshal(x.Aspect)
		json.Unmarshal(b, &aspect)
		if err := checkProposal(x.EntityType, x.EntityURN, x.AspectName, aspect); err != nil {
			t.Fatalf("%s: %v", x.EntityURN, err)
		}
		if f, ok := aspect["fineGrainedLineages"].([]any); ok {
			fine = append(fine, f...)
		}
		ups := x.Aspect.(map[string]any)["upstreams"].([]map[string]any)
		got[x.EntityURN] = ups[0]["dataset"].(string)
	}
	want := map[string]string{
		"urn:li:dataset:(urn:li:dataPlatform:powerbi,Sales.orders,PROD)": "urn:li:dataset:(urn:li:dataPlatform:snowflake,sales_db.public.orders,PROD)",
	}
	if len(got) != len(want) {
		t.Fatalf("upstream lineage %v", got)
	}
	for table, up := range want {
		if got[table] != up {
			t.Errorf("%s: upstream %q, want %q (all: %v)", table, got[table], up, got)
		}
	}
	wantFine := `[{"confidenceScore":1,"downstreamType":"FIELD","downstreams":["urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:powerbi,Sales.orders,PROD),ID)"],` +
		`"upstreamType":"FIELD_SET","upstreams":["urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:snowflake,sales_db.public.orders,PROD),ORDER_ID)"]}]`
	if b, _ := json.Marshal(fine); string(b) != wantFine {
		t.Errorf("column lineage\n got %s\nwant %s", b, wantFine)
	}
}

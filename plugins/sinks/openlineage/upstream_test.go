package openlineage

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestUpstreamDatasetNaming(t *testing.T) {
	b := newBuilder(&Config{UpstreamNamespace: "warehouse://default"})
	dbt := newBuilder(&Config{DatabricksNaming: "databricks"})
	tests := []struct {
		u      map[string]any
		ns, nm string
	}{
		{map[string]any{"platform": "snowflake", "server": "xy12345.eu-west-1.snowflakecomputing.com", "database": "SALES", "schema": "PUBLIC", "table": "ORDERS"}, "snowflake://xy12345.eu-west-1.aws", "SALES.PUBLIC.ORDERS"},
		{map[string]any{"platform": "mssql", "server": "sql01.contoso.com,1444", "database": "DW", "schema": "dbo", "table": "Fact"}, "mssql://sql01.contoso.com:1444", "DW.dbo.Fact"},
		{map[string]any{"platform": "mssql", "server": "sql01", "database": "DW", "schema": "dbo", "table": "Fact"}, "mssql://sql01:1433", "DW.dbo.Fact"},
		{map[string]any{"platform": "postgres", "server": "pg:6432", "database": "app", "schema": "public", "table": "t"}, "postgres://pg:6432", "app.public.t"},
		{map[string]any{"platform": "databricks", "server": "adb-1.azuredatabricks.net", "database": "main", "schema": "s", "table": "t"}, "unitycatalog://adb-1.azuredatabricks.net", "main.s.t"},
		{map[string]any{"platform": "bigquery", "database": "proj", "schema": "ds", "table": "t"}, "bigquery", "proj.ds.t"},
	}
	for _, tt := range tests {
		d, ok := b.upstreamDataset(tt.u)
		if !ok || d.Namespace != tt.ns || d.Name != tt.nm {
			t.Errorf("%v: got %+v, want %s %s", tt.u, d, tt.ns, tt.nm)
		}
	}
	// dbt's form for Databricks, as an option.
	if d, _ := dbt.upstreamDataset(tests[4].u); d.Namespace != "databricks://adb-1.azuredatabricks.net" {
		t.Errorf("databricks_naming databricks: %+v", d)
	}
	// A table without a server has no physical name: no dataset, not a placeholder one.
	if d, ok := b.upstreamDataset(map[string]any{"platform": "postgres", "schema": "public", "table": "t"}); ok {
		t.Errorf("a table without a server became %+v", d)
	}
}

// The examples of OpenLineage's own Snowflake normalizer (fix_account_name) and its
// naming spec.
func TestSnowflakeAccount(t *testing.T) {
	for in, want := range map[string]string{
		"xy12345":           "xy12345.us-west-1.aws",
		"xy12345.eu-west-1": "xy12345.eu-west-1.aws",
		"xy12345.eu-west-1.snowflakecomputing.com": "xy12345.eu-west-1.aws",
		"XY12345.us-east-2.aws":                    "xy12345.us-east-2.aws",
		"xy12345.east-us-2.azure":                  "xy12345.east-us-2.azure",
		"myorg-myaccount.snowflakecomputing.com":   "myorg-myaccount",
		"myorg-myaccount":                          "myorg-myaccount",
		"xy12345.snowflakecomputing.com:443":       "xy12345.us-west-1.aws",
	} {
		if got := SnowflakeAccount(in); got != want {
			t.Errorf("SnowflakeAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

// A table whose M was resolved reads its own sources; a table whose M did not resolve
// reads nothing (not the model's warehouse keys: those only stand in for a model none of
// whose tables resolved); the events stay valid OpenLineage.
func TestTableLevelInputs(t *testing.T) {
	reg := registry(t)
	b := newBuilder(&Config{Namespace: "pbisync", DatasetNamespace: "powerbi", UpstreamNamespace: "mssql://dw:1433", Producer: DefaultProducer})
	s := &spec.AssetSpec{
		Key:  spec.Key{"semantic_model", "Sales"},
		Deps: []spec.Key{{"dw", "dbo", "fallback"}},
		Metadata: map[string]spec.Metadata{
			"orders_column_schema":    spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "id", Type: "Int64"}}}),
			"customers_column_schema": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "id", Type: "Int64"}}}),
			"powerbi/table_lineage": spec.JSON([]any{map[string]any{"table": "Orders", "upstream": []any{
				map[string]any{"platform": "snowflake", "server": "acct.snowflakecomputing.com", "database": "SALES", "schema": "PUBLIC", "table": "ORDERS"}},
				"columns": []any{map[string]any{"column": "ID", "upstream": []any{map[string]any{"platform": "snowflake",
					"server": "acct.snowflakecomputing.com", "database": "SALES", "schema": "PUBLIC", "table": "ORDERS", "column": "ORDER_ID"}}}}}}),
		},
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
	}
	evs, err := b.events(&event.Event{Kind: event.KindSpec, Spec: s}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{}
	columns := ""
	for _, ev := range evs {
		raw, _ := json.Marshal(ev)
		if err := validateEvent(reg, raw); err != nil {
			t.Fatalf("invalid event: %v\n%s", err, raw)
		}
		ds := ev["dataset"].(map[string]any)
		facets := ds["facets"].(map[string]any)
		if cl, ok := facets["columnLineage"]; ok {
			b, _ := json.Marshal(cl.(map[string]any)["fields"])
			columns = string(b)
		}
		lf, ok := facets["lineage"].(map[string]any)
		if !ok {
			inputs[ds["name"].(string)] = ""
			continue
		}
		l := lf["inputs"].([]map[string]any)
		inputs[ds["name"].(string)] = l[0]["namespace"].(string) + " " + l[0]["name"].(string)
	}
	if len(inputs) != 2 {
		t.Fatalf("events for %v", inputs)
	}
	for table, want := range map[string]string{"orders": "snowflake://acct.us-west-1.aws SALES.PUBLIC.ORDERS", "customers": ""} {
		found := false
		for name, got := range inputs {
			if len(name) >= len(table) && name[len(name)-len(table):] == table {
				found = true
				if got != want {
					t.Errorf("table %s reads %q, want %q", name, got, want)
				}
			}
		}
		if !found {
			t.Errorf("no dataset event for table %s in %v", table, inputs)
		}
	}
	if want := `{"id":{"inputFields":[{"field":"ORDER_ID","name":"SALES.PUBLIC.ORDERS","namespace":"snowflake://acct.us-west-1.aws"}],"transformationType":"IDENTITY"}}`; columns != want {
		t.Errorf("column lineage %s, want %s", columns, want)
	}
	if k := b.models["m1"]; k == nil || len(k.Inputs) != 1 {
		t.Errorf("the refresh run's inputs: %+v", k)
	}
}

// A refresh event that carries only the workspace's id is named by the workspace's name,
// as the model's datasets are.
func TestRefreshJobNamedByWorkspaceName(t *testing.T) {
	b := newBuilder(&Config{Namespace: "pbisync", DatasetNamespace: "powerbi", Producer: DefaultProducer})
	model := spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"}
	if _, err := b.events(&event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"semantic_model", "Sales"}, PowerBI: model}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	evs, err := b.events(&event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "r1", State: event.RefreshRequested,
		Model: spec.Identity{Type: spec.SemanticModel, ID: "m1", WorkspaceID: "w1"}}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := evs[0]["job"].(map[string]any)["name"]; got != "Finance/Sales/refresh" {
		t.Errorf("job name %v, want Finance/Sales/refresh", got)
	}
}

func FuzzSnowflakeAccount(f *testing.F) {
	for _, s := range []string{"xy12345", "xy12345.eu-west-1", "myorg-acct.snowflakecomputing.com", "a.b.c.d", "", ".", "x:1/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := SnowflakeAccount(s)
		if twice := SnowflakeAccount(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
	})
}

package sqlite

import (
	"context"
	"database/sql"
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

func query(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, v := range vals {
			if v.Valid {
				parts = append(parts, v.String)
			} else {
				parts = append(parts, "NULL")
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return strings.Join(out, "\n")
}

func TestCatalog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cat", "catalog.db")
	cfg := `{"path":"` + path + `"}`
	sample := sinktest.Sample()
	if err := sinktest.Run(ctx, New(), sinktest.Options{Config: cfg, BatchSize: 3}, sample); err != nil {
		t.Fatal(err)
	}
	// At least once: the same stream again (a restarted sink, each batch committed on
	// its own) changes nothing.
	if err := sinktest.Run(ctx, New(), sinktest.Options{Config: cfg, BatchSize: 4, Resume: true, Kind: sink.RunStream}, sample); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checks := []struct{ q, want string }{
		{`SELECT key, type, name, workspace_name, owners, removed_at FROM assets ORDER BY key`,
			"dashboard/Exec_KPIs|dashboard|Exec KPIs|Finance|[]|NULL\n" +
				"report/Sales_Overview|report|Sales Overview|Finance|[\"ana@example.com\"]|NULL\n" +
				"sales_db|data_source|sales_db|Finance|[]|NULL\n" +
				"semantic_model/Budget|semantic_model|Budget|Finance|[\"team:finance\"]|NULL\n" +
				"semantic_model/Sales_Model|semantic_model|Sales Model|Finance|[\"ana@example.com\"]|NULL"},
		{`SELECT asset_key, dep_key FROM asset_deps WHERE asset_key LIKE 'semantic_model/Sales%' ORDER BY position`,
			"semantic_model/Sales_Model|sales_db\nsemantic_model/Sales_Model|warehouse/dbo/orders"},
		{`SELECT table_name, column_name, column_type, description FROM asset_columns ORDER BY asset_key, table_name, position`,
			"budget|year|Int64|\nbudget|amount|Decimal|\ncustomers|customer_id|Int64|\ncustomers|name|String|\n" +
				"orders|order_id|Int64|\norders|amount|Decimal|net of tax\norders|ordered_at|DateTime|"},
		{`SELECT type, value FROM asset_metadata WHERE asset_key = 'report/Sales_Overview' AND name = 'dagster-powerbi/name'`,
			`text|"Sales Overview"`},
		{`SELECT value FROM asset_tags WHERE asset_key = 'semantic_model/Sales_Model' AND name = 'team'`, "finance"},
		{`SELECT request_id, state, refresh_type, enhanced, requested_at, started_at, ended_at, duration_ms, error FROM refresh_runs ORDER BY request_id`,
			"r-0001|completed|Full|0|2026-11-26T06:00:00Z|2026-11-26T06:00:04Z|2026-11-26T06:02:31Z|147000|\n" +
				"r-0002|failed|DataOnly|1|2026-11-26T06:10:00Z|2026-11-26T06:10:02Z|2026-11-26T06:11:00Z|58000|DataSource.Error: login failed for user 'svc'"},
		{`SELECT request_id, table_name, partition, status FROM refresh_tables ORDER BY request_id, table_name`,
			"r-0001|customers||Completed\nr-0001|orders||Completed\nr-0002|budget|2026|Failed"},
		{`SELECT workspaces, removed, assets FROM syncs`, `1|1|{"dashboard":1,"data_source":1,"report":1,"semantic_model":2}`},
	}
	for _, c := range checks {
		if got := query(t, db, c.q); got != c.want {
			t.Errorf("%s\n got:\n%s\nwant:\n%s", c.q, got, c.want)
		}
	}

	// Next sync: the report is removed, the model's key changed by a translator.
	renamed := *sample[1].Spec
	renamed.Key = spec.Key{"finance", "Sales_Model"}
	next := []event.Event{
		{Kind: event.KindSpec, Spec: &renamed},
		{Kind: event.KindRemoved, Removed: &event.Removed{Key: sample[3].Spec.Key, PowerBI: sample[3].Spec.PowerBI}},
	}
	if err := sinktest.Run(ctx, New(), sinktest.Options{Config: cfg}, next); err != nil {
		t.Fatal(err)
	}
	if got := query(t, db, `SELECT key FROM assets WHERE powerbi_id = ?`, renamed.PowerBI.ID); got != "finance/Sales_Model" {
		t.Errorf("renamed asset rows: %q", got)
	}
	if got := query(t, db, `SELECT removed_at IS NOT NULL FROM assets WHERE key = 'report/Sales_Overview'`); got != "1" {
		t.Errorf("removed report: %q", got)
	}
	if got := query(t, db, `SELECT count(*) FROM asset_deps WHERE asset_key = 'semantic_model/Sales_Model'`); got != "0" {
		t.Errorf("the old key's deps remain: %q", got)
	}
	// delete_removed deletes, with its deps and metadata.
	if err := sinktest.Run(ctx, New(), sinktest.Options{Config: `{"path":"` + path + `","delete_removed":true}`}, next[1:]); err != nil {
		t.Fatal(err)
	}
	if got := query(t, db, `SELECT (SELECT count(*) FROM assets WHERE key = 'report/Sales_Overview') + (SELECT count(*) FROM asset_metadata WHERE asset_key = 'report/Sales_Overview')`); got != "0" {
		t.Errorf("deleted report remains: %q", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                              "",
		`{"path":""}`:                     "path",
		`{"path":"x.db","delete":1}`:      "delete",
		`{"path":"` + os.TempDir() + `"}`: "path",
	} {
		err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: in}, nil)
		var ce sinktest.ConfigErrors
		if !errors.As(err, &ce) || strings.Join(ce[0].Path, ".") != want {
			t.Errorf("%s: error %v, want one at %q", in, err, want)
		}
	}
}

// dumpCatalog renders every row of the catalog's tables.
func dumpCatalog(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out []string
	for _, table := range []string{"assets", "asset_deps", "asset_metadata", "asset_tags", "asset_columns", "refresh_runs", "refresh_tables", "syncs"} {
		out = append(out, table+":\n"+query(t, db, "SELECT * FROM "+table+" ORDER BY 1, 2"))
	}
	return strings.Join(out, "\n")
}

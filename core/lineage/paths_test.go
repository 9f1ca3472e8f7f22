package lineage

import (
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/snapshot"
)

func TestOracleDatabase(t *testing.T) {
	for _, tc := range []struct{ server, want string }{
		{"oracle-host:1521/ORCLPDB1", "ORCLPDB1"},
		{"oracle-host/ORCL", "ORCL"},
		{"//db.contoso.com:1521/sales.contoso.com:dedicated/inst1", "sales.contoso.com"},
		{"(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=h)(PORT=1521))(CONNECT_DATA=(SERVICE_NAME = FINPDB)))", "FINPDB"},
		{"(description=(address=(protocol=tcp)(host=h)(port=1521))(connect_data=(sid=LEGACY)))", "LEGACY"},
		{"(DESCRIPTION=(ADDRESS=(HOST=h)))", ""},
		{"PRODDB", "PRODDB"},
		{"ORAPROD.contoso.com", "ORAPROD"},
		{"oracle-host:1521", ""},
		// Found by FuzzResolveModel: invalid UTF-8 before the key must not shift indexes.
		{"(0\x86(SERVICE_NAME=X)", "X"},
		{"(00000000\x8600000SERVICE_NAME", ""},
	} {
		if got := oracleDatabase(tc.server); got != tc.want {
			t.Errorf("oracleDatabase(%q) = %q, want %q", tc.server, got, tc.want)
		}
	}
}

func TestResolverOptions(t *testing.T) {
	yml := `
lineage:
  defaults:
    - platform: mssql
      server: "legacy\\..*"
      default_schema: app
    - platform: oracle
      server: "ora:1521"
      default_database: ORCLPDB1
      default_schema: SALES
  odbc:
    - dsn: "Snowflake_Prod"
      platform: snowflake
      server: xy12345.snowflakecomputing.com
      database: ANALYTICS
      schema: PUBLIC
`
	root, err := config.Parse("pipeline.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeResolver(root.Child("lineage"))
	if err != nil {
		t.Fatal(err)
	}
	m := &snapshot.SemanticModel{Tables: []snapshot.Table{
		{Name: "legacy", Source: []string{`Sql.Database("legacy.contoso.com", "Ops", [Query="select * from Orders"])`}},
		{Name: "modern", Source: []string{`Sql.Database("sql.contoso.com", "Ops", [Query="select * from Orders"])`}},
		{Name: "oracle", Source: []string{`Oracle.Database("ora:1521", [Query="select * from ORDERS"])`}},
		{Name: "oracle bare", Source: []string{`Oracle.Database("ora2:1521", [Query="select * from ORDERS"])`}},
		{Name: "odbc", Source: []string{`Odbc.Query("dsn=Snowflake_Prod", "select * from ORDERS")`}},
		{Name: "odbc unmapped", Source: []string{`Odbc.Query("dsn=Other", "select * from sales.ORDERS")`}},
		{Name: "odbc driver", Source: []string{`Odbc.Query("driver={PostgreSQL Unicode};server=pg1;database=crm", "select * from accounts")`}},
	}}
	l, _ := r.Resolve(m)
	want := map[string]string{
		"legacy":      "mssql legacy.contoso.com Ops app Orders ",
		"modern":      "mssql sql.contoso.com Ops dbo Orders ",
		"oracle":      "oracle ora:1521 ORCLPDB1 SALES ORDERS ",
		"oracle bare": "oracle ora2:1521   ORDERS database,schema unknown_part:database unknown_part:schema",
		"odbc":        "snowflake xy12345.snowflakecomputing.com ANALYTICS PUBLIC ORDERS ",
		// An unmapped DSN: [sales, ORDERS] could be schema.table or MySQL's database.table.
		"odbc unmapped": "odbc Other  sales ORDERS database unknown_part:database",
		"odbc driver":   "postgres pg1 crm public accounts ",
	}
	for _, tl := range l.Tables {
		if len(tl.Upstream) != 1 {
			t.Errorf("%s: upstream %+v, reasons %v", tl.Table, tl.Upstream, tl.Unresolved)
			continue
		}
		u := tl.Upstream[0]
		got := strings.Join([]string{u.Platform, u.Server, u.Database, u.Schema, u.Table, u.Unknown}, " ")
		if len(tl.Unresolved) > 0 {
			got += " " + strings.Join(tl.Unresolved, " ")
		}
		if got != want[tl.Table] {
			t.Errorf("%s: got %q, want %q", tl.Table, got, want[tl.Table])
		}
	}
}

func TestKeyCaseAndUnknown(t *testing.T) {
	m, err := NewKeyMapper(Config{Keys: []KeyRule{
		{Platform: "snowflake", Case: "upper"},
		{Platform: "postgres", Case: "keep"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		u    snapshot.UpstreamTable
		want string
	}{
		{snapshot.UpstreamTable{Platform: "snowflake", Database: "Sales", Schema: "public", Table: "Orders"}, "SALES/PUBLIC/ORDERS"},
		{snapshot.UpstreamTable{Platform: "postgres", Database: "crm", Schema: "public", Table: "Accounts"}, "crm/public/Accounts"},
		{snapshot.UpstreamTable{Platform: "mssql", Database: "Ops", Schema: "dbo", Table: "Orders"}, "ops/dbo/orders"},
		// The server is not part of the key: a table on an unknown server keeps its key.
		{snapshot.UpstreamTable{Platform: "snowflake", Database: "MY_DB", Schema: "MY_SCHEMA", Table: "CUSTOMER_TABLE", Unknown: "server"}, "MY_DB/MY_SCHEMA/CUSTOMER_TABLE"},
		// An unknown database would make [schema, table] ambiguous: no key.
		{snapshot.UpstreamTable{Platform: "mssql", Schema: "dbo", Table: "Orders", Unknown: "database"}, ""},
	} {
		if got := m.Key(tc.u).String(); tc.want == "" && m.Key(tc.u) != nil || tc.want != "" && got != tc.want {
			t.Errorf("Key(%+v) = %q, want %q", tc.u, got, tc.want)
		}
	}
	if _, err := NewKeyMapper(Config{Keys: []KeyRule{{Platform: "x", Case: "title"}}}); err == nil {
		t.Error("case: title accepted")
	}
	if _, err := NewKeyMapper(Config{Keys: []KeyRule{{Platform: "x", Case: "upper", KeepCase: true}}}); err == nil {
		t.Error("case: upper with keep_case accepted")
	}
}

package assets

import (
	"slices"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestNavigationKey(t *testing.T) {
	tests := []struct {
		name string
		m    string
		want spec.Key
	}{
		{"snowflake three parts",
			"let\n    Source = Snowflake.Databases(\"acme.snowflakecomputing.com\",\"WH\"),\n    DB = Source{[Name=\"ANALYTICS\",Kind=\"Database\"]}[Data],\n    S = DB{[Name=\"PUBLIC\",Kind=\"Schema\"]}[Data],\n    T = S{[Name=\"ORDERS\",Kind=\"Table\"]}[Data]\nin\n    T",
			spec.Key{"analytics", "public", "orders"}},
		{"schema and table only", `S{[Name="Sales",Kind="Schema"]}[Data]{[Name="Orders",Kind="Table"]}[Data]`, spec.Key{"sales", "orders"}},
		{"no table", `Source{[Name="DB",Kind="Database"]}[Data]{[Name="S",Kind="Schema"]}[Data]`, nil},
		{"no schema", `Source{[Name="DB",Kind="Database"]}[Data]{[Name="T",Kind="Table"]}[Data]`, nil},
		{"view counts as table", `{[Name="DB",Kind="Database"]}{[Name="S",Kind="Schema"]}{[Name="V_SALES",Kind="View"]}`, spec.Key{"db", "s", "v_sales"}},
		{"later step wins", `{[Name="S1",Kind="Schema"]}{[Name="T1",Kind="Table"]}{[Name="S2",Kind="Schema"]}`, spec.Key{"s2", "t1"}},
		{"blanks allowed", `{[ Name = "S" , Kind = "Schema" ]}{[Name= "T",Kind ="Table"]}`, spec.Key{"s", "t"}},
		{"escaped quote", `{[Name="my""schema",Kind="Schema"]}{[Name="T",Kind="Table"]}`, spec.Key{`my"schema`, "t"}},
		{"empty name ignored", `{[Name="",Kind="Schema"]}{[Name="T",Kind="Table"]}`, nil},
		{"other record shapes ignored", `Source{[Schema="dbo",Item="Orders"]}[Data]`, nil},
		{"kind is case sensitive", `{[Name="S",Kind="schema"]}{[Name="T",Kind="Table"]}`, nil},
		{"unterminated", `{[Name="S",Kind="Schema"]}{[Name="T",Kind="Table"`, nil},
		{"empty", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NavigationKey(tt.m); !got.Equal(tt.want) {
				t.Errorf("NavigationKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScanNavigation(t *testing.T) {
	got := ScanNavigation(`x{[Name="A",Kind="Database"]}[Data]{[Name="B",Kind="Schema"]}[[Name="C",Kind="Table"]`)
	want := []NavStep{{"A", "Database"}, {"B", "Schema"}, {"C", "Table"}}
	if !slices.Equal(got, want) {
		t.Errorf("ScanNavigation = %v, want %v", got, want)
	}
}

func TestDefaultUpstreamKeys(t *testing.T) {
	nav := func(db, s, tb string) string {
		m := ""
		if db != "" {
			m += `{[Name="` + db + `",Kind="Database"]}`
		}
		return m + `{[Name="` + s + `",Kind="Schema"]}{[Name="` + tb + `",Kind="Table"]}`
	}
	tests := []struct {
		name string
		m    snapshot.SemanticModel
		want []spec.Key
	}{
		{"scan: first matching source per table, distinct", snapshot.SemanticModel{Tables: []snapshot.Table{
			{Name: "a", Source: []string{"no navigation", nav("DB", "S", "A"), nav("DB", "S", "IGNORED")}},
			{Name: "b", Source: []string{nav("", "S", "B")}},
			{Name: "a again", Source: []string{nav("db", "s", "a")}},
			{Name: "none"},
		}}, []spec.Key{{"db", "s", "a"}, {"s", "b"}}},
		{"lineage wins over scan", snapshot.SemanticModel{
			Tables: []snapshot.Table{{Name: "a", Source: []string{nav("DB", "S", "A")}}},
			Lineage: &snapshot.Lineage{Tables: []snapshot.TableLineage{
				{Table: "a", Upstream: []snapshot.UpstreamTable{{Platform: "mssql", Database: "Sales", Schema: "dbo", Table: "Orders"}}},
				{Table: "b", Upstream: []snapshot.UpstreamTable{{Platform: "postgres", Schema: "Public", Table: "Items"}, {Platform: "mssql", Database: "SALES", Schema: "DBO", Table: "ORDERS"}}},
				{Table: "c", Upstream: []snapshot.UpstreamTable{{Platform: "file", Table: ""}}, Unresolved: []string{"Csv.Document"}},
			}}}, []spec.Key{{"sales", "dbo", "orders"}, {"public", "items"}}},
		{"empty lineage means no tables", snapshot.SemanticModel{
			Tables:  []snapshot.Table{{Name: "a", Source: []string{nav("DB", "S", "A")}}},
			Lineage: &snapshot.Lineage{}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultUpstreamKeys(&tt.m)
			if !slices.EqualFunc(got, tt.want, spec.Key.Equal) {
				t.Errorf("DefaultUpstreamKeys = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzNavigationKey(f *testing.F) {
	for _, s := range []string{
		`{[Name="A",Kind="Database"]}{[Name="B",Kind="Schema"]}{[Name="C",Kind="Table"]}`,
		`{[ Name = "a""b" , Kind = "View" ]}`,
		`[Name="`, `[Name=""`, `[`, `[Name="x",Kind="`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, m string) {
		k := NavigationKey(m)
		if k != nil {
			if err := k.Validate(); err != nil {
				t.Fatalf("NavigationKey(%q) = %q: %v", m, k, err)
			}
			if len(k) < 2 || len(k) > 3 {
				t.Fatalf("NavigationKey(%q) = %q: want 2 or 3 parts", m, k)
			}
		}
		for _, st := range ScanNavigation(m) {
			if st.Name == "" || st.Kind == "" {
				t.Fatalf("ScanNavigation(%q) gave an empty step %+v", m, st)
			}
		}
	})
}

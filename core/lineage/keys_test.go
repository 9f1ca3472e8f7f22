package lineage

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/snapshot"
)

func TestKeyMapper(t *testing.T) {
	yml := `
lineage:
  keys:
    - platform: snowflake
      server: "xy12345\\..*"
      prefix: [snowflake, analytics]
    - platform: mssql
      database: "adventure.*"
      parts: [database, table]
      keep_case: true
    - platform: bigquery
      prefix: [bq]
      parts: [server, database, schema, table]
`
	root, err := config.Parse("pipeline.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeKeyMapper(root.Child("lineage"))
	if err != nil {
		t.Fatal(err)
	}
	l := &snapshot.Lineage{Tables: []snapshot.TableLineage{
		{Table: "a", Upstream: []snapshot.UpstreamTable{
			{Platform: "snowflake", Server: "XY12345.eu-west-1.snowflakecomputing.com", Database: "SALES", Schema: "PUBLIC", Table: "ORDERS"},
			{Platform: "snowflake", Server: "other.snowflakecomputing.com", Database: "SALES", Schema: "PUBLIC", Table: "ORDERS"},
			{Platform: "mssql", Server: "srv", Database: "AdventureWorksDW", Schema: "dbo", Table: "DimDate"},
			{Platform: "mssql", Server: "srv", Database: "Ops", Schema: "dbo", Table: "Orders"},
			{Platform: "postgres", Server: "pg", Schema: "public", Table: "Users"},
			{Platform: "bigquery", Database: "proj", Schema: "ds", Table: "t"},
		}},
		{Table: "b", Upstream: []snapshot.UpstreamTable{
			{Platform: "snowflake", Server: "other.snowflakecomputing.com", Database: "sales", Schema: "public", Table: "orders"},
		}},
	}}
	var got []string
	for _, k := range m.Keys(l) {
		got = append(got, k.String())
	}
	want := []string{
		"snowflake/analytics/sales/public/orders",
		"sales/public/orders",
		"AdventureWorksDW/DimDate",
		"ops/dbo/orders",
		"public/users",
		"bq/proj/ds/t",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Keys =\n %q\nwant\n %q", got, want)
	}
}

func TestKeyMapperDefault(t *testing.T) {
	m, err := NewKeyMapper(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if k := m.Key(snapshot.UpstreamTable{Platform: "x", Table: ""}); k != nil {
		t.Errorf("key of a nameless table = %v", k)
	}
	if got := m.Keys(nil); got != nil {
		t.Errorf("Keys(nil) = %v", got)
	}
}

func TestKeyMapperErrors(t *testing.T) {
	tests := []struct{ yml, want string }{
		{"keys:\n  - platform: snowflake\n    server: \"(\"\n", "pipeline.yaml:2:5: lineage key rule: server: error parsing regexp"},
		{"keys:\n  - platform: snowflake\n  - platform: mssql\n    parts: [db]\n", "pipeline.yaml:3:5: lineage key rule: parts: unknown part \"db\""},
		{"keys:\n  - server: x\n", "platform"},
		{"keys:\n  - platform: a\n    prefx: [a]\n", "prefx"},
	}
	for _, tt := range tests {
		root, err := config.Parse("pipeline.yaml", []byte(tt.yml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = DecodeKeyMapper(root)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeKeyMapper(%q) = %v, want %q", tt.yml, err, tt.want)
		}
	}
	if _, err := NewKeyMapper(Config{Keys: []KeyRule{{Platform: "a", Database: "["}}}); err == nil || !strings.Contains(err.Error(), "lineage.keys[0]: database") {
		t.Errorf("NewKeyMapper bad regexp = %v", err)
	}
}

// A key's parts are strings of their own, not parts of the M text the resolver read
// them from: a sync keeps every model's deps, and a part of the text kept the whole text
// of its table (25 MB of a 2,000-workspace tenant's M).
func TestKeyPartsDoNotKeepTheirText(t *testing.T) {
	text := `let Source = Sql.Database("srv", "sales_db"), T = Source{[Schema="dbo",Item="orders"]}[Data] in T`
	part := func(s string) string {
		i := strings.Index(text, s)
		return text[i : i+len(s)]
	}
	u := snapshot.UpstreamTable{Platform: "mssql", Server: part("srv"), Database: part("sales_db"), Schema: part("dbo"), Table: part("orders")}
	start := uintptr(unsafe.Pointer(unsafe.StringData(text)))
	for _, rule := range []string{"", "lower", "upper", "keep"} {
		cfg := Config{}
		if rule != "" {
			cfg.Keys = []KeyRule{{Platform: "mssql", Case: rule}}
		}
		m, err := NewKeyMapper(cfg)
		if err != nil {
			t.Fatal(err)
		}
		k := m.Key(u)
		if len(k) == 0 {
			t.Fatalf("case %q: no key", rule)
		}
		for _, p := range k {
			if at := uintptr(unsafe.Pointer(unsafe.StringData(p))); at >= start && at < start+uintptr(len(text)) {
				t.Errorf("case %q: key part %q is a slice of the M text", rule, p)
			}
		}
	}
}

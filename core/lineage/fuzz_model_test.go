package lineage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

// FuzzResolveModel runs the round-2 paths on any text: DAX detection of a table
// source, item connectors, Direct Lake entities on a shared expression, a dataflow
// document, default schemas and ODBC rules, the Fabric id mapping and the keys.
func FuzzResolveModel(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/round2_*.txtar")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range splitTxtar(string(data)) {
			if strings.HasPrefix(sec.name, "table:") || strings.HasPrefix(sec.name, "expr:") {
				f.Add(sec.body)
			}
		}
	}
	f.Add("section Section1;\nshared A = Lakehouse.Contents(null){[workspaceId=\"w\"]}[Data]{[lakehouseId=\"l\"]}[Data]{[Id=\"t\"]}[Data];")
	r, err := NewResolver(Options{
		Defaults: []DefaultRule{{Platform: "oracle", DefaultDatabase: "DB", DefaultSchema: "S"}},
		ODBC:     []ODBCRule{{DSN: ".*", Platform: "snowflake", Database: "D", Schema: "S"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	km, _ := NewKeyMapper(Config{Keys: []KeyRule{{Platform: "snowflake", Case: "upper"}}})
	f.Fuzz(func(t *testing.T, src string) {
		s := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
			ID:          "w",
			FabricItems: []snapshot.FabricItem{{ID: "l", Name: "L", Type: snapshot.ItemLakehouse, SQLEndpoint: "h.datawarehouse.fabric.microsoft.com"}},
			SemanticModels: []snapshot.SemanticModel{{
				ID:          "m",
				Expressions: []snapshot.Expression{{Name: "Q", Expression: src}},
				Tables: []snapshot.Table{
					{Name: "T", Source: []string{src}},
					{Name: "E", Entity: &snapshot.EntitySource{ExpressionSource: "Q", EntityName: "x"}},
				},
			}},
			Dataflows: []snapshot.Dataflow{{ID: "d", Document: src}},
		}}}
		st := r.ResolveSnapshot(s)
		if st.Resolved+st.Partial+st.NonTable+st.Unresolved != st.Tables {
			t.Fatalf("counts do not add up: %+v", st)
		}
		for _, l := range []*snapshot.Lineage{s.Workspaces[0].SemanticModels[0].Lineage, s.Workspaces[0].Dataflows[0].Lineage} {
			if l == nil {
				continue
			}
			for _, tl := range l.Tables {
				if len(tl.Upstream) == 0 && len(tl.Unresolved) == 0 {
					t.Fatalf("%q: no upstream and no reason for %q", tl.Table, src)
				}
				for _, u := range tl.Upstream {
					if u.Table == "" || u.Platform == "" {
						t.Fatalf("upstream without table or platform: %+v", u)
					}
					if k := km.Key(u); k != nil && len(k) == 0 {
						t.Fatalf("empty non-nil key for %+v", u)
					}
				}
			}
		}
	})
}

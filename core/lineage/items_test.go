package lineage

import (
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

func TestResolveSnapshotDataflowsAndFabric(t *testing.T) {
	s := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		ID: "ws1",
		FabricItems: []snapshot.FabricItem{
			{ID: "lh1", Name: "SalesLakehouse", Type: snapshot.ItemLakehouse},
			{ID: "ep1", Name: "SalesLakehouse", Type: snapshot.ItemSQLEndpoint, ParentID: "lh1", SQLEndpoint: "abc.datawarehouse.fabric.microsoft.com"},
		},
		Dataflows: []snapshot.Dataflow{{
			ID: "df1", Name: "Sales prep",
			Document: "section Section1;\nshared Orders = let\n    Source = Sql.Database(\"sql1\", \"Ops\"),\n    T = Source{[Schema=\"dbo\",Item=\"Orders\"]}[Data]\nin\n    T;\nshared Helper = \"x\";\nFiltered = 1;",
		}, {ID: "df2", Name: "No definition"}},
		SemanticModels: []snapshot.SemanticModel{{
			ID:          "m1",
			Expressions: []snapshot.Expression{{Name: "DatabaseQuery", Expression: `let database = Sql.Database("abc.datawarehouse.fabric.microsoft.com", "ep1") in database`}},
			Tables: []snapshot.Table{
				{Name: "Direct Lake", Entity: &snapshot.EntitySource{ExpressionSource: "DatabaseQuery", SchemaName: "dbo", EntityName: "orders"}},
				{Name: "Import", Source: []string{`let S = Sql.Database("abc.datawarehouse.fabric.microsoft.com", "SalesLakehouse"), T = S{[Schema="dbo",Item="orders"]}[Data] in T`}},
				{Name: "From dataflow", Source: []string{`PowerPlatform.Dataflows(null){[Id="Workspaces"]}[Data]{[workspaceId="ws1"]}[Data]{[dataflowId="df1"]}[Data]{[entity="Orders"]}[Data]`}},
			},
		}},
	}}}
	st := ResolveSnapshot(s)
	ws := s.Workspaces[0]
	df := ws.Dataflows[0]
	if df.Lineage == nil || len(df.Lineage.Tables) != 2 {
		t.Fatalf("dataflow lineage %+v", df.Lineage)
	}
	if e := df.Lineage.Tables[0]; e.Table != "Orders" || len(e.Upstream) != 1 || e.Upstream[0].Database != "Ops" || e.Upstream[0].Table != "Orders" {
		t.Errorf("entity Orders: %+v", e)
	}
	if e := df.Lineage.Tables[1]; e.Table != "Helper" || len(e.Upstream) != 0 {
		t.Errorf("entity Helper: %+v", e)
	}
	if ws.Dataflows[1].Lineage != nil {
		t.Errorf("a dataflow without a document got lineage")
	}
	km, _ := NewKeyMapper(Config{})
	want := map[string]string{
		"Direct Lake": "ws1/lh1/dbo/orders",
		"Import":      "ws1/lh1/dbo/orders",
	}
	l := ws.SemanticModels[0].Lineage
	for _, tl := range l.Tables {
		if w, ok := want[tl.Table]; ok {
			if len(tl.Upstream) != 1 || km.Key(tl.Upstream[0]).String() != w {
				t.Errorf("%s: upstream %+v, want key %s", tl.Table, tl.Upstream, w)
			}
		}
		if tl.Table == "From dataflow" {
			if len(tl.Upstream) != 1 || tl.Upstream[0].Platform != PlatformDataflow || tl.Upstream[0].Database != "df1" {
				t.Errorf("dataflow entity: %+v", tl.Upstream)
			}
			if km.Key(tl.Upstream[0]) != nil {
				t.Errorf("a dataflow entity got a warehouse key")
			}
		}
	}
	if st.Tables != 5 || st.Resolved != 4 {
		t.Errorf("stats %+v", st)
	}
}

package assets

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestDataflowAndFabricAssets(t *testing.T) {
	s := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		ID: "ws1", Name: "Fabric",
		FabricItems: []snapshot.FabricItem{
			{ID: "lh1", Name: "Sales Lakehouse", Type: snapshot.ItemLakehouse, ConfiguredBy: "ana@contoso.com"},
			{ID: "ep1", Name: "Sales Lakehouse", Type: snapshot.ItemSQLEndpoint, ParentID: "lh1", SQLEndpoint: "x.datawarehouse.fabric.microsoft.com"},
		},
		Dataflows: []snapshot.Dataflow{
			{ID: "df1", Name: "Prep", UpstreamDataflows: []snapshot.Ref{{ID: "df2"}},
				Lineage: &snapshot.Lineage{Tables: []snapshot.TableLineage{{Table: "Orders",
					Upstream: []snapshot.UpstreamTable{{Platform: "mssql", Database: "Ops", Schema: "dbo", Table: "Orders"}}}}}},
			{ID: "df2", Name: "Raw", Type: snapshot.DataflowGen2},
			{ID: "dm1", Name: "Mart", Type: snapshot.Datamart},
		},
		SemanticModels: []snapshot.SemanticModel{{
			ID: "m1", Name: "Sales",
			Lineage: &snapshot.Lineage{Tables: []snapshot.TableLineage{
				{Table: "Orders", Upstream: []snapshot.UpstreamTable{{Platform: "powerbi-dataflow", Server: "ws1", Database: "df1", Table: "Orders"}}},
				{Table: "Customers", Upstream: []snapshot.UpstreamTable{{Platform: "fabric-onelake", Server: "ws1", Database: "lh1", Schema: "dbo", Table: "customers"}}},
			}},
			UpstreamDataflows: []snapshot.Ref{{ID: "dm1", WorkspaceID: "ws1"}},
		}},
	}}}
	b := NewBuilder(Options{})
	recs, problems := b.Add(s)
	more, p2 := b.Flush()
	recs = append(recs, more...)
	problems = append(problems, p2...)
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	deps := map[string][]string{}
	types := map[string]spec.ContentType{}
	for _, r := range recs {
		k := r.Spec.Key.String()
		types[k] = r.Spec.PowerBI.Type
		for _, d := range r.Spec.Deps {
			deps[k] = append(deps[k], d.String())
		}
	}
	want := map[string]spec.ContentType{
		"lakehouse/Sales_Lakehouse": spec.Lakehouse, "sql_endpoint/Sales_Lakehouse": spec.SQLEndpoint,
		"dataflow/Prep": spec.Dataflow, "dataflow/Raw": spec.Dataflow, "datamart/Mart": spec.Datamart,
		"semantic_model/Sales": spec.SemanticModel,
	}
	for k, typ := range want {
		if types[k] != typ {
			t.Errorf("%s: type %q, want %q (have %v)", k, types[k], typ, types)
		}
	}
	for _, r := range recs {
		if r.Spec.Key.String() != "semantic_model/Sales" {
			continue
		}
		// The refresh engine waits for these: upstreamDataflows and the M's dataflow navigation.
		b, _ := json.Marshal(r.Spec.Metadata["powerbi/upstream_dataflows"])
		if got := string(b); !strings.Contains(got, `"dm1"`) || !strings.Contains(got, `"df1"`) {
			t.Errorf("upstream_dataflows metadata %s", got)
		}
	}
	for k, ds := range map[string][]string{
		"semantic_model/Sales":         {"datamart/Mart", "dataflow/Prep", "lakehouse/Sales_Lakehouse", "ws1/lh1/dbo/customers"},
		"dataflow/Prep":                {"dataflow/Raw", "ops/dbo/orders"},
		"sql_endpoint/Sales_Lakehouse": {"lakehouse/Sales_Lakehouse"},
	} {
		got := slices.Clone(deps[k])
		slices.Sort(got)
		slices.Sort(ds)
		if !slices.Equal(got, ds) {
			t.Errorf("%s deps = %q, want %q", k, got, ds)
		}
	}
}

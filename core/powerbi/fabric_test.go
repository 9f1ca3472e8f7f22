package powerbi_test

import (
	"slices"
	"testing"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// TestFabricThroughScanner syncs the sample tenant with Fabric content through
// the scanner and resolves it: Fabric items, datamarts, Direct Lake partitions
// and dataflow definitions arrive as the service sends them, and lineage reads
// warehouse table -> dataflow -> model, and Direct Lake model -> lakehouse tables.
func TestFabricThroughScanner(t *testing.T) {
	srv := startEmulator(t, powerbitest.AddFabric(powerbitest.SampleTenant()))
	for _, definitions := range []bool{false, true} {
		cfg := baseConfig(srv, withSecret)
		cfg.Scanner.DataflowDefinitions = boolp(definitions)
		snap, _, err := collect(t, newClient(t, srv, cfg, nil))
		if err != nil {
			t.Fatal(err)
		}
		var fabric *snapshot.Workspace
		for i := range snap.Workspaces {
			if snap.Workspaces[i].Name == "Fabric Lakehouse" {
				fabric = &snap.Workspaces[i]
			}
		}
		if fabric == nil {
			t.Fatal("no Fabric workspace in the scan")
		}
		var types []string
		for _, it := range fabric.FabricItems {
			types = append(types, it.Type+":"+it.Name)
			if it.Type == snapshot.ItemSQLEndpoint && (it.ParentID == "" || it.SQLEndpoint == "") {
				t.Errorf("SQL endpoint lost its lakehouse or host: %+v", it)
			}
		}
		slices.Sort(types)
		if want := []string{"Lakehouse:Sales Lakehouse", "SQLAnalyticsEndpoint:Sales Lakehouse", "Warehouse:Finance Warehouse"}; !slices.Equal(types, want) {
			t.Errorf("fabric items %v, want %v", types, want)
		}
		docs, marts := 0, 0
		for _, d := range fabric.Dataflows {
			if d.Type == snapshot.Datamart {
				marts++
			}
			if d.Document != "" {
				docs++
			}
		}
		if marts != 1 || definitions && docs != 2 || !definitions && docs != 0 {
			t.Errorf("definitions=%v: %d datamarts, %d dataflow documents", definitions, marts, docs)
		}
		lineage.ResolveSnapshot(snap)
		km, _ := lineage.NewKeyMapper(lineage.Config{})
		for _, m := range fabric.SemanticModels {
			if m.Name != "Sales Direct Lake" {
				continue
			}
			if m.Lineage == nil || len(m.Lineage.Tables) != 2 {
				t.Fatalf("Direct Lake lineage %+v", m.Lineage)
			}
			var keys []string
			for _, k := range km.Keys(m.Lineage) {
				keys = append(keys, k.String())
			}
			want := []string{
				"f5b1c2d3-0000-4a00-8000-0000000000f1/f5b1c2d3-0000-4a00-8000-0000000000a1/dbo/orders",
				"f5b1c2d3-0000-4a00-8000-0000000000f1/f5b1c2d3-0000-4a00-8000-0000000000a1/dbo/customers",
			}
			if !slices.Equal(keys, want) {
				t.Errorf("Direct Lake keys %q, want %q", keys, want)
			}
		}
		if !definitions {
			continue
		}
		for _, d := range fabric.Dataflows {
			if d.Name != "Customer Prep" {
				continue
			}
			if d.Lineage == nil || len(d.Lineage.Tables) != 2 {
				t.Fatalf("dataflow lineage %+v", d.Lineage)
			}
			got := map[string]string{}
			for _, tl := range d.Lineage.Tables {
				for _, u := range tl.Upstream {
					got[tl.Table] = u.Platform + ":" + u.Database + "." + u.Schema + "." + u.Table
				}
			}
			if got["Customers"] != "mssql:CRM.dbo.Customers" || got["Customer Orders"] != "powerbi-dataflow:f5b1c2d3-0000-4a00-8000-0000000000d2..Orders" {
				t.Errorf("dataflow entities %v", got)
			}
		}
	}
}

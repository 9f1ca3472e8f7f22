package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
)

// TestSyncFabricTenant syncs the emulator's sample tenant with Fabric content and
// checks the lineage chain: warehouse table -> dataflow -> model, Lakehouse table ->
// Direct Lake model, with dataflows, datamarts and Fabric items as assets.
func TestSyncFabricTenant(t *testing.T) {
	f, dir := writePipeline(t, `version: 1
sources:
  - emulator: {tenant: sample, fabric: true}
outputs:
  - name: events
    jsonl: {path: events.jsonl, format: events}
`)
	code, out, errOut := cli(t, "sync", "-f", f)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	deps := map[string][]string{}
	types := map[string]string{}
	var summary *event.Summary
	for _, e := range readEvents(t, filepath.Join(dir, "events.jsonl")) {
		if e.Kind == event.KindSummary {
			summary = e.Summary
		}
		if e.Spec == nil {
			continue
		}
		k := e.Spec.Key.String()
		types[k] = string(e.Spec.PowerBI.Type)
		for _, d := range e.Spec.Deps {
			deps[k] = append(deps[k], d.String())
		}
	}
	for k, typ := range map[string]string{
		"lakehouse/Sales_Lakehouse": "lakehouse", "sql_endpoint/Sales_Lakehouse": "sql_endpoint",
		"warehouse/Finance_Warehouse": "warehouse", "dataflow/Customer_Prep": "dataflow",
		"dataflow/Raw_Orders": "dataflow", "datamart/Sales_Mart": "datamart",
	} {
		if types[k] != typ {
			t.Errorf("%s: type %q, want %q", k, types[k], typ)
		}
	}
	const ws, lh = "f5b1c2d3-0000-4a00-8000-0000000000f1", "f5b1c2d3-0000-4a00-8000-0000000000a1"
	for k, want := range map[string][]string{
		"semantic_model/Sales_Direct_Lake": {"lakehouse/Sales_Lakehouse", ws + "/" + lh + "/dbo/orders", ws + "/" + lh + "/dbo/customers"},
		"semantic_model/Customer_Model":    {"dataflow/Customer_Prep"},
		"dataflow/Customer_Prep":           {"dataflow/Raw_Orders", "crm/dbo/customers"},
		"dataflow/Raw_Orders":              {"raw/shop/orders"},
		"sql_endpoint/Sales_Lakehouse":     {"lakehouse/Sales_Lakehouse"},
	} {
		for _, d := range want {
			if !slices.Contains(deps[k], d) {
				t.Errorf("%s deps %q lack %q", k, deps[k], d)
			}
		}
	}
	if summary == nil {
		t.Fatal("no summary event")
	}
	// The sync summary counts Direct Lake tables and dataflow entities with the models' tables.
	if !strings.Contains(errOut, "msg=lineage tables=20 resolved=17 partial=0") {
		t.Errorf("lineage summary not in the log:\n%s\n%s", out, errOut)
	}
}

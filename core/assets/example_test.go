package assets_test

import (
	"fmt"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/snapshot"
)

// A report whose semantic model lives in a workspace of a later batch is held until
// the model appears; Flush emits whatever is still waiting, with a problem.
func ExampleBuilder() {
	b := assets.NewBuilder(assets.Options{})
	batch1 := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		ID: "ws-a", Name: "Finance",
		Reports: []snapshot.Report{
			{ID: "r1", Name: "Revenue", DatasetID: "m1"},
			{ID: "r2", Name: "Legacy", DatasetID: "m-deleted"},
		},
	}}}
	batch2 := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		ID: "ws-b", Name: "Shared models",
		SemanticModels: []snapshot.SemanticModel{{ID: "m1", Name: "Sales & Revenue"}},
	}}}

	for i, s := range []*snapshot.Snapshot{batch1, batch2} {
		recs, _ := b.Add(s)
		for _, r := range recs {
			fmt.Printf("batch %d: %s <- %v\n", i+1, r.Spec.Key, r.Spec.Deps)
		}
	}
	recs, problems := b.Flush()
	for _, r := range recs {
		fmt.Printf("flush: %s <- %v\n", r.Spec.Key, r.Spec.Deps)
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// batch 2: semantic_model/Sales_Revenue <- []
	// batch 2: report/Revenue <- [semantic_model/Sales_Revenue]
	// flush: report/Legacy <- []
	// build: report "Legacy" (id r2) in workspace "Finance": semantic model m-deleted not found in the synced workspaces
}

package assets

import (
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestBuilderOptions(t *testing.T) {
	var seen []string
	b := NewBuilder(Options{
		PortalURL: "https://app.powerbi.us/",
		UpstreamKeys: func(m *snapshot.SemanticModel) []spec.Key {
			seen = append(seen, m.ID)
			return []spec.Key{{"lake", "orders"}, {"bad", ""}}
		},
	})
	recs, problems := b.Add(&snapshot.Snapshot{Workspaces: []snapshot.Workspace{{
		ID: "ws", Name: "W",
		SemanticModels: []snapshot.SemanticModel{{ID: "m", Name: "M"}},
	}}})
	if len(recs) != 1 || len(seen) != 1 || seen[0] != "m" {
		t.Fatalf("records %d, hook calls %v", len(recs), seen)
	}
	s := recs[0].Spec
	if got := s.Metadata[MetaWebURL].Value; got != "https://app.powerbi.us/groups/ws/datasets/m" {
		t.Errorf("web_url = %v", got)
	}
	if len(s.Deps) != 1 || !s.Deps[0].Equal(spec.Key{"lake", "orders"}) {
		t.Errorf("deps = %v", s.Deps)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), `upstream table key "bad/" is not valid`) {
		t.Errorf("problems = %v", problems)
	}
}

func TestBuilderNilAndEmpty(t *testing.T) {
	b := NewBuilder(Options{})
	if recs, problems := b.Add(nil); recs != nil || problems != nil {
		t.Errorf("Add(nil) = %v, %v", recs, problems)
	}
	if recs, problems := b.Add(&snapshot.Snapshot{}); len(recs) != 0 || len(problems) != 0 {
		t.Errorf("Add(empty) = %v, %v", recs, problems)
	}
	if recs, problems := b.Flush(); len(recs) != 0 || len(problems) != 0 {
		t.Errorf("Flush = %v, %v", recs, problems)
	}
}

// TestBuilderHoldsOnlyWaiting checks that only records with an unseen dependency
// stay in memory between batches, and that they leave once it arrives.
func TestBuilderHoldsOnlyWaiting(t *testing.T) {
	b := NewBuilder(Options{})
	ws := func(id string, ms []snapshot.SemanticModel, rs []snapshot.Report) snapshot.Workspace {
		return snapshot.Workspace{ID: id, Name: id, SemanticModels: ms, Reports: rs}
	}
	recs, _ := b.Add(&snapshot.Snapshot{Workspaces: []snapshot.Workspace{ws("a", nil, []snapshot.Report{
		{ID: "r1", Name: "R1", DatasetID: "m9"},
		{ID: "r2", Name: "R2", DatasetID: "m9"},
		{ID: "r3", Name: "R3"},
	})}})
	if len(recs) != 1 || b.Pending() != 2 {
		t.Fatalf("first batch: %d records, %d pending; want 1 and 2", len(recs), b.Pending())
	}
	recs, _ = b.Add(&snapshot.Snapshot{Workspaces: []snapshot.Workspace{ws("b", []snapshot.SemanticModel{{ID: "m9", Name: "Nine"}}, nil)}})
	if len(recs) != 3 || b.Pending() != 0 {
		t.Fatalf("second batch: %d records, %d pending; want 3 and 0", len(recs), b.Pending())
	}
	if recs[1].Spec.PowerBI.ID != "r1" || recs[2].Spec.PowerBI.ID != "r2" {
		t.Errorf("released out of order: %s, %s", recs[1].Spec.PowerBI.ID, recs[2].Spec.PowerBI.ID)
	}
	for _, r := range recs[1:] {
		if len(r.Spec.Deps) != 1 || !r.Spec.Deps[0].Equal(spec.Key{"semantic_model", "Nine"}) {
			t.Errorf("%s deps = %v", r.Spec.PowerBI.ID, r.Spec.Deps)
		}
	}
	if len(b.pending) != 0 || len(b.waiting) != 0 {
		t.Errorf("held state not released: %d pending, %d waiting", len(b.pending), len(b.waiting))
	}
}

func TestModelOnModelDep(t *testing.T) {
	b := NewBuilder(Options{})
	composite := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{ID: "w2", Name: "Sales", SemanticModels: []snapshot.SemanticModel{
		{ID: "m2", Name: "Sales Composite", UpstreamModels: []snapshot.Ref{{ID: "m1", WorkspaceID: "w1"}}}}}}}
	shared := &snapshot.Snapshot{Workspaces: []snapshot.Workspace{{ID: "w1", Name: "Shared", SemanticModels: []snapshot.SemanticModel{
		{ID: "m1", Name: "Sales Core"}}}}}
	recs, _ := b.Add(composite) // the upstream model comes in a later batch: held
	if len(recs) != 0 {
		t.Fatalf("the composite model was not held for its upstream model: %d records", len(recs))
	}
	recs, probs := b.Add(shared)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	var got []spec.Key
	for _, r := range recs {
		if r.Spec.PowerBI.ID == "m2" {
			got = r.Spec.Deps
		}
	}
	if len(got) != 1 || !got[0].Equal(spec.Key{"semantic_model", "Sales_Core"}) {
		t.Errorf("composite model deps %v, want the upstream model's key", got)
	}
}

package engine

import (
	"reflect"
	"testing"

	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// What the related index returns of an asset is what it was told, field for field,
// whatever the web URL looks like; a newer record of the same asset wins, and an id
// shared by assets of two types finds each by its type.
func TestRelatedIndexKeepsWhatItIsTold(t *testing.T) {
	rels := []event.Related{
		{Key: spec.Key{"my_prefix", "report", "Sales"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
			WebURL: "https://app.powerbi.com/groups/w1/reports/r1"},
		{Key: spec.Key{"semantic_model", "Sales"}, PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
			WebURL: "https://app.powerbi.com/groups/w1/datasets/m1?x=w1", Tables: []string{"a", "b"}, TableNames: []string{"A", "b"}},
		{Key: spec.Key{"one"}, PowerBI: spec.Identity{Type: spec.Dashboard, ID: "d1"}, WebURL: "no ids here"},
		{Key: spec.Key{"ds"}, PowerBI: spec.Identity{Type: spec.DataSource, ID: "x"}},
		{Key: spec.Key{"a", ""}, PowerBI: spec.Identity{Type: spec.Report, ID: "\x01", WorkspaceID: "\x02"}, WebURL: "\x01/\x02"},
		{Key: spec.Key{"r", "same id"}, PowerBI: spec.Identity{Type: spec.Report, ID: "m1", WorkspaceID: "w2"}, WebURL: "m1/w2/m1"},
	}
	x := newRelatedIndex()
	for i := range rels {
		x.put(&rels[i], relSent)
	}
	for _, want := range rels {
		got := x.get(state.IDOf(want.PowerBI))
		if got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("%s: got %+v, want %+v", want.PowerBI, got, want)
		}
	}
	if got := x.get(state.AssetID{ID: "m1"}); got == nil || got.PowerBI.Type != spec.Report {
		t.Errorf("by id alone, the newest asset with the id: %+v", got)
	}
	newer := rels[0]
	newer.Key = spec.Key{"renamed"}
	x.put(&newer, relSent)
	if got := x.get(state.IDOf(newer.PowerBI)); got == nil || got.Key.String() != "renamed" {
		t.Errorf("after a newer record: %+v", got)
	}
	n := 0
	x.eachSent(func(spec.Key, spec.Identity) { n++ })
	if n != len(rels) || x.sentN != len(rels) {
		t.Errorf("eachSent saw %d assets, sentN %d, want %d", n, x.sentN, len(rels))
	}
}

func FuzzURLPattern(f *testing.F) {
	f.Add("https://app.powerbi.com/groups/w1/reports/r1", "w1", "r1")
	f.Add("w1w1r1", "w1", "r1")
	f.Add("abc", "b", "b")
	f.Fuzz(func(t *testing.T, url, ws, id string) {
		p, ok := urlPattern(url, ws, id)
		if !ok {
			return
		}
		if got := expandURL(p, ws, id); got != url {
			t.Fatalf("urlPattern(%q, %q, %q) = %q, expands to %q", url, ws, id, p, got)
		}
	})
}

package assets

import (
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestKeyIndex(t *testing.T) {
	// Every key with one hash: the keys that clash are told apart by their parts.
	for _, sum := range []func(spec.Key) uint64{nil, func(spec.Key) uint64 { return 7 }} {
		testKeyIndex(t, sum)
	}
}

func testKeyIndex(t *testing.T, sum func(spec.Key) uint64) {
	rec := func(typ spec.ContentType, id, name string, key ...string) record.Record {
		return record.Record{Spec: spec.AssetSpec{Key: key,
			PowerBI: spec.Identity{Type: typ, ID: id, Name: name, WorkspaceName: "Finance"}}}
	}
	x := NewKeyIndex()
	x.sum = sum
	problems := x.Check([]record.Record{
		rec(spec.Report, "r1", "Sales", "report", "Sales_"),
		rec(spec.Report, "r2", "Sales!", "report", "Sales_"),
		rec(spec.Report, "r1", "Sales", "report", "Sales_"), // same asset again: fine
		rec(spec.SemanticModel, "m1", "Sales", "semantic_model", "Sales"),
		rec(spec.Dashboard, "d1", "a/b", "a/b"),
		rec(spec.Dashboard, "d2", "a b", "a", "b"), // renders the same, is not the same key
	})
	if x.Len() != 4 {
		t.Errorf("Len = %d, want 4", x.Len())
	}
	if len(problems) != 1 {
		t.Fatalf("problems = %v, want 1", problems)
	}
	msg := problems[0].Error()
	for _, want := range []string{`keys: report "Sales!" (id r2)`, `key "report/Sales_"`, `report "Sales" (id r1) in workspace "Finance"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("problem %q does not contain %q", msg, want)
		}
	}
	// A later batch meets the same key again: still reported against the first owner.
	more := x.Check([]record.Record{rec(spec.Report, "r3", "Sales?", "report", "Sales_")})
	if len(more) != 1 || !strings.Contains(more[0].Error(), "(id r1)") {
		t.Errorf("second batch problems = %v", more)
	}
}

// The index keeps copies: a caller that reuses its spec does not change what the index
// says of the first owner; Reset forgets every owner.
func TestKeyIndexCopies(t *testing.T) {
	x := NewKeyIndex()
	s := spec.AssetSpec{Key: spec.Key{"report", "Sales"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r1", Name: "Sales"}}
	if p := x.Add(&s); p != nil {
		t.Fatal(p)
	}
	s.Key[1], s.PowerBI = "Other", spec.Identity{Type: spec.Report, ID: "r9", Name: "Other"}
	p := x.Add(&spec.AssetSpec{Key: spec.Key{"report", "Sales"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r2", Name: "Sales 2"}})
	if p == nil || !strings.Contains(p.Error(), `"Sales" (id r1)`) {
		t.Errorf("the first owner after the caller reused its spec: %v", p)
	}
	if p := x.Claim(spec.Key{"model", "M"}, &spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "M"}); p != nil {
		t.Fatal(p)
	}
	if p := x.Claim(spec.Key{"model", "M"}, &spec.Identity{Type: spec.SemanticModel, ID: "m1"}); p != nil {
		t.Errorf("the same asset again: %v", p)
	}
	x.Reset()
	if x.Len() != 0 {
		t.Errorf("Len after Reset = %d", x.Len())
	}
	if p := x.Claim(spec.Key{"report", "Sales"}, &spec.Identity{Type: spec.Report, ID: "r2"}); p != nil {
		t.Errorf("after Reset, a key of the last sync still has an owner: %v", p)
	}
}

package assets

import (
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestKeyIndex(t *testing.T) {
	rec := func(typ spec.ContentType, id, name string, key ...string) record.Record {
		return record.Record{Spec: spec.AssetSpec{Key: key,
			PowerBI: spec.Identity{Type: typ, ID: id, Name: name, WorkspaceName: "Finance"}}}
	}
	x := NewKeyIndex()
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

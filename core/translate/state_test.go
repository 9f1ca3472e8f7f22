package translate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

func TestBatchReadsAndEdits(t *testing.T) {
	recs := sampleRecords(2)
	b := newBatch(recs, []byte(`{"prefix":"p","n":{"m":[1,"x"]}}`), 128) // each edit costs its bytes + editOverhead
	if got, st := b.get(fieldType, 0); st != statusNoCurrent || got != "" {
		t.Fatalf("get before next: %q %d", got, st)
	}
	if b.next() != codeDashboard {
		t.Fatal("no first asset")
	}
	tests := []struct {
		name  string
		got   func() (string, int32)
		want  string
		state int32
	}{
		{"type", func() (string, int32) { return b.get(fieldType, 0) }, "dashboard", statusOK},
		{"key part", func() (string, int32) { return b.get(fieldKey, 1) }, "Executive_Overview_0", statusOK},
		{"key out of range", func() (string, int32) { return b.get(fieldKey, 2) }, "", statusAbsent},
		{"dep", func() (string, int32) { return b.get(fieldDeps, 0) }, "report\x00Sales_Report_1", statusOK},
		{"tag name", func() (string, int32) { return b.get(fieldTags, 0) }, "dagster-powerbi/asset_type", statusOK},
		{"raw path", func() (string, int32) { return b.lookup(fieldRaw, "tiles.0.title") }, "Revenue", statusOK},
		{"raw json", func() (string, int32) { return b.lookup(fieldRaw, "tiles.0.datasetId") }, "d-" + recs[0].Spec.PowerBI.ID, statusOK},
		{"raw absent", func() (string, int32) { return b.lookup(fieldRaw, "tiles.9") }, "", statusAbsent},
		{"config", func() (string, int32) { return b.lookup(fieldConfig, "n.m") }, `[1,"x"]`, statusOK},
		{"tag", func() (string, int32) { return b.lookup(fieldTags, "dagster-powerbi/asset_type") }, "dashboard", statusOK},
		{"metadata", func() (string, int32) { return b.lookup(fieldMetadata, "dagster-powerbi/name") }, `{"type":"text","value":"Executive Overview 0"}`, statusOK},
		{"unknown field", func() (string, int32) { return b.get(77, 0) }, "", statusInvalid},
	}
	for _, tt := range tests {
		got, st := tt.got()
		if got != tt.want || st != tt.state {
			t.Errorf("%s: got %q (%d), want %q (%d)", tt.name, got, st, tt.want, tt.state)
		}
	}
	if st := b.insert(fieldKey, 0, "p"); st != statusOK {
		t.Fatal(st)
	}
	if recs[0].Spec.Key[0] == "p" {
		t.Fatal("edit changed the input record")
	}
	if st := b.set(fieldDescription, strings.Repeat("x", 64)); st != statusTooLarge {
		t.Fatalf("past max_output: status %d", st)
	}
	b.next()
	if r := b.res[0]; r.outcome != outFail || !strings.Contains(r.err.Error(), "set(DESCRIPTION): edits of this asset exceed max_output (128 bytes)") {
		t.Fatalf("result %+v", r)
	}
	if b.next() != 0 || b.next() != 0 {
		t.Fatal("next past the end")
	}
	if b.drop() != statusNoCurrent {
		t.Fatal("drop after the end")
	}
}

// TestEditsNeverTouchTheInput edits every list and map field in place and checks the
// input records are as they were: the per-field copy on write must copy before editing.
func TestEditsNeverTouchTheInput(t *testing.T) {
	recs := sampleRecords(2)
	b := newBatch(recs, nil, 0)
	b.next()
	for _, st := range []int32{
		b.insert(fieldKey, 0, "p"), b.remove(fieldKey, 1),
		b.insert(fieldDeps, 0, "a\x00b"), b.remove(fieldDeps, 1),
		b.insert(fieldKinds, -1, "k"), b.remove(fieldKinds, 0),
		b.insert(fieldOwners, 0, "o"),
		b.put(fieldTags, "t", []byte("v")), b.del(fieldTags, "dagster-powerbi/asset_type"),
		b.put(fieldMetadata, "m", []byte(`{"type":"int","value":3}`)), b.del(fieldMetadata, "dagster-powerbi/name"),
	} {
		if st != statusOK {
			t.Fatalf("edit status %d: %v", st, b.res[0].err)
		}
	}
	b.next()
	if !reflect.DeepEqual(recs, sampleRecords(2)) {
		t.Fatal("an edit changed the input records")
	}
	got := b.res[0].spec
	if got.Key[0] != "p" || got.Tags["t"] != "v" || got.Metadata["m"] != spec.Int(3) || len(got.Deps) != 1 || got.Deps[0][0] != "a" {
		t.Fatalf("edits not applied: %+v", got)
	}
}

package estate

import (
	"encoding/json"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

// sameSummaryJSON fails unless Summary.AppendJSON writes what json.Marshal does.
func sameSummaryJSON(t *testing.T, sum Summary) {
	t.Helper()
	want, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.AppendJSON([]byte("prefix")); string(got) != "prefix"+string(want) {
		t.Fatalf("got  %s\nwant prefix%s", got, want)
	}
}

// TestSummaryJSONIsMarshal: a summary's JSON is json.Marshal's (HTML escapes, a cut
// description, empty and nil fields and all).
func TestSummaryJSONIsMarshal(t *testing.T) {
	long := make([]byte, maxDescription+10)
	for i := range long {
		long[i] = "é"[i%2] // cut inside a character
	}
	for _, sp := range []*spec.AssetSpec{
		{Key: spec.Key{"a"}, Description: "<b>&amp;</b> \u2028 \x01 \"q\"", Metadata: map[string]spec.Metadata{"x": spec.JSON(map[string]any{"z": 1, "a": []any{"<"}})}},
		{Key: spec.Key{"b"}},
		{},
		{Key: spec.Key{}, Deps: []spec.Key{{"x", "<y>"}, nil, {}}, Owners: []string{}, Kinds: []string{"powerbi", ""}, Tags: map[string]string{"b": "&", "": "", "a": "\xff"},
			Group: "g", Description: string(long), PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "i", Name: "n\u2029", WorkspaceID: "w", WorkspaceName: "W"},
			Metadata: map[string]spec.Metadata{"powerbi/endorsement": spec.Text("Certified"), "powerbi/web_url": spec.URL("https://x/?a=1&b=<2>"), "powerbi/table_lineage": spec.JSON(nil)}},
		{Tags: map[string]string{}, Metadata: map[string]spec.Metadata{"dagster-powerbi/web_url": spec.URL("u"), "powerbi/web_url": spec.URL("v"), "powerbi/endorsement": spec.Int(1)}},
	} {
		sameSummaryJSON(t, Summarize(sp))
	}
}

// FuzzSummaryJSON: for any strings, a summary's JSON is json.Marshal's.
func FuzzSummaryJSON(f *testing.F) {
	f.Add("a", "<b>", "\u2028", "\xff", "")
	f.Add("", "", "", "", "x")
	f.Fuzz(func(t *testing.T, a, b, c, d, e string) {
		sameSummaryJSON(t, Summary{Key: spec.Key{a, b}, Deps: []spec.Key{{c}, {}}, Type: d, ID: e, Name: a + b, WorkspaceID: c,
			WorkspaceName: d, Owners: []string{e}, Endorsement: a, URL: b, Kinds: []string{c, d}, Tags: map[string]string{a: b, c: d},
			Group: e, Description: a + c + e, ColumnLineage: len(a) > len(b)})
		sameSummaryJSON(t, Summary{Type: a, Description: b})
	})
}

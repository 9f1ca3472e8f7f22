package estate

import (
	"encoding/json"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

// TestSinkTextIsMarshal: the sink's encoder writes the bytes json.Marshal does (HTML
// escaping and all), for one value after another.
func TestSinkTextIsMarshal(t *testing.T) {
	var s Sink
	for _, sp := range []*spec.AssetSpec{
		{Key: spec.Key{"a"}, Description: "<b>&amp;</b> \u2028 \x01 \"q\"", Metadata: map[string]spec.Metadata{"x": spec.JSON(map[string]any{"z": 1, "a": []any{"<"}})}},
		{Key: spec.Key{"b"}},
	} {
		for _, v := range []any{Summarize(sp), PageOf(sp)} {
			want, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.text(v)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got %s\nwant %s", got, want)
			}
		}
	}
}

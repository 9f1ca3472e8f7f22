package powerbi

import (
	"encoding/json"
	"testing"
)

// FuzzDecodeModified: whatever the modified endpoint answers, decoding it returns ids or an
// error, never panics, and never an empty id.
func FuzzDecodeModified(f *testing.F) {
	// Microsoft's recorded example answer (reference/msdocs-examples/modified.json).
	f.Add([]byte(`[{"id": "3740504d-1f93-42f9-8e9d-c8ba9b787a3b"}, {"id": "19cb346c-9839-4e19-81e6-76364d0b836f"}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"id": ""}]`))
	f.Add([]byte(`[{"id": 5}, 7]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var body []json.RawMessage
		if json.Unmarshal(data, &body) != nil {
			return
		}
		ids, err := decodeModified(body)
		if err != nil {
			return
		}
		if len(ids) > len(body) {
			t.Fatalf("%d ids from %d items", len(ids), len(body))
		}
		for id := range ids {
			if id == "" {
				t.Fatal("an empty id")
			}
		}
	})
}

package pipes

import (
	"testing"
)

// FuzzDecodeParams checks that any bootstrap value either decodes to an object that
// encodes back to the same object, or fails with an error, never a panic.
func FuzzDecodeParams(f *testing.F) {
	for _, p := range []map[string]any{{"path": "/tmp/c.json"}, {"data": map[string]any{"run_id": "r"}}, {"stdio": "stderr"}} {
		enc, _ := EncodeParams(p)
		f.Add(enc)
	}
	f.Add("")
	f.Add("eJyrVkrLz1eyUlAqSk0sqlQCAB+YBCo=")
	f.Fuzz(func(t *testing.T, value string) {
		p, err := DecodeParams(value)
		if err != nil {
			return
		}
		enc, err := EncodeParams(p)
		if err != nil {
			t.Fatalf("decoded %v does not encode: %v", p, err)
		}
		if _, err := DecodeParams(enc); err != nil {
			t.Fatalf("re-encoded %v does not decode: %v", p, err)
		}
	})
}

// FuzzSplitKey checks that escaping the parts of any key string gives it back.
func FuzzSplitKey(f *testing.F) {
	f.Add(`a\/b/c`)
	f.Add(`x\\y`)
	f.Fuzz(func(t *testing.T, key string) {
		parts := SplitKey(key)
		for _, p := range parts {
			if p == "" {
				return // empty parts do not survive Dagster's own split either
			}
		}
		if got := SplitKey(EscapeKey(parts)); len(got) != len(parts) {
			t.Fatalf("SplitKey(EscapeKey(%q)) = %q", parts, got)
		}
	})
}

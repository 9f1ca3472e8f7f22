package assets

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

// TestSpecFormatDoc keeps docs/spec-format.md honest: every JSON block decodes into a
// valid spec, and every block under "## Examples" is a spec from a golden file.
func TestSpecFormatDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec-format.md")
	if err != nil {
		t.Fatal(err)
	}
	goldenSpecs := map[string]bool{}
	files, _ := filepath.Glob("testdata/*.golden.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			Steps []struct {
				Records []struct {
					Spec json.RawMessage `json:"spec"`
				} `json:"records"`
			} `json:"steps"`
		}
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, st := range g.Steps {
			for _, r := range st.Records {
				goldenSpecs[canonical(t, r.Spec)] = true
			}
		}
	}

	text := string(doc)
	examplesAt := strings.Index(text, "\n## Examples")
	if examplesAt < 0 {
		t.Fatal(`docs/spec-format.md has no "## Examples" section`)
	}
	blocks, inExamples := 0, 0
	for off := 0; ; {
		i := strings.Index(text[off:], "```json\n")
		if i < 0 {
			break
		}
		start := off + i + len("```json\n")
		end := strings.Index(text[start:], "```")
		if end < 0 {
			t.Fatal("unterminated json block")
		}
		block := text[start : start+end]
		off = start + end + 3
		blocks++
		var s spec.AssetSpec
		dec := json.NewDecoder(strings.NewReader(block))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Errorf("block %d does not decode as a spec: %v\n%s", blocks, err, block)
			continue
		}
		if err := s.Validate(); err != nil {
			t.Errorf("block %d: invalid spec: %v", blocks, err)
		}
		if start > examplesAt {
			inExamples++
			if !goldenSpecs[canonical(t, []byte(block))] {
				t.Errorf("example %q is not in any golden file; regenerate the examples from testdata", s.Key.String())
			}
		}
	}
	if inExamples < 4 {
		t.Errorf("found %d examples, want at least one per content type", inExamples)
	}
}

func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.TrimSpace(out))
}

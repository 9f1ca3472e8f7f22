package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/config"
)

// FuzzParse feeds the pipeline loader arbitrary documents: it must return a pipeline or
// an error that names the file, and never panic.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("version: 1\nsources:\n  - emulator: {tenant: sample}\n"))
	f.Add([]byte("version: 1\nsources:\n  - {name: a, snapshot: s.json}\ntranslators: [{name: x}]\noutputs: [{jsonl: {path: -}}]\n"))
	f.Add([]byte("version: 1\nsources: [{powerbi: {tenant_id: ${env:X:-y}}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(p.Sources) == 0 {
			t.Fatal("pipeline without sources accepted")
		}
		for _, s := range p.Sources {
			n := 0
			for _, set := range []bool{s.Emulator.Node != nil, s.PowerBI.Node != nil, s.Snapshot != ""} {
				if set {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("source %q has %d kinds", s.Name, n)
			}
		}
		// Sections must decode into a generic value without panicking.
		for _, n := range append(append([]config.Node{}, p.Translators...), p.Outputs...) {
			var v map[string]any
			_ = config.Decode(n, &v)
		}
	})
}

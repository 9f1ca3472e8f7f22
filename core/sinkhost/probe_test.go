package sinkhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProbe checks outputs the way `pbisync validate` does: the plugin is started and
// asked to check its config, and nothing is opened, so an output written before stays
// byte-identical whatever the probe finds.
func TestProbe(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "specs.jsonl")
	before := []byte(`{"kind":"spec"}` + "\n")
	if err := os.WriteFile(target, before, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, entry, want string
		unchecked         bool
	}{
		{"good config", fmt.Sprintf("name: j\njsonl: {path: %q, format: specs}\n", target), "", false},
		{"bad value", fmt.Sprintf("name: j\njsonl: {path: %q, format: spec}\n", target), `output "j": format must be events or specs`, false},
		{"unknown key", fmt.Sprintf("name: j\njsonl: {path: %q, fromat: specs}\n", target), `output "j": fromat: unknown key "fromat"`, false},
		{"sink without Check", fmt.Sprintf("name: n\nplugin: {path: %q, args: [plugin, sink, noop]}\n", os.Args[0]), "", true},
		{"no such binary", "name: x\nplugin: {path: ./no/such/sink}\n", `pipeline.yaml:2:16: output "x": plugin`, false},
		{"not a plugin", "name: x\nplugin: {path: /bin/true}\n", `did not answer pbisync's sink handshake`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Probe(context.Background(), entryNode(t, tt.entry), testOptions(nil))
			switch {
			case tt.unchecked:
				if !errors.Is(err, ErrUnchecked) {
					t.Errorf("want ErrUnchecked, got %v", err)
				}
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
			if got, _ := os.ReadFile(target); string(got) != string(before) {
				t.Errorf("the probe changed the output: %q", got)
			}
		})
	}
}

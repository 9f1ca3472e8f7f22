package pipeline

import (
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // substring of the error, including file:line:col
	}{
		{"unknown top key", "version: 1\nsources:\n  - snapshot: a.json\nsinks: []\n", "p.yaml:4:1: unknown key \"sinks\""},
		{"missing sources", "version: 1\n", "p.yaml:1:1: missing required key \"sources\""},
		{"empty sources", "version: 1\nsources: []\n", "p.yaml:2:10: sources: at least one source"},
		{"wrong version type", "version: one\nsources:\n  - snapshot: a.json\n", "p.yaml:1:10: want a whole number"},
		{"unsupported version", "version: 2\nsources:\n  - snapshot: a.json\n", "p.yaml:1:10: pipeline version 2 is not supported"},
		{"two kinds", "version: 1\nsources:\n  - snapshot: a.json\n    emulator: {tenant: sample}\n", "p.yaml:3:5: source \"source1\" needs exactly one"},
		{"no kind", "version: 1\nsources:\n  - name: x\n", "p.yaml:3:5: source \"x\" needs exactly one"},
		{"duplicate source", "version: 1\nsources:\n  - {name: a, snapshot: a.json}\n  - {name: a, snapshot: b.json}\n", "p.yaml:4:5: source name \"a\" is used twice"},
		{"unknown source key", "version: 1\nsources:\n  - snapshto: a.json\n", "p.yaml:3:5: unknown key \"snapshto\""},
		{"bad name", "version: 1\nname: 'a b'\nsources:\n  - snapshot: a.json\n", "p.yaml:2:7: pipeline name"},
		{"syntax", "version: 1\nsources: [\n", "p.yaml:2:1: YAML syntax"},
		{"missing env", "version: 1\nsources:\n  - snapshot: ${env:PBISYNC_TEST_UNSET_VAR}\n", "p.yaml:3:15: environment variable PBISYNC_TEST_UNSET_VAR is not set"},
		{"sources not a list", "version: 1\nsources: {a: 1}\n", "p.yaml:2:10: want a list"},
		{"alias", "version: 1\nx: &a 1\nsources:\n  - snapshot: *a\n", "p.yaml:4:15: YAML aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseOK(t *testing.T) {
	t.Setenv("PBISYNC_TEST_SNAPSHOT", "snap.json")
	doc := `version: 1
name: finance
sources:
  - name: emu
    emulator: {tenant: sample}
  - snapshot: ${env:PBISYNC_TEST_SNAPSHOT}
  - name: prod
    powerbi:
      tenant_id: abc
translators:
  - name: t1
    wasm: x.wasm
outputs:
  - name: specs
    jsonl: {path: out.jsonl}
refresh:
  models: all
`
	p, err := Parse("p.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "finance" || p.StateDir != ".pbisync" {
		t.Errorf("name %q state %q", p.Name, p.StateDir)
	}
	kinds := []string{}
	for _, s := range p.Sources {
		kinds = append(kinds, s.Name+":"+s.Kind())
	}
	if got := strings.Join(kinds, ","); got != "emu:emulator,source2:snapshot,prod:powerbi" {
		t.Errorf("sources %s", got)
	}
	if p.Sources[1].Snapshot != "snap.json" {
		t.Errorf("env not expanded: %q", p.Sources[1].Snapshot)
	}
	if len(p.Translators) != 1 || len(p.Outputs) != 1 || p.Refresh.Node == nil || p.Lineage.Node != nil {
		t.Errorf("sections: %d translators, %d outputs, refresh %v, lineage %v", len(p.Translators), len(p.Outputs), p.Refresh.Node != nil, p.Lineage.Node != nil)
	}
	if pos := p.Outputs[0].Pos(); pos.Line != 14 || pos.Col != 5 {
		t.Errorf("output position %v, want line 14 col 5", pos)
	}
}

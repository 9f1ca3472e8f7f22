package translate

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

func TestNoCodeTranslation(t *testing.T) {
	yml := `translators:
  - name: tidy
    translation:
      - match: {type: dashboard}
        key_prefix: bi
        owners: ["team:my_team"]
      - match: {type: [report, semantic_model], name: "^Sales"}
        group: "{{.Workspace.Name}}"
        tags: {domain: sales, source: "pbi-{{.Type}}"}
        kinds: [powerbi, finance]
        metadata:
          rows: 12
          ratio: 0.5
          certified: true
          link: {type: url, value: "https://example.com"}
          extra: {a: [1, 2]}
        description: "{{.Name}} ({{.ID}})"
      - match: {type: report}
        metadata: {note: "from {{.Raw.createdBy}}"}
      - match: {type: data_source}
        key: "warehouse/{{.Name}}"
        deps: [upstream/raw_orders]
      - match: {name: "Sales Model 6"}
        drop: true
`
	c := mustChain(t, yml)
	in := sampleRecords(8)
	out, probs, err := c.Translate(context.Background(), in)
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if got := len(out); got != 7 {
		t.Fatalf("kept %d records, want 7 (Sales Model 6 dropped)", got)
	}
	for i := range out {
		s, orig := out[i].Spec, out[i].Spec.PowerBI
		switch orig.Type {
		case spec.Dashboard:
			if s.Key[0] != "bi" || !reflect.DeepEqual(s.Owners, []string{"team:my_team"}) {
				t.Errorf("dashboard: %v %v", s.Key, s.Owners)
			}
		case spec.Report, spec.SemanticModel:
			if s.Group != "Sales & Finance" || s.Tags["domain"] != "sales" || s.Tags["source"] != "pbi-"+string(orig.Type) {
				t.Errorf("%s: group %q tags %v", orig.Name, s.Group, s.Tags)
			}
			if s.Tags["dagster-powerbi/asset_type"] == "" {
				t.Errorf("%s: tags were replaced, not merged: %v", orig.Name, s.Tags)
			}
			if !reflect.DeepEqual(s.Kinds, []string{"powerbi", string(orig.Type), "finance"}) {
				t.Errorf("%s: kinds %v", orig.Name, s.Kinds)
			}
			wantMeta := map[string]spec.Metadata{
				"rows": spec.Int(12), "ratio": spec.Float(0.5), "certified": spec.Bool(true),
				"link": spec.URL("https://example.com"), "extra": spec.JSON(map[string]any{"a": []any{1.0, 2.0}}),
			}
			for k, v := range wantMeta {
				if !reflect.DeepEqual(s.Metadata[k], v) {
					t.Errorf("%s: metadata %s = %#v, want %#v", orig.Name, k, s.Metadata[k], v)
				}
			}
			if orig.Type == spec.Report && s.Metadata["note"] != spec.Text("from ana@contoso.com") {
				t.Errorf("report note %v", s.Metadata["note"])
			}
			if s.Description != orig.Name+" ("+orig.ID+")" {
				t.Errorf("description %q", s.Description)
			}
		case spec.DataSource:
			if !reflect.DeepEqual(s.Key, spec.Key{"warehouse", orig.Name}) || !reflect.DeepEqual(s.Deps, []spec.Key{{"upstream", "raw_orders"}}) {
				t.Errorf("data source: key %v deps %v", s.Key, s.Deps)
			}
		}
	}
	// The input is never modified.
	if !reflect.DeepEqual(in, sampleRecords(8)) {
		t.Error("the translation modified its input")
	}
}

func TestNoCodeErrors(t *testing.T) {
	tests := []struct{ name, rules, want string }{
		{"bad regexp", "      - match: {name: \"(\"}\n", "pipeline.yaml:4:23: bad regular expression"},
		{"bad template", "      - key: \"{{.Name\"\n", "pipeline.yaml:4:14: bad template"},
		{"unknown key", "      - kye: x\n", `pipeline.yaml:4:9: unknown key "kye"`},
		{"bad dep", "      - deps: [\"a//b\"]\n", `dep "a//b": key "a//b": part 1 is empty`},
		{"bad metadata", "      - metadata: {n: {type: int, value: x}}\n", `metadata "n"`},
		{"config on no-code", "        config: {a: 1}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := "translators:\n  - name: tidy\n    translation:\n" + tt.rules
			if tt.want == "" {
				yml = "translators:\n  - name: tidy\n    config: {a: 1}\n    translation: []\n"
				tt.want = "sha256, config and grant apply to WASM translators only"
			}
			_, err := newChain(t, yml, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v\nwant %q", err, tt.want)
			}
		})
	}
}

func TestNoCodePolicies(t *testing.T) {
	// A template over a raw property that is missing fails that asset only.
	base := "translators:\n  - name: tidy\n    on_error: %s\n    translation:\n      - match: {type: report}\n        key: \"{{.Raw.nope}}\"\n"
	tests := []struct {
		policy string
		kept   int
	}{{"skip", 3}, {"keep_default", 4}}
	for _, tt := range tests {
		c := mustChain(t, strings.Replace(base, "%s", tt.policy, 1))
		out, probs, err := c.Translate(context.Background(), sampleRecords(4))
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != tt.kept || len(probs) != 1 || !strings.Contains(probs[0].Error(), `translator tidy: report "Sales Report 1"`) {
			t.Errorf("%s: kept %d, problems %v", tt.policy, len(out), probs)
		}
	}
	c := mustChain(t, strings.Replace(base, "%s", "fail", 1))
	if _, _, err := c.Translate(context.Background(), sampleRecords(4)); err == nil || !strings.Contains(err.Error(), "translation rule 1: template key") {
		t.Errorf("fail policy: %v", err)
	}
}

func TestChainOrder(t *testing.T) {
	yml := `translators:
  - name: first
    translation: [{key_prefix: a}]
  - name: second
    translation: [{key: "{{.Key}}/z"}]
  - name: docs
    wasm: testdata/wat/noop.wasm
`
	c := mustChain(t, yml)
	out, _, err := c.Translate(context.Background(), sampleRecords(1))
	if err != nil {
		t.Fatal(err)
	}
	if want := (spec.Key{"a", "dashboard", "Executive_Overview_0", "z"}); !reflect.DeepEqual(out[0].Spec.Key, want) {
		t.Fatalf("key %v, want %v", out[0].Spec.Key, want)
	}
}

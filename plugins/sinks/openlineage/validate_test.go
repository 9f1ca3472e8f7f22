package openlineage

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/plugins/sinks/openlineage/internal/jsonschema"
)

// registry loads the OpenLineage 2-0-2 schema, the standard facets this sink emits and
// its own custom facets.
func registry(t testing.TB) *jsonschema.Registry {
	t.Helper()
	r := jsonschema.NewRegistry()
	files, _ := filepath.Glob("testdata/schemas/*.json")
	custom, _ := filepath.Glob("facets/*.json")
	for _, f := range append(files, custom...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Add(data); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return r
}

// validateEvent checks one emitted event against the core schema (by its schemaURL and
// as a whole), and every facet in it against the schema its _schemaURL names.
func validateEvent(r *jsonschema.Registry, raw []byte) error {
	var ev map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&ev); err != nil {
		return err
	}
	if err := r.Validate(SpecURL, ev); err != nil {
		return fmt.Errorf("OpenLineage.json: %w", err)
	}
	su, _ := ev["schemaURL"].(string)
	if !strings.HasPrefix(su, SpecURL+"#/$defs/") {
		return fmt.Errorf("schemaURL %q is not a 2-0-2 event definition", su)
	}
	if err := r.Validate(su, ev); err != nil {
		return fmt.Errorf("%s: %w", su, err)
	}
	return walkFacets(r, ev, "")
}

func walkFacets(r *jsonschema.Registry, v any, path string) error {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "facets" || k == "inputFacets" || k == "outputFacets" {
				facets, ok := c.(map[string]any)
				if !ok {
					return fmt.Errorf("%s.%s is not an object", path, k)
				}
				for name, f := range facets {
					fm, _ := f.(map[string]any)
					url, _ := fm["_schemaURL"].(string)
					if url == "" {
						return fmt.Errorf("%s.%s.%s has no _schemaURL", path, k, name)
					}
					if err := r.Validate(url, f); err != nil {
						return fmt.Errorf("%s.%s.%s against %s: %w", path, k, name, url, err)
					}
				}
			}
			if err := walkFacets(r, c, path+"."+k); err != nil {
				return err
			}
		}
	case []any:
		for i, c := range x {
			if err := walkFacets(r, c, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestValidatorRejects makes sure the validation used by the other tests can fail.
func TestValidatorRejects(t *testing.T) {
	r := registry(t)
	good := `{"eventTime":"2026-11-26T06:00:00Z","producer":"https://x/y","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
		"eventType":"START","run":{"runId":"3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70","facets":{}},"job":{"namespace":"n","name":"j"},
		"inputs":[],"outputs":[{"namespace":"powerbi","name":"a/b","facets":{"schema":{"_producer":"https://x","_schemaURL":"https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet","fields":[{"name":"c","type":"Int64"}]}}}]}`
	if err := validateEvent(r, []byte(good)); err != nil {
		t.Fatalf("good event rejected: %v", err)
	}
	for name, bad := range map[string]string{
		"event type":     strings.Replace(good, `"START"`, `"BEGIN"`, 1),
		"run id":         strings.Replace(good, `3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70`, `run-1`, 1),
		"event time":     strings.Replace(good, `2026-11-26T06:00:00Z`, `yesterday`, 1),
		"producer":       strings.Replace(good, `"producer":"https://x/y"`, `"producer":"pbisync"`, 1),
		"no job":         strings.Replace(good, `"job":{"namespace":"n","name":"j"},`, ``, 1),
		"job name":       strings.Replace(good, `"name":"j"`, `"nme":"j"`, 1),
		"facet producer": strings.Replace(good, `"_producer":"https://x",`, ``, 1),
		"schema field":   strings.Replace(good, `{"name":"c","type":"Int64"}`, `{"type":"Int64"}`, 1),
		"dataset event with run": `{"eventTime":"2026-11-26T06:00:00Z","producer":"https://x","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
			"dataset":{"namespace":"n","name":"d"},"run":{"runId":"3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70"},"job":{"namespace":"n","name":"j"}}`,
	} {
		if err := validateEvent(r, []byte(bad)); err == nil {
			t.Errorf("%s: a bad event passed", name)
		}
	}
}

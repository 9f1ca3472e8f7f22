package openlineage

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemas validates against OpenLineage's published schemas (testdata/schemas, see its
// README) and pbisync's own facet schemas (facets/), with a maintained JSON Schema
// validator (draft 2020-12, formats asserted). Only these files are known: a URL that
// names anything else fails to compile, so an unpublished _schemaURL cannot pass.
type schemas struct {
	c     *jsonschema.Compiler
	mu    sync.Mutex
	byURL map[string]*jsonschema.Schema
	ids   map[string]bool
}

func registry(t testing.TB) *schemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	r := &schemas{c: c, byURL: map[string]*jsonschema.Schema{}, ids: map[string]bool{}}
	for _, dir := range []string{"testdata/schemas", "facets"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			id, _ := doc.(map[string]any)["$id"].(string)
			if id == "" {
				return fmt.Errorf("%s has no $id", path)
			}
			r.ids[id] = true
			return c.AddResource(id, doc)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// noLoader refuses every URL that is not one of the added resources.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not a published schema this test knows (testdata/schemas, facets/)", url)
}

func (r *schemas) validate(url string, v any) error {
	r.mu.Lock()
	sch, ok := r.byURL[url]
	if !ok {
		var err error
		if sch, err = r.c.Compile(url); err != nil {
			r.mu.Unlock()
			return err
		}
		r.byURL[url] = sch
	}
	r.mu.Unlock()
	return sch.Validate(v)
}

// validateEvent checks one emitted event against the core schema (as a whole and by its
// schemaURL), and every facet in it against the schema its _schemaURL names.
func validateEvent(r *schemas, raw []byte) error {
	ev, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := r.validate(SpecURL, ev); err != nil {
		return fmt.Errorf("OpenLineage.json: %w", err)
	}
	su, _ := ev.(map[string]any)["schemaURL"].(string)
	if !strings.HasPrefix(su, SpecURL+"#/$defs/") {
		return fmt.Errorf("schemaURL %q is not a 2-0-2 event definition", su)
	}
	if err := r.validate(su, ev); err != nil {
		return fmt.Errorf("%s: %w", su, err)
	}
	return walkFacets(r, ev, "")
}

func walkFacets(r *schemas, v any, path string) error {
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
					if err := r.validate(url, f); err != nil {
						return fmt.Errorf("%s.%s.%s against %s: %w", path, k, name, url, err)
					}
					if strings.HasPrefix(url, CustomFacetsBase) && !strings.HasPrefix(name, "pbisync_") {
						return fmt.Errorf("%s.%s.%s: a custom facet's key must be pbisync_<name>", path, k, name)
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
		"inputs":[],"outputs":[{"namespace":"powerbi","name":"a/b","facets":{"schema":{"_producer":"https://x","_schemaURL":"https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet","fields":[{"name":"c","type":"Int64"}]}}}]}`
	if err := validateEvent(r, []byte(good)); err != nil {
		t.Fatalf("good event rejected: %v", err)
	}
	for name, bad := range map[string]string{
		"event type":             strings.Replace(good, `"START"`, `"BEGIN"`, 1),
		"run id":                 strings.Replace(good, `3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70`, `run-1`, 1),
		"event time":             strings.Replace(good, `2026-11-26T06:00:00Z`, `yesterday`, 1),
		"producer":               strings.Replace(good, `"producer":"https://x/y"`, `"producer":"pbisync"`, 1),
		"no job":                 strings.Replace(good, `"job":{"namespace":"n","name":"j"},`, ``, 1),
		"job name":               strings.Replace(good, `"name":"j"`, `"nme":"j"`, 1),
		"facet producer":         strings.Replace(good, `"_producer":"https://x",`, ``, 1),
		"schema field":           strings.Replace(good, `{"name":"c","type":"Int64"}`, `{"type":"Int64"}`, 1),
		"unpublished schema URL": strings.Replace(good, `1-2-0/SchemaDatasetFacet.json`, `1-1-1/SchemaDatasetFacet.json`, 1),
		"the old lineage URL": strings.Replace(good, `https://openlineage.io/spec/facets/1-2-0/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet`,
			`https://openlineage.io/spec/facets/1-0-0/LineageDatasetFacet.json#/$defs/LineageDatasetFacet`, 1),
		"dataset event with run": `{"eventTime":"2026-11-26T06:00:00Z","producer":"https://x","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
			"dataset":{"namespace":"n","name":"d"},"run":{"runId":"3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70"},"job":{"namespace":"n","name":"j"}}`,
	} {
		if err := validateEvent(r, []byte(bad)); err == nil {
			t.Errorf("%s: a bad event passed", name)
		}
	}
}

// TestSchemaURLsArePublished checks every schema URL the sink names against the $ids of
// the published files, and the custom ones against an immutable address.
func TestSchemaURLsArePublished(t *testing.T) {
	r := registry(t)
	for _, u := range []string{SpecURL, schemaFacetURL, sourceFacetURL, docFacetURL, ownerFacetURL, lineageFacetURL,
		columnLineageFacetURL, lifecycleFacetURL, errorFacetURL, jobTypeFacetURL, nominalFacetURL, assetFacetURL, refreshFacetURL} {
		doc, _, _ := strings.Cut(u, "#")
		if !r.ids[doc] {
			t.Errorf("%s is not the $id of a schema in testdata/schemas or facets/", doc)
		}
		if _, err := r.c.Compile(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, branch := range []string{"/main/", "/master/", "/tree/"} {
		if strings.Contains(CustomFacetsBase, branch) {
			t.Errorf("custom facet schemas must be addressed by a tag or commit, not %q: %s", branch, CustomFacetsBase)
		}
	}
}

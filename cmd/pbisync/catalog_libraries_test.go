package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/internal/pyenv"
)

// The catalogs' own Python libraries (pinned in requirements-test.txt) check what the
// DataHub and OpenLineage sinks write: every MCP through DataHub's SDK
// (plugins/sinks/datahub/testdata/validate_mcps.py), every OpenLineage event through the
// OpenLineage client and the published schemas
// (plugins/sinks/openlineage/testdata/validate_events.py).

const (
	validateMCPs   = "../../plugins/sinks/datahub/testdata/validate_mcps.py"
	validateEvents = "../../plugins/sinks/openlineage/testdata/validate_events.py"
	olSchemas      = "../../plugins/sinks/openlineage/testdata/schemas"
	olFacets       = "../../plugins/sinks/openlineage/facets"
)

func checkWithCatalogLibraries(t *testing.T, out string) {
	t.Helper()
	checkFilesWithCatalogLibraries(t, filepath.Join(out, "datahub-mcps.json"), filepath.Join(out, "openlineage.jsonl"))
}

// checkFilesWithCatalogLibraries checks a DataHub file of MCPs and an OpenLineage file of
// events with the catalogs' libraries.
func checkFilesWithCatalogLibraries(t *testing.T, mcps, events string) {
	t.Helper()
	for _, args := range [][]string{
		{validateMCPs, mcps},
		{validateEvents, events, olSchemas, olFacets},
	} {
		report := pyenv.Run(t, ".", args...)
		lines := strings.Split(strings.TrimSpace(string(report)), "\n")
		t.Logf("%s: %s", filepath.Base(args[0]), lines[len(lines)-1])
	}
}

// TestCatalogsExampleWithCatalogLibraries runs examples/catalogs and checks its DataHub
// and OpenLineage output with DataHub's and OpenLineage's own libraries.
func TestCatalogsExampleWithCatalogLibraries(t *testing.T) {
	pyenv.Python(t)
	dir := t.TempDir()
	b, err := os.ReadFile("../../examples/catalogs/pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(f, []byte(strings.Replace(string(b), "poll: {initial: 500ms}", "poll: {initial: 50ms, max: 200ms}", 1)), 0o644)
	if code, _, errOut := cli(t, "run", "-f", f); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkWithCatalogLibraries(t, filepath.Join(dir, "out"))
}

// TestGeneratedTenantWithCatalogLibraries syncs a generated 100-workspace tenant to both
// sinks and checks all of it with the catalogs' libraries.
func TestGeneratedTenantWithCatalogLibraries(t *testing.T) {
	if testing.Short() {
		t.Skip("100 workspaces")
	}
	pyenv.Python(t)
	dir := t.TempDir()
	yml := `version: 1
name: generated-catalogs
state_dir: .pbisync
sources:
  - name: generated
    emulator: {tenant: generated, generated: {seed: 12, workspaces: 100}}
outputs:
  - name: datahub
    datahub: {file: out/datahub-mcps.json, datasets_to_containers: true}
  - name: openlineage
    openlineage: {file: out/openlineage.jsonl}
`
	f := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(f, []byte(yml), 0o644)
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK && code != exitProblems {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkWithCatalogLibraries(t, filepath.Join(dir, "out"))
}

// TestCatalogLibrariesReject makes sure the two checks can fail: a broken MCP and a broken
// event each make them exit non-zero.
func TestCatalogLibrariesReject(t *testing.T) {
	py := pyenv.Python(t)
	dir := t.TempDir()
	mcps := filepath.Join(dir, "bad.json")
	os.WriteFile(mcps, []byte(`[{"entityType":"dataset","entityUrn":"urn:li:dataset:(urn:li:dataPlatform:powerbi,m.t,PROD)","changeType":"UPSERT","aspectName":"chartInfo",
	  "aspect":{"json":{"title":"x","description":"x","lastModified":{"created":{"time":0,"actor":"urn:li:corpuser:unknown"},"lastModified":{"time":0,"actor":"urn:li:corpuser:unknown"}}}}},
	 {"entityType":"dataset","entityUrn":"urn:li:dataset:(urn:li:dataPlatform:powerbi,m.t,PROD)","changeType":"UPSERT","aspectName":"status","aspect":{"json":{"removed":"no"}}}]`), 0o644)
	events := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(events, []byte(`{"eventTime":"2026-11-26T06:00:00Z","producer":"https://x","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent","dataset":{"namespace":"n","name":"d","facets":{"schema":{"_producer":"https://x","_schemaURL":"https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet","fields":[]}}}}
{"eventTime":"2026-11-26T06:00:00Z","producer":"https://x","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent","dataset":{"namespace":"n","name":"d","facets":{"lineage":{"_producer":"https://x","_schemaURL":"https://openlineage.io/spec/facets/1-0-0/LineageDatasetFacet.json#/$defs/LineageDatasetFacet","inputs":[]}}}}
`), 0o644)
	for _, args := range [][]string{{validateMCPs, mcps}, {validateEvents, events, olSchemas, olFacets}} {
		out, err := exec.Command(py, args...).CombinedOutput()
		if err == nil {
			t.Errorf("%s accepted a broken file:\n%s", filepath.Base(args[0]), out)
			continue
		}
		if !strings.Contains(string(out), "2 problems") && !strings.Contains(string(out), "3 problems") {
			t.Errorf("%s: want each bad line named:\n%s", filepath.Base(args[0]), out)
		}
	}
}

// TestIncrementalOutputsWithCatalogLibraries: after an incremental sync that fed the DataHub
// and OpenLineage files the unchanged assets from the estate, the catalogs' own libraries
// accept every MCP and every event.
func TestIncrementalOutputsWithCatalogLibraries(t *testing.T) {
	pyenv.Python(t)
	srv := incrementalTenant(t)
	dir := t.TempDir()
	f := incrementalPipeline(t, srv, dir, "")
	syncRequests(t, srv, "-f", f)
	srv.Age(time.Hour)
	srv.ModifyWorkspaces(2)
	srv.AddWorkspace()
	if req := syncRequests(t, srv, "-f", f); req["POST /admin/workspaces/getInfo"] != 1 {
		t.Fatalf("the second sync was not incremental: %v", req)
	}
	checkFilesWithCatalogLibraries(t, filepath.Join(dir, "out", "mcps.json"), filepath.Join(dir, "out", "openlineage.jsonl"))
}

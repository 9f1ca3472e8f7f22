package main

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestCatalogsExample runs examples/catalogs as a user would (from its folder, every
// built-in sink a real plugin process) and looks into what each sink wrote.
func TestCatalogsExample(t *testing.T) {
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
	out := filepath.Join(dir, "out")

	db, err := sql.Open("sqlite", filepath.Join(out, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM assets`).Scan(&n); err != nil || n != 27 {
		t.Errorf("sqlite catalog: %d assets, %v (want the sample tenant's 27)", n, err)
	}

	var mcps []map[string]any
	b, _ = os.ReadFile(filepath.Join(out, "datahub-mcps.json"))
	if err := json.Unmarshal(b, &mcps); err != nil || len(mcps) == 0 {
		t.Fatalf("datahub file: %v (%d proposals)", err, len(mcps))
	}
	snowflakeLineage := false
	for _, m := range mcps {
		if m["aspectName"] == "upstreamLineage" && strings.Contains(string(mustJSON(m)), "dataPlatform:snowflake,sales_db.public.orders") {
			snowflakeLineage = true
		}
	}
	if !snowflakeLineage {
		t.Error("datahub: no table of Sales Model has its Snowflake upstream")
	}
	if !strings.Contains(string(b), `"fineGrainedLineages"`) {
		t.Error("datahub: no column-level lineage")
	}

	ol, _ := os.Open(filepath.Join(out, "openlineage.jsonl"))
	defer ol.Close()
	states := map[string]bool{}
	snowflakeInput, columnLineage := false, false
	sc := bufio.NewScanner(ol)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("openlineage line: %v", err)
		}
		if typ, ok := ev["eventType"].(string); ok {
			states[typ] = true
		}
		if strings.Contains(sc.Text(), `"namespace":"snowflake://xy12345.eu-west-1.aws"`) {
			snowflakeInput = true
		}
		if strings.Contains(sc.Text(), `"columnLineage"`) {
			columnLineage = true
		}
	}
	if !columnLineage {
		t.Error("openlineage: no column-level lineage")
	}
	if !snowflakeInput {
		t.Error("openlineage: Sales Model's table does not read its Snowflake table")
	}
	if !states["START"] || !states["COMPLETE"] {
		t.Errorf("openlineage: run events %v, want START and COMPLETE of the refresh", states)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

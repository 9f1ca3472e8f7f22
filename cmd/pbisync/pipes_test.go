package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/pipes"
)

// TestRefreshUnderPipes runs `pbisync refresh` with a Dagster Pipes bootstrap
// environment, as PipesSubprocessClient sets it, and reads the messages it wrote. (The
// Python tests of sdk/python/dagster-pbisync run the same under real Dagster.)
func TestRefreshUnderPipes(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "p.yaml")
	writeFile(t, pipe, "version: 1\nsources:\n  - name: sample\n    emulator: {tenant: sample}\n"+
		"outputs:\n  - name: x\n    jsonl: {path: out.jsonl}\nrefresh: {poll: {initial: 200ms, factor: 1.5, max: 1s}}\n")
	msgs := filepath.Join(dir, "messages.jsonl")
	ctx, _ := pipes.EncodeParams(map[string]any{"data": map[string]any{
		"asset_keys": []string{"semantic_model/Sales_Model", "semantic_model/Nope"}, "run_id": "r1", "extras": map[string]any{},
	}})
	m, _ := pipes.EncodeParams(map[string]any{"path": msgs})
	t.Setenv(pipes.ContextEnv, ctx)
	t.Setenv(pipes.MessagesEnv, m)

	// One asset key names no model: pbisync says so, and the session closes with it.
	code, out, errOut := cli(t, "refresh", "-f", pipe)
	if code == exitOK {
		t.Fatalf("refresh of an unknown model succeeded\n%s%s", out, errOut)
	}
	closed := lastMessage(t, msgs)
	if closed["method"] != "closed" || !strings.Contains(closed["params"].(map[string]any)["exception"].(map[string]any)["message"].(string), `no semantic model is named "semantic_model/Nope"`) {
		t.Fatalf("closing message = %v", closed)
	}

	os.Remove(msgs)
	ctx, _ = pipes.EncodeParams(map[string]any{"data": map[string]any{
		"asset_keys": []string{"semantic_model/Sales_Model"}, "run_id": "r2", "extras": map[string]any{},
	}})
	t.Setenv(pipes.ContextEnv, ctx)
	if code, out, errOut := cli(t, "refresh", "-f", pipe); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var mat map[string]any
	for _, msg := range readLines(t, msgs) {
		if msg["method"] == "report_asset_materialization" {
			mat = msg["params"].(map[string]any)
		}
	}
	if mat == nil || mat["asset_key"] != "semantic_model/Sales_Model" {
		t.Fatalf("materialization = %v", mat)
	}
	md := mat["metadata"].(map[string]any)
	if md[pipes.MetaStatus].(map[string]any)["raw_value"] != "completed" || md[pipes.MetaRequestID].(map[string]any)["raw_value"] == "" {
		t.Errorf("metadata = %v", md)
	}
	if last := lastMessage(t, msgs); last["method"] != "closed" || len(last["params"].(map[string]any)) != 0 {
		t.Errorf("closing message = %v", last)
	}
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func lastMessage(t *testing.T, path string) map[string]any {
	t.Helper()
	lines := readLines(t, path)
	if len(lines) == 0 {
		t.Fatal("no messages")
	}
	return lines[len(lines)-1]
}

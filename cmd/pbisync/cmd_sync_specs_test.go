package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSyncSpecsOut checks --source and --specs-out: the specs file holds the final specs
// of the chosen source, and a sync that fails leaves the previous file alone.
func TestSyncSpecsOut(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "p.yaml")
	writeFile(t, pipe, "version: 1\nsources:\n"+
		"  - name: sample\n    emulator: {tenant: sample}\n"+
		"  - name: other\n    emulator: {tenant: generated, generated: {workspaces: 2}}\n"+
		"outputs:\n  - name: x\n    jsonl: {path: out.jsonl}\n")
	specs := filepath.Join(dir, "cache", "specs.jsonl")
	if code, out, errOut := cli(t, "sync", "-f", pipe, "--source", "sample", "--specs-out", specs); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	sample := workspacesIn(t, specs)
	other := filepath.Join(dir, "cache", "other.jsonl")
	if code, out, errOut := cli(t, "sync", "-f", pipe, "--source", "other", "--specs-out", other); code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	generated := workspacesIn(t, other)
	if len(sample) < 4 || len(generated) != 2 {
		t.Fatalf("workspaces %v and %v; want the sample tenant's and the 2 generated ones", sample, generated)
	}
	for w := range generated {
		if sample[w] {
			t.Errorf("workspace %q of source other is in source sample's specs", w)
		}
	}
	if _, err := os.Stat(specs + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	before, _ := os.ReadFile(specs)

	code, _, errOut := cli(t, "sync", "-f", pipe, "--source", "nope", "--specs-out", specs)
	if code != exitUsage || !strings.Contains(errOut, `no source named "nope"`) {
		t.Errorf("unknown source: exit %d\n%s", code, errOut)
	}
	// A source that cannot be read: the sync fails and the specs file stays as it was.
	writeFile(t, pipe, "version: 1\nsources:\n  - name: sample\n    powerbi:\n      api_url: http://127.0.0.1:9/v1.0/myorg\n"+
		"      credentials: {token: t}\n      retry: {max_attempts: 1}\noutputs:\n  - name: x\n    jsonl: {path: out.jsonl}\n")
	if code, _, _ := cli(t, "sync", "-f", pipe, "--specs-out", specs); code == exitOK {
		t.Fatal("a sync from a closed port succeeded")
	}
	if after, _ := os.ReadFile(specs); string(after) != string(before) {
		t.Error("a failed sync replaced the specs file")
	}
}

// workspacesIn returns the workspace names of the specs in a JSON Lines file.
func workspacesIn(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	workspaces := map[string]bool{}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var s struct {
			PowerBI struct{ WorkspaceName string } `json:"powerbi"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%s:%d: %v", path, n+1, err)
		}
		if s.PowerBI.WorkspaceName != "" {
			workspaces[s.PowerBI.WorkspaceName] = true
		}
	}
	return workspaces
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A sub-resource the service refuses (every report's pages, here) costs only that
// part of each report: the sync finishes, keeps the reports, and exits 3 naming the
// problem.
func TestSourceProblemsExitThree(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "pipeline.yaml")
	doc := "version: 1\nsources:\n  - name: emu\n    emulator: {scanner: false, quirks: [not-found=pages, rdl-pages-400]}\n" +
		"outputs:\n  - {name: specs, jsonl: {path: " + filepath.Join(dir, "specs.jsonl") + ", format: specs}}\n"
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "sync", "-f", f)
	if code != exitProblems {
		t.Fatalf("exit %d, want %d: %s", code, exitProblems, errOut)
	}
	if !strings.Contains(errOut, "GET /groups/{id}/reports/{id}/pages: 404") {
		t.Errorf("the refused pages are not reported:\n%s", errOut)
	}
	specs, err := os.ReadFile(filepath.Join(dir, "specs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(specs), `"type":"report"`); n != 9 {
		t.Errorf("%d reports written, want the 9 of the synced workspaces", n)
	}
}

func TestEmulateQuirkFlag(t *testing.T) {
	code, out, errOut := cli(t, "emulate", "--quirk", "status-casing=title")
	if code != exitUsage || !strings.Contains(out+errOut, "status-casing must be upper or lower") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
	if code, out, errOut := cli(t, "emulate", "--help"); !strings.Contains(out+errOut, "rdl-pages-400") {
		t.Errorf("the quirks are not listed in the help (exit %d): %s%s", code, out, errOut)
	}
}

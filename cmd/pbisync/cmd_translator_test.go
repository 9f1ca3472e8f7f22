package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runTranslator(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	g := &globals{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	root := &command{name: "pbisync", sub: []*command{translatorCommand()}}
	code := dispatch(context.Background(), root, args, g, "pbisync")
	return code, out.String(), errb.String()
}

func TestTranslatorTestCommand(t *testing.T) {
	records := "../../core/translate/testdata/records.jsonl"
	nocode := filepath.Join(t.TempDir(), "tidy.yaml")
	_ = os.WriteFile(nocode, []byte("name: tidy\ntranslation:\n  - match: {type: report}\n    group: sales\n"), 0o644)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"no-code diff", []string{"translator", "test", "--records", records, "--translator", nocode, "--changed"}, exitOK,
			"+ group: \"sales\""},
		{"wasm with problems", []string{"translator", "test", "--records", records, "--translator", "../../core/translate/testdata/wat/trap.wasm"}, exitProblems,
			"! failed: trap: wasm error: unreachable"},
		{"expect mismatch", []string{"translator", "test", "--records", records, "--translator", nocode, "--expect", records}, exitError, ""},
		{"missing flags", []string{"translator", "test", "--records", records}, exitUsage, ""},
		{"bad config", []string{"translator", "test", "--records", records, "--translator", "../../core/translate/testdata/wat/noop.wasm", "--config", "{a: [}"}, exitUsage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runTranslator(t, append(tt.args, "--cache-dir", t.TempDir())...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			if !strings.Contains(out, tt.contains) {
				t.Fatalf("stdout lacks %q:\n%s", tt.contains, out)
			}
		})
	}
}

func TestTranslatorNewCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "t")
	code, out, errs := runTranslator(t, "translator", "new", "--lang", "c", "--dir", dir, "tagger")
	if code != exitOK || !strings.Contains(out, "created c translator tagger") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, f := range []string{"tagger.c", "pbisync.h", "build.sh", "test.sh", "README.md", "testdata/expected.jsonl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if code, _, _ := runTranslator(t, "translator", "new", "--lang", "c", "--dir", dir, "tagger"); code != exitUsage {
		t.Errorf("second scaffold into the same dir: exit %d, want %d", code, exitUsage)
	}
}

package translate

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScaffold scaffolds a translator in each language, builds it with its build.sh and
// checks it produces its testdata/expected.jsonl, as its test.sh does.
func TestScaffold(t *testing.T) {
	sdk, _ := filepath.Abs("../..")
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			requireToolchain(t, lang)
			dir := filepath.Join(t.TempDir(), "tagger")
			if _, err := Scaffold(dir, lang, "my-tagger", ScaffoldOptions{SDKDir: sdk}); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("./build.sh", "out.wasm")
			cmd.Dir = dir
			if lang == "assemblyscript" { // reuse the kit's compiler instead of npm ci
				if err := os.Symlink(filepath.Join(sdk, "sdk/translator/assemblyscript/node_modules"), filepath.Join(dir, "node_modules")); err != nil {
					t.Fatal(err)
				}
			}
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("build.sh: %v\n%s", err, b)
			}
			f, _ := os.Open(filepath.Join(dir, "testdata/records.jsonl"))
			recs, err := ReadRecords(f, "records.jsonl")
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			entry, err := EntryForTarget(filepath.Join(dir, "out.wasm"), "", "")
			if err != nil {
				t.Fatal(err)
			}
			rep, err := TestRun(context.Background(), recs, entry, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			_ = WriteRecords(&got, rep.Output())
			want, _ := os.ReadFile(filepath.Join(dir, "testdata/expected.jsonl"))
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("scaffold output differs:\n%s", firstDiff(got.Bytes(), want))
			}
		})
	}
}

func TestScaffoldRefuses(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	tests := []struct{ dir, lang, name, want string }{
		{t.TempDir(), "cobol", "a", `language "cobol"`},
		{t.TempDir(), "c", "Bad Name", "use lower-case letters"},
		{dir, "c", "a", "exists and is not empty"},
	}
	for _, tt := range tests {
		if _, err := Scaffold(tt.dir, tt.lang, tt.name, ScaffoldOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Scaffold(%s, %s) = %v, want %q", tt.lang, tt.name, err, tt.want)
		}
	}
}

func TestTestRunDiff(t *testing.T) {
	entry, err := EntryForTarget("testdata/wat/garbage.wasm", "garbage", "")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := TestRun(context.Background(), numbered(8), entry, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WriteDiff(&b, false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"translator garbage: 8 assets, 0 changed, 1 dropped, 6 failed",
		"dashboard \"Executive Overview 0\" (id 0) in workspace \"Sales & Finance\"\n  ! failed: set_json(SPEC): invalid character",
		"(id 6) in workspace \"Sales & Finance\"\n  - dropped",
		"(id 7) in workspace \"Sales & Finance\"\n  = unchanged",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if rep.Failed() != 6 || len(rep.Output()) != 1 {
		t.Errorf("failed %d, output %d", rep.Failed(), len(rep.Output()))
	}
}

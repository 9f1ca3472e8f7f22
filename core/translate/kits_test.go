package translate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pbisync/pbisync/core/record"
)

// The four kit languages. Each builds with a toolchain from .ci/install-wasm.sh.
var kitLangs = []string{"go", "c", "rust", "assemblyscript"}

const (
	debianRustc = "/usr/bin/rustc"
	ascPath     = "../../sdk/translator/assemblyscript/node_modules/.bin/asc"
)

// requireToolchain fails in CI (CI is set) and skips elsewhere when lang cannot be built.
func requireToolchain(t testing.TB, lang string) {
	t.Helper()
	missing := ""
	switch lang {
	case "go":
		if _, err := exec.LookPath("go"); err != nil {
			missing = "go"
		}
	case "c":
		if _, err := exec.LookPath("clang"); err != nil {
			missing = "clang"
		} else if _, err := os.Stat("/usr/lib/wasm32-wasi/libc.a"); err != nil {
			missing = "wasi-libc"
		}
	case "rust":
		if _, err := os.Stat(filepath.Join("/usr/lib/rustlib/wasm32-unknown-unknown")); err != nil {
			missing = "rustc with libstd-rust-dev-wasm32"
		}
	case "assemblyscript":
		if _, err := os.Stat(ascPath); err != nil {
			missing = "assemblyscript (npm ci in sdk/translator/assemblyscript)"
		}
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s translators cannot be built: %s is missing; CI must run .ci/install-wasm.sh", lang, missing)
	}
	t.Skipf("%s is missing (run .ci/install-wasm.sh); skipping %s", missing, lang)
}

// buildExample runs plugins/translators/<lang>-docs-example/build.sh into a temp file.
func buildExample(t testing.TB, lang string) string {
	t.Helper()
	requireToolchain(t, lang)
	out := filepath.Join(t.TempDir(), lang+".wasm")
	script, _ := filepath.Abs(filepath.Join("../../plugins/translators", lang+"-docs-example", "build.sh"))
	cmd := exec.Command("bash", script, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, b)
	}
	return out
}

// buildNoop builds testdata/noop in lang.
func buildNoop(t testing.TB, lang string) string {
	t.Helper()
	requireToolchain(t, lang)
	dir := t.TempDir()
	out := filepath.Join(dir, "noop.wasm")
	var cmd *exec.Cmd
	switch lang {
	case "go":
		cmd = exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, "./testdata/noop/go")
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	case "c":
		cmd = exec.Command("clang", "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", "-I", "../../sdk/translator/c", "-o", out, "testdata/noop/noop.c")
	case "rust":
		flags := []string{"--edition", "2021", "--target", "wasm32-unknown-unknown", "-C", "opt-level=2", "-C", "panic=abort"}
		rlib := filepath.Join(dir, "libpbisync_translator.rlib")
		if b, err := exec.Command(debianRustc, append(flags, "--crate-type", "rlib", "--crate-name", "pbisync_translator", "-o", rlib, "../../sdk/translator/rust/src/lib.rs")...).CombinedOutput(); err != nil {
			t.Fatalf("rust kit: %v\n%s", err, b)
		}
		cmd = exec.Command(debianRustc, append(flags, "--crate-type", "cdylib", "--extern", "pbisync_translator="+rlib, "-o", out, "testdata/noop/noop.rs")...)
	case "assemblyscript":
		cmd = exec.Command(ascPath, "testdata/noop/noop.ts", "-O3", "--runtime", "incremental", "-o", out)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("noop in %s: %v\n%s", lang, err, b)
	}
	return out
}

func wasmEntry(name, path, extra string) string {
	return fmt.Sprintf("translators:\n  - name: %s\n    wasm: %s\n%s", name, path, extra)
}

func loadRecordsFile(t testing.TB) []record.Record {
	t.Helper()
	f, err := os.Open("testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := ReadRecords(f, "testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestConformance runs the docs example of all four kits over the same records and
// requires byte-identical output, which must also match the golden file.
func TestConformance(t *testing.T) {
	recs := loadRecordsFile(t)
	outputs := map[string][]byte{}
	for _, lang := range kitLangs {
		t.Run(lang, func(t *testing.T) {
			path := buildExample(t, lang)
			c := mustChain(t, wasmEntry(lang+"-docs-example", path, "    config: {prefix: my_prefix}\n"))
			out, probs, err := c.Translate(context.Background(), recs)
			if err != nil || len(probs) > 0 {
				t.Fatal(err, probs)
			}
			var buf bytes.Buffer
			if err := WriteRecords(&buf, out); err != nil {
				t.Fatal(err)
			}
			outputs[lang] = buf.Bytes()
		})
	}
	golden := "testdata/docs_example.golden.jsonl"
	if *update && outputs["go"] != nil {
		if err := os.WriteFile(golden, outputs["go"], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	for lang, got := range outputs {
		if !bytes.Equal(got, want) {
			t.Errorf("%s docs example differs from %s:\n%s", lang, golden, firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range max(len(al), len(bl)) {
		var x, y []byte
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if !bytes.Equal(x, y) {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", i+1, x, y)
		}
	}
	return ""
}

// TestExampleConfigErrors checks each example refuses an empty prefix at start.
func TestExampleConfigErrors(t *testing.T) {
	for _, lang := range kitLangs {
		t.Run(lang, func(t *testing.T) {
			path := buildExample(t, lang)
			_, err := newChain(t, wasmEntry("x", path, "    config: {prefix: \"\"}\n"), Options{})
			want := "pbisync_init refused to start (status 1): config: prefix must not be empty"
			if err == nil || !bytes.Contains([]byte(err.Error()), []byte(want)) {
				t.Fatalf("error %v, want %q", err, want)
			}
		})
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/translate"
)

// buildPBISync builds the real pbisync binary into a temporary directory.
func buildPBISync(t *testing.T) string {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "bin", "pbisync")
	if b, err := exec.Command("go", "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return exe
}

// pathWithoutPBISync is a PATH with Go and the system's tools, and no pbisync.
func pathWithoutPBISync(t *testing.T) string {
	t.Helper()
	goExe, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	path := filepath.Dir(goExe) + ":/usr/bin:/bin"
	for _, d := range filepath.SplitList(path) {
		if _, err := os.Stat(filepath.Join(d, "pbisync")); err == nil {
			t.Fatalf("%s holds a pbisync; the test needs a PATH without one", d)
		}
	}
	return path
}

func runScript(t *testing.T, dir, path string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.CombinedOutput()
	return string(b), err
}

// TestScaffoldRunsAsPrinted makes a Go translator with a real pbisync binary outside
// any pbisync checkout, then runs the printed next step with no pbisync on PATH: it
// passes. After an edit, `./test.sh --update` rewrites the expected output and the
// test passes again.
func TestScaffoldRunsAsPrinted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pbisync and a translator")
	}
	path := pathWithoutPBISync(t)
	exe := buildPBISync(t)
	work := t.TempDir() // outside the checkout: no go.mod above it
	out, err := runScript(t, work, path, nil, exe, "translator", "new", "--lang", "go", "tagger")
	if err != nil {
		t.Fatalf("translator new: %v\n%s", err, out)
	}
	if !strings.Contains(out, "next: cd tagger && ./test.sh") || !strings.Contains(out, exe) {
		t.Errorf("the printout does not give the next step and the pbisync test.sh runs:\n%s", out)
	}
	dir := filepath.Join(work, "tagger")
	if out, err := runScript(t, dir, path, nil, "./test.sh"); err != nil || !strings.Contains(out, "output matches") {
		t.Fatalf("./test.sh as printed: %v\n%s", err, out)
	}
	main := filepath.Join(dir, "main.go")
	src, _ := os.ReadFile(main)
	os.WriteFile(main, []byte(strings.Replace(string(src), `a.SetTag("translated_by", t.name)`, `a.SetTag("translated_by", t.name+"-v2")`, 1)), 0o644)
	if out, err := runScript(t, dir, path, nil, "./test.sh"); err == nil {
		t.Fatalf("./test.sh passed after the translator changed:\n%s", out)
	}
	if out, err := runScript(t, dir, path, nil, "./test.sh", "--update"); err != nil {
		t.Fatalf("./test.sh --update: %v\n%s", err, out)
	}
	if want, _ := os.ReadFile(filepath.Join(dir, "testdata/expected.jsonl")); !strings.Contains(string(want), "tagger-v2") {
		t.Errorf("--update did not write the new output:\n%s", want)
	}
	if out, err := runScript(t, dir, path, nil, "./test.sh"); err != nil {
		t.Fatalf("./test.sh after --update: %v\n%s", err, out)
	}
}

// TestScaffoldWithoutABinary covers a scaffold made by a `go run` pbisync (its binary
// is gone when test.sh runs): test.sh builds pbisync from the checkout it came from;
// with neither, it says exactly what to install.
func TestScaffoldWithoutABinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pbisync and a translator")
	}
	path := pathWithoutPBISync(t)
	checkout := absPath(t, "../..")
	dir := filepath.Join(t.TempDir(), "tagger")
	if _, err := translate.Scaffold(dir, "go", "tagger", translate.ScaffoldOptions{PBISync: filepath.Join(t.TempDir(), "gone"), Checkout: checkout}); err != nil {
		t.Fatal(err)
	}
	if out, err := runScript(t, dir, path, nil, "./test.sh"); err != nil || !strings.Contains(out, "output matches") {
		t.Fatalf("./test.sh: %v\n%s", err, out)
	}
	lost := filepath.Join(t.TempDir(), "lost")
	if _, err := translate.Scaffold(lost, "go", "lost", translate.ScaffoldOptions{}); err != nil {
		t.Fatal(err)
	}
	out, err := runScript(t, lost, path, nil, "./test.sh")
	if err == nil || !strings.Contains(out, "no pbisync to run: set PBISYNC=/path/to/pbisync") {
		t.Fatalf("want test.sh to say what to install: %v\n%s", err, out)
	}
}

func TestIsGoRunBinary(t *testing.T) {
	tmp, _ := filepath.EvalSymlinks(os.TempDir())
	for _, tt := range []struct {
		exe  string
		want bool
	}{
		{filepath.Join(tmp, "go-build123", "b001", "exe", "pbisync"), true},
		{"/usr/local/bin/pbisync", false},
		{filepath.Join(tmp, "pbisync-bin", "pbisync"), false},
	} {
		if got := isGoRunBinary(tt.exe); got != tt.want {
			t.Errorf("isGoRunBinary(%s) = %v", tt.exe, got)
		}
	}
}

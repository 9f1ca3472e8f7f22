// Package pyenv finds the Python of the test virtual environment that test.sh creates
// (requirements-test.txt pinned into .venv), for Go tests that check pbisync's output with
// the real Python libraries of its counterparts (Dagster, DataHub, OpenLineage).
package pyenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Python returns the virtual environment's interpreter: $PBISYNC_PYTHON, or .venv/bin/python
// at the module root. Outside CI a test without it is skipped; in CI (CI=true) it fails, so a
// missing install step cannot pass unseen.
func Python(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("PBISYNC_PYTHON"); p != "" {
		return p
	}
	if root, err := moduleRoot(); err == nil {
		p := filepath.Join(root, ".venv", "bin", "python")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("no test virtual environment: run `bash test.sh` (it creates .venv from requirements-test.txt)")
	}
	tb.Skip("no test virtual environment (.venv); `bash test.sh` creates it")
	return ""
}

// Run runs the environment's Python with args and returns its combined output, failing
// the test with that output when Python exits non-zero.
func Run(tb testing.TB, dir string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(Python(tb), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("python %v: %v\n%s", args, err, out)
	}
	return out
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

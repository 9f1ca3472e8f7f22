package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

func TestGoPackageHash(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("tr/main.go", "package main\n\nimport _ \"example.com/m/lib\"\n\nfunc main() {}\n")
	write("lib/lib.go", "package lib\n")
	hash := func() string {
		h := sha256.New()
		if err := hashPackage(h, root, "example.com/m", filepath.Join(root, "tr"), map[string]bool{}); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	base := hash()
	write("tr/main_test.go", "package main\n")
	if hash() != base {
		t.Error("a test file changed the build hash")
	}
	write("lib/lib.go", "package lib\n\nconst X = 1\n")
	if hash() == base {
		t.Error("a change in an imported package of the module kept the build hash")
	}
	if _, mod, err := findModule(filepath.Join(root, "tr")); err != nil || mod != "example.com/m" {
		t.Errorf("findModule: %q %v", mod, err)
	}
}

// TestGoPackageBuildIsCached loads the Go example twice with one cache: the second load
// reuses the built module.
func TestGoPackageBuildIsCached(t *testing.T) {
	requireToolchain(t, "go")
	cache := t.TempDir()
	for range 2 {
		c, err := newChain(t, goDocsExample, Options{CacheDir: cache})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close(t.Context())
	}
	built, _ := filepath.Glob(filepath.Join(cache, "gobuild", "*.wasm"))
	if len(built) != 1 {
		t.Fatalf("want one cached build, got %v", built)
	}
	st, _ := os.Stat(built[0])
	c, err := newChain(t, goDocsExample, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(t.Context())
	if st2, _ := os.Stat(built[0]); !st2.ModTime().Equal(st.ModTime()) {
		t.Error("the cached build was rebuilt")
	}
}

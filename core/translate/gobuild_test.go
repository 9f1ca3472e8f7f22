package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestGoPackageHash: the build key follows every file the build reads, including a kit
// reached through a replace directive (the layout `translator new --lang go --sdk`
// makes), and ignores files the build does not read.
func TestGoPackageHash(t *testing.T) {
	requireToolchain(t, "go")
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("m/go.mod", "module example.com/m\n\ngo 1.24\n\nrequire example.com/kit v0.0.0\n\nreplace example.com/kit => ../kit\n")
	write("m/tr/main.go", "package main\n\nimport (\n\t_ \"example.com/kit\"\n\t_ \"example.com/m/lib\"\n)\n\nfunc main() {}\n")
	write("m/lib/lib.go", "package lib\n")
	write("kit/go.mod", "module example.com/kit\n\ngo 1.24\n")
	write("kit/kit.go", "package kit\n")
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	hash := func() string {
		h := sha256.New()
		if err := hashDeps(t.Context(), h, "go", filepath.Join(root, "m", "tr"), env); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	base := hash()
	write("m/tr/main_test.go", "package main\n")
	write("kit/README.md", "not read by the build\n")
	if hash() != base {
		t.Error("a test file or a README changed the build hash")
	}
	for _, change := range []struct{ file, body string }{
		{"m/lib/lib.go", "package lib\n\nconst X = 1\n"},
		{"kit/kit.go", "package kit\n\nconst Y = 2\n"},
		{"kit/go.mod", "module example.com/kit\n\ngo 1.25\n"},
	} {
		write(change.file, change.body)
		if h := hash(); h == base {
			t.Errorf("a change of %s kept the build hash", change.file)
		} else {
			base = h
		}
	}
	if _, mod, err := findModule(filepath.Join(root, "m", "tr")); err != nil || mod != "example.com/m" {
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

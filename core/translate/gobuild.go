package translate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/parser"
	"go/token"
	"hash"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// buildGoPackage builds a Go package directory for wasip1 (c-shared, so it is a reactor
// exporting _initialize) into the cache, keyed by a hash of the Go version and of the
// sources of the package and of the packages it imports from its own module. A second
// run with unchanged sources does not start the compiler.
func buildGoPackage(ctx context.Context, dir string, opts *Options) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", fmt.Errorf("go_package %s: not a directory", dir)
	}
	gocmd := opts.GoCommand
	if gocmd == "" {
		gocmd = "go"
	}
	ver, err := exec.CommandContext(ctx, gocmd, "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("go_package %s needs the Go toolchain (%s env GOVERSION: %v); build the module yourself and use wasm: instead", dir, gocmd, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\nwasip1/wasm c-shared trimpath\n", bytes.TrimSpace(ver))
	root, modPath, err := findModule(abs)
	if err != nil {
		return "", fmt.Errorf("go_package %s: %w", dir, err)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		hashFile(h, root, filepath.Join(root, f))
	}
	if err := hashPackage(h, root, modPath, abs, map[string]bool{}); err != nil {
		return "", fmt.Errorf("go_package %s: %w", dir, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	cache, err := opts.cacheDir()
	if err != nil {
		return "", err
	}
	if cache == "" {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "gobuild", sum[:32]+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp := out + ".tmp" + strconv.Itoa(os.Getpid())
	cmd := exec.CommandContext(ctx, gocmd, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	opts.logger().Info("building Go translator for wasip1", "package", dir)
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("building go_package %s for wasip1: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

// findModule walks up from dir to the go.mod and returns its directory and module path.
func findModule(dir string) (string, string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for line := range strings.SplitSeq(string(data), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
					return d, strings.Trim(strings.TrimSpace(rest), `"`), nil
				}
			}
			return "", "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no go.mod in %s or above it", dir)
		}
	}
}

func hashFile(h hash.Hash, root, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	rel, _ := filepath.Rel(root, path)
	fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
	h.Write(data)
}

// hashPackage hashes a package's files (not tests) and, recursively, the packages it
// imports from the same module.
func hashPackage(h hash.Hash, root, modPath, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var imports []string
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, "_test.go") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		hashFile(h, root, path)
		if strings.HasSuffix(name, ".go") {
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				imports = append(imports, p)
			}
		}
	}
	slices.Sort(imports)
	for _, p := range slices.Compact(imports) {
		if rest, ok := strings.CutPrefix(p, modPath+"/"); ok {
			if err := hashPackage(h, root, modPath, filepath.Join(root, filepath.FromSlash(rest)), seen); err != nil {
				return err
			}
		}
	}
	return nil
}

package translate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// buildGoPackage builds a Go package directory for wasip1 (c-shared, so it is a reactor
// exporting _initialize) into the cache, keyed by everything the build reads: the Go
// version and build settings, and the content of every file of every non-standard
// package `go list -deps` names, wherever it lives (the module, a `replace`d directory
// such as a kit next to it, the module cache), with the go.mod and go.sum files of
// their modules. A second run with unchanged inputs does not start the compiler.
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
	env := append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	goEnv := exec.CommandContext(ctx, gocmd, "env", "GOVERSION", "GOFLAGS", "GOEXPERIMENT", "GOWASM", "GOROOT")
	goEnv.Env = env
	ver, err := goEnv.Output()
	if err != nil {
		return "", fmt.Errorf("go_package %s needs the Go toolchain (%s env GOVERSION: %v); build the module yourself and use wasm: instead", dir, gocmd, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\nwasip1/wasm c-shared trimpath\n", bytes.TrimSpace(ver))
	if err := hashDeps(ctx, h, gocmd, abs, env); err != nil {
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
	cmd.Env = env
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

// listedPackage is what hashDeps reads of `go list -json`.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	EmbedFiles []string
	OtherFiles []string
	SFiles     []string
	Module     *listedModule
	Error      *struct{ Err string }
}

type listedModule struct {
	Path, Version, Dir, GoMod string
	Replace                   *listedModule
}

// hashDeps hashes every file the build of the package in dir reads, as `go list -deps`
// reports them for wasip1: each non-standard package's import path, directory and
// files (content), and each module's go.mod and go.sum (content). Standard packages
// are covered by the Go version and GOROOT in the key.
func hashDeps(ctx context.Context, h hash.Hash, gocmd, dir string, env []string) error {
	cmd := exec.CommandContext(ctx, gocmd, "list", "-deps", "-json=ImportPath,Dir,Standard,GoFiles,CgoFiles,EmbedFiles,OtherFiles,SFiles,Module,Error", ".")
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go list -deps: %v\n%s", err, strings.TrimSpace(stderr.String()))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	modules := map[string]bool{}
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("go list -deps: %w", err)
		}
		if p.Error != nil {
			return fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.Standard {
			continue
		}
		fmt.Fprintf(h, "package %s %s\n", p.ImportPath, p.Dir)
		files := slices.Concat(p.GoFiles, p.CgoFiles, p.EmbedFiles, p.OtherFiles, p.SFiles)
		slices.Sort(files)
		for _, f := range files {
			if err := hashFile(h, p.Dir, filepath.Join(p.Dir, f)); err != nil {
				return err
			}
		}
		for m := p.Module; m != nil; m = m.Replace {
			if modules[m.Dir+"|"+m.GoMod] {
				continue
			}
			modules[m.Dir+"|"+m.GoMod] = true
			fmt.Fprintf(h, "module %s %s %s\n", m.Path, m.Version, m.Dir)
			if m.GoMod != "" {
				if err := hashFile(h, filepath.Dir(m.GoMod), m.GoMod); err != nil {
					return err
				}
			}
			if m.Dir != "" {
				_ = hashFile(h, m.Dir, filepath.Join(m.Dir, "go.sum")) // absent in many modules
			}
		}
	}
	return nil
}

func hashFile(h hash.Hash, root, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rel, _ := filepath.Rel(root, path)
	fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
	h.Write(data)
	return nil
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

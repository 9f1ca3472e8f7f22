package translate

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tetratelabs/wazero"
)

// fsConfig mounts each granted directory read-only at its own (absolute) path. Each
// is served through an os.Root, which resolves symbolic links and refuses any path
// that leads out of the directory, so a link inside a granted directory cannot reach
// the rest of the file system. The roots stay open until the translator closes.
func fsConfig(dirs []string) (wazero.FSConfig, []*os.Root, error) {
	fc := wazero.NewFSConfig()
	var roots []*os.Root
	fail := func(err error) (wazero.FSConfig, []*os.Root, error) {
		for _, r := range roots {
			_ = r.Close()
		}
		return nil, nil, err
	}
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			return fail(fmt.Errorf("grant.fs: %q is not a directory", dir))
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fail(fmt.Errorf("grant.fs: %q: %w", dir, err))
		}
		root, err := os.OpenRoot(abs)
		if err != nil {
			return fail(fmt.Errorf("grant.fs: %w", err))
		}
		roots = append(roots, root)
		fc = fc.WithFSMount(root.FS(), abs)
	}
	return fc, roots, nil
}

// resolveGrants makes relative grant.fs paths relative to base (the pipeline file's
// directory), as all paths of a pipeline are.
func resolveGrants(g Grant, base string) Grant {
	if len(g.FS) == 0 {
		return g
	}
	fsDirs := make([]string, len(g.FS))
	for i, d := range g.FS {
		fsDirs[i] = resolve(base, d)
	}
	g.FS = fsDirs
	return g
}

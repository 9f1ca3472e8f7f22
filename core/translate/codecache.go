package translate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// codeCache is the on-disk cache of one module's compiled code: wazero writes native
// code into dir, and a manifest next to it, named by the sha256 of the module's bytes,
// records the sha256 of every file wazero wrote. wazero itself checks only a CRC, so
// before a load the files are verified against the manifest; a mismatch or a missing
// manifest discards them and the module is compiled again.
//
// This catches a corrupted or stale cache and a file changed by anything that did not
// also rewrite the manifest. The cache directory must still be as trusted as the
// pbisync binary: whoever can write both can run native code as pbisync.
type codeCache struct {
	dir, manifest string
	verified      bool // the files matched the manifest before the load
}

// openCodeCache verifies the compiled code cached for the module whose bytes hash
// to moduleSum, and discards it when it does not match its manifest.
func openCodeCache(root, moduleSum string, logger *slog.Logger) (*codeCache, error) {
	c := &codeCache{dir: filepath.Join(root, moduleSum), manifest: filepath.Join(root, moduleSum+".sha256")}
	want, errM := os.ReadFile(c.manifest)
	have, errD := c.sums()
	switch {
	case errD != nil && os.IsNotExist(errD):
		return c, nil // nothing cached yet
	case errD == nil && errM == nil && bytes.Equal(want, have):
		c.verified = true
		return c, nil
	case errD == nil && len(have) == 0:
		return c, nil
	}
	logger.Warn("compiled-code cache does not match its manifest; discarding it and compiling again", "dir", c.dir)
	if err := os.RemoveAll(c.dir); err != nil {
		return nil, fmt.Errorf("compiled-code cache: %w", err)
	}
	_ = os.Remove(c.manifest)
	return c, nil
}

// sums renders "path sha256" lines for every file under the directory (wazero keeps
// one subdirectory per wazero version and platform), sorted.
func (c *codeCache) sums() ([]byte, error) {
	if _, err := os.Stat(c.dir); err != nil {
		return nil, err
	}
	var lines []string
	err := filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(c.dir, path)
		sum := sha256.Sum256(data)
		lines = append(lines, filepath.ToSlash(rel)+" "+hex.EncodeToString(sum[:]))
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n")), nil
}

// seal records the files now in the directory in the manifest, after a compilation
// that did not start from verified files.
func (c *codeCache) seal() error {
	if c.verified {
		return nil
	}
	have, err := c.sums()
	if err != nil || len(have) == 0 {
		return err
	}
	tmp := c.manifest + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, have, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, c.manifest)
}

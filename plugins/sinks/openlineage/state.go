package openlineage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

func (b *builder) loadState(path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, &b.models); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// saveState writes the models whole and renames the file into place, so a crash
// leaves the previous state.
func (b *builder) saveState(path string) error {
	if path == "" || !b.changed {
		return nil
	}
	data, err := json.Marshal(b.models)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	b.changed = false
	return nil
}

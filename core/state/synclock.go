package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A pipeline's syncs take turns: two pbisync processes syncing one pipeline at once would
// write its outputs and its state (marks, assets, estate) over each other. LockSync holds
// an advisory lock on a file beside the database for as long as a sync runs; the kernel
// drops it when the process ends, however it ends.

// ErrSyncRunning is the error LockSync returns when another process syncs the pipeline.
var ErrSyncRunning = errors.New("another pbisync is syncing this pipeline")

// LockSync takes the pipeline's sync lock, or fails at once with ErrSyncRunning naming
// the process that holds it. unlock releases it.
func (s *Store) LockSync(pipeline string) (unlock func(), err error) {
	path := filepath.Join(filepath.Dir(s.path), "sync-"+lockName(pipeline)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("state %s: sync lock: %w", s.path, err)
	}
	if err := flock(f); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "unknown"
		}
		return nil, fmt.Errorf("%w: pipeline %q, process %s (lock %s); run again once it has ended", ErrSyncRunning, pipeline, who, path)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		f.Truncate(0)
		f.Close() // closing drops the lock
	}, nil
}

// lockName keeps a pipeline name's letters, digits, '-' and '_' for a file name, and
// adds a hash of the whole name so two names never share a lock file.
func lockName(pipeline string) string {
	var b strings.Builder
	for _, r := range pipeline {
		if r < 128 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			b.WriteRune(r)
		}
	}
	h := uint32(2166136261)
	for i := 0; i < len(pipeline); i++ {
		h = (h ^ uint32(pipeline[i])) * 16777619
	}
	return fmt.Sprintf("%s-%08x", b.String(), h)
}

//go:build linux

package state

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing the database's and its log's changed
// pages to disk, and does not wait: a large sync writes hundreds of megabytes through
// the log, and the checkpoint and flush when the store closes would otherwise wait
// for all of them at the end.
func (s *Store) startWriteback() {
	for _, p := range []string{s.path, s.path + "-wal"} {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
		f.Close()
	}
}

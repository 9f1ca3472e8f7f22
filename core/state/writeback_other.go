//go:build !linux

package state

// startWriteback is a no-op where the system has no sync_file_range.
func (s *Store) startWriteback() {}

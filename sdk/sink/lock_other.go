//go:build !unix

package sink

import "os"

// lockFile is a no-op where there is no flock: an open file cannot be removed there.
func lockFile(*os.File) error { return nil }

// removeIfUnlocked removes path; the system refuses while a process has it open.
func removeIfUnlocked(path string) bool { return os.Remove(path) == nil }

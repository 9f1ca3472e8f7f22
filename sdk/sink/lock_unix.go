//go:build unix

package sink

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, held until f is closed or the process ends,
// so removeIfUnlocked can tell a live run's file from one a crash left.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// removeIfUnlocked removes path unless a live process holds its lock.
func removeIfUnlocked(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return false
	}
	return os.Remove(path) == nil
}

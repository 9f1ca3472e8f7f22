package sinkhost

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"
)

// Plugins made with go-plugin listen on a unix socket they create in
// PLUGIN_UNIX_SOCKET_DIR (the temp directory when unset), and remove it only when they
// exit cleanly: every plugin killed by a signal, and every plugin of a pbisync that was
// killed, leaves its socket behind. So pbisync gives each plugin process a directory of
// its own under one directory per pbisync process, removes the plugin's directory when
// the process has ended, the process directory when pbisync ends, and at start the
// directories of pbisync processes that no longer run.

// socketDirPrefix names the per-process directories in the temp directory.
const socketDirPrefix = "pbisync-plugins-"

var sockets struct {
	once sync.Once
	base string // the temp directory, fixed at first use
	dir  string // this process's directory, made again when removed
	n    atomic.Uint64
}

// socketRoot returns this process's socket directory, making it (and cleaning stale
// ones) on first use.
func socketRoot(log *slog.Logger) (string, error) {
	sockets.once.Do(func() {
		sockets.base = os.TempDir()
		if removed := CleanStaleSocketDirs(sockets.base); len(removed) > 0 && log != nil {
			log.Info("removed the plugin socket directories of pbisync processes that no longer run", "dirs", len(removed))
		}
		sockets.dir = filepath.Join(sockets.base, socketDirPrefix+processTag(os.Getpid()))
	})
	return sockets.dir, ensureDir(sockets.dir)
}

// ensureDir makes dir, or accepts it when it is already a directory of this user's (not
// a symlink someone else put in the shared temp directory).
func ensureDir(dir string) error {
	err := os.Mkdir(dir, 0o700)
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrExist) && ownedByMe(dir) {
		return nil
	}
	return fmt.Errorf("making the plugin socket directory: %w", err)
}

// newSocketDir makes a directory for one plugin process's socket.
func newSocketDir(log *slog.Logger) (string, error) {
	root, err := socketRoot(log)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, strconv.FormatUint(sockets.n.Add(1), 10))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("making a plugin socket directory: %w", err)
	}
	return dir, nil
}

// socketEnv is the environment entry that points a go-plugin server at dir.
func socketEnv(dir string) string { return plugin.EnvUnixSocketDir + "=" + dir }

// RemoveSocketDir removes this process's plugin socket directory (the next plugin makes
// it again). KillAll calls it, so the CLI's exit path leaves nothing in the temp directory.
func RemoveSocketDir() {
	if sockets.dir != "" {
		_ = os.RemoveAll(sockets.dir)
	}
}

// processTag names a process by pid and, where the system tells it, start time, so a
// directory is not taken for a live pbisync's when its pid was reused.
func processTag(pid int) string {
	if st := startTime(pid); st != "" {
		return strconv.Itoa(pid) + "-" + st
	}
	return strconv.Itoa(pid)
}

// CleanStaleSocketDirs removes the plugin socket directories in base that belong to
// pbisync processes that no longer run, and returns them. It removes only directories
// (never a symlink) owned by this user whose name is a pbisync process tag, and leaves
// every directory of a process that runs, or whose state it cannot tell.
func CleanStaleSocketDirs(base string) []string {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		tag, ok := strings.CutPrefix(name, socketDirPrefix)
		if !ok || !e.IsDir() { // IsDir is false for a symlink
			continue
		}
		pidText, start, _ := strings.Cut(tag, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || strconv.Itoa(pid) != pidText {
			continue
		}
		path := filepath.Join(base, name)
		if !ownedByMe(path) || !stale(pid, start) {
			continue
		}
		if os.RemoveAll(path) == nil {
			removed = append(removed, path)
		}
	}
	return removed
}

// stale says whether the process that made a directory is gone: no process has its
// pid, or the one that has it started at another time.
func stale(pid int, start string) bool {
	if pid == os.Getpid() {
		return start != "" && start != startTime(pid)
	}
	switch alive(pid) {
	case processGone:
		return true
	case processRuns:
		if start == "" {
			return false
		}
		now := startTime(pid)
		return now != "" && now != start
	}
	return false
}

type processState int

const (
	processUnknown processState = iota
	processGone
	processRuns
)

// parseStartTime reads the start time (field 22) from the content of /proc/PID/stat,
// or "" when it is not there. The command name (field 2) is in parentheses and may hold
// spaces and parentheses itself, so fields are counted after its last ')'.
func parseStartTime(stat []byte) string {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	if _, err := strconv.ParseUint(f[19], 10, 64); err != nil {
		return ""
	}
	return f[19] // field 22, counted from 1: after pid and comm, the 20th
}

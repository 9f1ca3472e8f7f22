//go:build unix

package sinkhost

import (
	"errors"
	"os"
	"strconv"
	"syscall"
)

func alive(pid int) processState {
	err := syscall.Kill(pid, 0)
	switch {
	case err == nil, errors.Is(err, syscall.EPERM):
		return processRuns
	case errors.Is(err, syscall.ESRCH):
		return processGone
	}
	return processUnknown
}

// startTime is the process's start time in clock ticks since boot, or "" where there
// is no /proc.
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	return parseStartTime(data)
}

func ownedByMe(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

//go:build unix

package sinkhost

import (
	"errors"
	"os"
	"strconv"
	"strings"
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

// startTime is the process's start time in clock ticks since boot (field 22 of
// /proc/PID/stat), or "" where there is no /proc.
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 counted from 1, after pid and comm
}

func ownedByMe(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

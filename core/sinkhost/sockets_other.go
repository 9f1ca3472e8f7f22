//go:build !unix

package sinkhost

import "os"

// Without unix sockets (go-plugin uses TCP on Windows) nothing is left behind, and
// alive's "unknown" keeps CleanStaleSocketDirs from removing anything.
func alive(int) processState { return processUnknown }
func startTime(int) string   { return "" }

func ownedByMe(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.IsDir()
}

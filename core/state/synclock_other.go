//go:build !unix

package state

import "os"

// flock is a no-op where there is no flock: syncs of one pipeline are not kept apart.
func flock(*os.File) error { return nil }

package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets the test binary stand in for pbisync when the sink host re-executes
// "the running binary" as `plugin sink NAME` to serve a built-in sink: the tests then
// start real plugin processes, as pbisync does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "plugin" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	// A test that must kill pbisync runs the test binary as pbisync in a process of its own.
	if os.Getenv("PBISYNC_TEST_AS_CLI") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

package main

import (
	"runtime/debug"
	"testing"
)

// The default limit is set as the base that internal/memlimit raises; a limit given on
// the command line is set as given; GOMEMLIMIT wins over both.
func TestSetMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })
	for _, tc := range []struct {
		v      string
		follow bool
		want   int64
	}{
		{defaultMemoryLimit, true, 240 << 20},
		{"300MiB", false, 300 << 20},
		{"2GiB", false, 2 << 30},
		{"65536KiB", false, 64 << 20},
	} {
		if err := setMemoryLimit(tc.v, tc.follow); err != nil {
			t.Fatalf("%s: %v", tc.v, err)
		}
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("%s: limit %d, want %d", tc.v, got, tc.want)
		}
	}
	debug.SetMemoryLimit(123 << 20)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if err := setMemoryLimit("300MiB", false); err != nil || debug.SetMemoryLimit(-1) != 123<<20 {
		t.Errorf("with GOMEMLIMIT set, the flag changed the limit to %d (%v)", debug.SetMemoryLimit(-1), err)
	}
}

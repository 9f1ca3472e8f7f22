package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

// FuzzParseInterspersed parses arbitrary command lines: no panic, and every positional
// argument returned is one of the arguments given, in their order.
func FuzzParseInterspersed(f *testing.F) {
	for _, s := range []string{"Sales Model\x00-f\x00x.yaml", "-f\x00a\x00--\x00-f", "--log-level=debug\x00a\x00b", "-\x00--\x00--", "-f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.String("f", "", "")
		fs.Bool("changed", false, "")
		pos, err := parseInterspersed(fs, args)
		if err != nil {
			return
		}
		i := 0
		for _, p := range pos {
			j := slices.Index(args[i:], p)
			if j < 0 {
				t.Fatalf("positional %q is not among the arguments %q after %d", p, args, i)
			}
			i += j + 1
		}
	})
}

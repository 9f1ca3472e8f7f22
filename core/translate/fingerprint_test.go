package translate

import (
	"strings"
	"testing"
)

type fingerprinter interface{ Fingerprint() string }

// TestFingerprint: a translator's fingerprint changes with its module, config, policy or
// rules, and not with where they sit in the pipeline file.
func TestFingerprint(t *testing.T) {
	fp := func(yml string) string {
		t.Helper()
		c := mustChain(t, yml)
		if len(c.Steps()) != 1 {
			t.Fatalf("%d steps", len(c.Steps()))
		}
		f, ok := c.Steps()[0].(fingerprinter)
		if !ok {
			t.Fatalf("%T has no Fingerprint", c.Steps()[0])
		}
		return f.Fingerprint()
	}
	noop := fp(fixture("noop", ""))
	if !strings.Contains(noop, "sha256=") || fp(fixture("noop", "")) != noop {
		t.Errorf("fingerprint %q is not stable or names no sha256", noop)
	}
	for name, yml := range map[string]string{
		"config":  fixture("noop", "    config: {a: 1}\n"),
		"policy":  fixture("noop", "    on_error: skip\n"),
		"module":  strings.Replace(fixture("echo", ""), "name: echo", "name: noop", 1),
		"no-code": "translators:\n  - name: noop\n    translation:\n      - tags: {a: b}\n",
	} {
		if fp(yml) == noop {
			t.Errorf("changing the %s kept the fingerprint", name)
		}
	}
	rules := "translators:\n  - name: t\n    translation:\n      - match: {type: report}\n        tags: {a: b}\n        metadata: {m: {x: 1}}\n"
	moved := "\n\n# a comment\n" + rules
	if fp(rules) != fp(moved) {
		t.Error("moving the rules in the file changed the fingerprint")
	}
	if fp(rules) == fp(strings.Replace(rules, "x: 1", "x: 2", 1)) {
		t.Error("changing a metadata value kept the fingerprint")
	}
}

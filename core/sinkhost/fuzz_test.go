package sinkhost

import (
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/config"
)

// FuzzDecodeEntry feeds arbitrary YAML to the outputs entry decoder and the mapping of
// plugin config error paths: errors are fine, panics are not.
func FuzzDecodeEntry(f *testing.F) {
	f.Add("name: a\njsonl: {path: x, kinds: [spec]}\nwindow: 3\n", "kinds.0")
	f.Add("name: b\nplugin: {path: ./p, args: [x], env: {A: b}, sha256: abc}\nconfig: {a: [1, {b: c}]}\n", "a.1.b")
	f.Add("name: c\nplugin: {path: /x}\nconfig: [1, 2.5, true, null, \"s\"]\nack_timeout: 1s\n", "3")
	f.Fuzz(func(t *testing.T, yml, path string) {
		n, err := config.Parse("pipeline.yaml", []byte(yml))
		if err != nil {
			return
		}
		l, err := decodeEntry(n, Options{Executable: "/bin/pbisync"})
		if err != nil || l.cfg.Node == nil {
			return
		}
		_ = nodeAt(l.cfg, strings.Split(path, ".")).Pos()
	})
}

package sinkhost

import "github.com/pbisync/pbisync/core/config"

// Check decodes an `outputs:` entry and checks what the host can check without starting
// the plugin: kind, plugin path and checksum form, host options. `pbisync validate`
// uses it.
func Check(entry config.Node, opts Options) error {
	if opts.Executable == "" {
		opts.Executable = "pbisync"
	}
	_, err := decodeEntry(entry, opts)
	return err
}

package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/pipeline"
)

// FuzzValidate feeds whole pipeline files through every section's decoder (sources,
// emulator, powerbi, translators, outputs, refresh, lineage): each must accept or give an
// error that names the file, and never panic.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"version: 1\nsources:\n  - emulator: {tenant: generated, generated: {workspaces: 2}}\noutputs:\n  - {name: a, jsonl: {path: x}}\n",
		"version: 1\nsources:\n  - powerbi: {tenant_id: t, credentials: {client_id: c, client_secret: s}, workspaces: {include_names: ['^S']}}\noutputs:\n  - {name: a, sqlite: {path: x}}\nrefresh: {select: [{all: true}], body: {type: Full}, timeout: 1h}\n",
		"version: 1\nsources:\n  - powerbi: {credentials: {token: t}, scanner: {batch_size: 101}}\noutputs:\n  - {name: a, plugin: {path: ./x, sha256: zz}}\n",
		"version: 1\nsources:\n  - emulator: {faults: ['throttle:3@GET /groups,retry-after=2s']}\ntranslators:\n  - {name: t, translation: [{match: {type: report}, key_prefix: [a]}]}\noutputs:\n  - {name: a, datahub: {file: x}}\nlineage: {keys: [{platform: snowflake, server: '(', prefix: [a]}]}\n",
		"version: 1\nsources:\n  - emulator: {}\noutputs:\n  - {name: a, openlineage: {file: x}}\nrefresh: {select: [{pattern: '['}], hooks: {before: [[]]}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := pipeline.Parse("f.yaml", data)
		if err != nil {
			return
		}
		// /bin/true stands in for the plugin binary: it starts, and fails the handshake.
		if err := Validate(context.Background(), p, SetupOptions{Executable: "/bin/true", CacheDir: "-"}); err != nil && !strings.Contains(err.Error(), "f.yaml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

package translate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKitFailuresArePerAsset checks a Go panic and an AssemblyScript abort fail only
// the asset they happen on, with the guest's message.
func TestKitFailuresArePerAsset(t *testing.T) {
	tests := []struct {
		lang, want string
		build      func(out string) *exec.Cmd
	}{
		{"go", "panic: assignment to entry in nil map", func(out string) *exec.Cmd {
			c := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, "./testdata/panic/go")
			c.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
			return c
		}},
		{"assemblyscript", "abort: reports are not welcome at testdata/panic/abort.ts:", func(out string) *exec.Cmd {
			return exec.Command(ascPath, "testdata/panic/abort.ts", "--runtime", "incremental", "-o", out)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			requireToolchain(t, tt.lang)
			out := filepath.Join(t.TempDir(), "m.wasm")
			if b, err := tt.build(out).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
			c := mustChain(t, wasmEntry("p", out, "    on_error: skip\n"))
			kept, probs, err := c.Translate(context.Background(), sampleRecords(8))
			if err != nil {
				t.Fatal(err)
			}
			if len(kept) != 6 || len(probs) != 2 {
				t.Fatalf("kept %d, %d problems: %v", len(kept), len(probs), probs)
			}
			for _, r := range kept {
				if r.Spec.Tags["seen"] != "yes" {
					t.Errorf("%s was not translated", r.Spec.PowerBI)
				}
			}
			for _, p := range probs {
				if p.Asset.Type != "report" || !strings.Contains(p.Err.Error(), tt.want) {
					t.Errorf("problem %v, want a report with %q", p, tt.want)
				}
			}
		})
	}
}

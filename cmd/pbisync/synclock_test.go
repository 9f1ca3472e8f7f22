package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/state"
)

// TestSyncWaitsItsTurn: a sync of a pipeline that another process is syncing fails at
// once, saying so, and touches nothing; once the other is done it runs.
func TestSyncWaitsItsTurn(t *testing.T) {
	f, dir := writePipeline(t, `version: 1
name: locked
state_dir: state
sources:
  - name: sample
    emulator: {tenant: sample}
outputs:
  - name: specs
    jsonl: {path: out/specs.jsonl, format: specs}
`)
	st, err := state.Open(context.Background(), filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unlock, err := st.LockSync("locked")
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "sync", "-f", f)
	if code == exitOK || !strings.Contains(errOut, "another pbisync is syncing") {
		t.Fatalf("a second sync: exit %d\n%s", code, errOut)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "out", "*")); len(m) > 0 {
		t.Errorf("the refused sync wrote %v", m)
	}
	unlock()
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK {
		t.Fatalf("after the other ended: exit %d\n%s", code, errOut)
	}
}

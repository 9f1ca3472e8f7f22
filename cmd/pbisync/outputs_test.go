package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pbisync/pbisync/sdk/event"
)

// outputsPipeline syncs the sample tenant to every built-in sink's file form. With
// failing, a second source fails after the first one's specs reached every output: a
// sync that fails midway.
func outputsPipeline(failing bool, extra string) string {
	second := ""
	if failing {
		second = `  - name: broken
    emulator:
      tenant: sample
      faults: ["error@POST /admin/workspaces/getInfo,status=400"]
`
	}
	return `version: 1
name: outputs
sources:
  - name: sample
    emulator: {tenant: sample}
` + second + `outputs:
  - name: specs
    jsonl: {path: out/specs.jsonl, format: specs}
  - name: events
    jsonl: {path: out/events.jsonl}
  - name: datahub
    datahub: {file: out/mcps.json}
  - name: lineage
    openlineage: {file: out/openlineage.jsonl}
  - name: catalog
    sqlite: {path: out/catalog.db}
    batch_size: 7
refresh:
  poll: {initial: 30ms, max: 100ms}
` + extra
}

// outputFiles are the file outputs of outputsPipeline; the catalog is compared by its rows.
var outputFiles = []string{"specs.jsonl", "events.jsonl", "mcps.json", "openlineage.jsonl"}

// outputs is what every output of outputsPipeline holds: each file's bytes and the
// catalog's rows.
func outputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, f := range outputFiles {
		data, err := os.ReadFile(filepath.Join(dir, "out", f))
		if err != nil {
			t.Fatal(err)
		}
		got[f] = string(data)
	}
	got["catalog.db"] = catalogRows(t, filepath.Join(dir, "out", "catalog.db"))
	return got
}

func catalogRows(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, table := range []string{"assets", "asset_deps", "asset_metadata", "asset_tags", "asset_columns", "refresh_runs", "refresh_tables", "syncs"} {
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// checkWhole parses every file output completely: JSON Lines line by line, the DataHub
// file as one JSON array. It returns the events of events.jsonl.
func checkWhole(t *testing.T, dir string) []event.Event {
	t.Helper()
	for _, f := range []string{"specs.jsonl", "openlineage.jsonl", "events.jsonl"} {
		data, err := os.ReadFile(filepath.Join(dir, "out", f))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			t.Errorf("%s does not end with a whole line", f)
		}
		for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			if len(data) > 0 && !json.Valid(line) {
				t.Fatalf("%s:%d is not JSON: %.200s", f, i+1, line)
			}
		}
	}
	var mcps []map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "out", "mcps.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &mcps); err != nil || len(mcps) == 0 {
		t.Fatalf("mcps.json is not a JSON array of MCPs (%d): %v", len(mcps), err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, "out", ".*.partial"))
	if len(leftovers) > 0 {
		t.Errorf("unfinished files left beside the outputs: %v", leftovers)
	}
	return readEvents(t, filepath.Join(dir, "out", "events.jsonl"))
}

func kindsOf(evs []event.Event) map[event.Kind]int {
	n := map[event.Kind]int{}
	for _, e := range evs {
		n[e.Kind]++
	}
	return n
}

// TestFailedSyncLeavesOutputs runs each command that writes outputs after a good sync,
// with a source that fails midway: every output must hold what the good sync left, byte
// for byte (the catalog: row for row). A good run replaces them whole.
func TestFailedSyncLeavesOutputs(t *testing.T) {
	for _, command := range []string{"sync", "run"} {
		t.Run(command, func(t *testing.T) {
			extra := ""
			if command == "run" {
				extra = "  select: [{name: Inventory}]\n"
			}
			good, dir := writePipeline(t, outputsPipeline(false, extra))
			if code, _, errOut := cli(t, command, "-f", good); code != exitOK {
				t.Fatalf("good %s: exit %d: %s", command, code, errOut)
			}
			evs := checkWhole(t, dir)
			k := kindsOf(evs)
			if k[event.KindSpec] == 0 || k[event.KindSummary] != 1 || (command == "run") != (k[event.KindRefresh] > 0) {
				t.Fatalf("events after a good %s: %v", command, k)
			}
			before := outputs(t, dir)

			bad := filepath.Join(dir, "bad.yaml")
			os.WriteFile(bad, []byte(outputsPipeline(true, extra)), 0o644)
			code, _, errOut := cli(t, command, "-f", bad)
			if code != exitError || !strings.Contains(errOut, "source broken") {
				t.Fatalf("failing %s: exit %d: %s", command, code, errOut)
			}
			if !strings.Contains(errOut, "output left as it was") {
				t.Errorf("the log does not say the outputs were kept:\n%s", errOut)
			}
			after := outputs(t, dir)
			for name, was := range before {
				if after[name] != was {
					t.Errorf("%s changed after a failed %s (%d bytes, was %d)", name, command, len(after[name]), len(was))
				}
			}
			checkWhole(t, dir)

			// A good run again replaces every output whole: one summary, not two.
			if code, _, errOut := cli(t, command, "-f", good); code != exitOK {
				t.Fatalf("good %s again: exit %d: %s", command, code, errOut)
			}
			if k := kindsOf(checkWhole(t, dir)); k[event.KindSummary] != 1 {
				t.Errorf("after a second good %s: %v", command, k)
			}
		})
	}
}

// TestRefreshTouchesOnlyEventOutputs: `pbisync refresh` adds its events to the outputs
// that take them and never opens the others; when it fails before refreshing, nothing
// changes at all.
func TestRefreshTouchesOnlyEventOutputs(t *testing.T) {
	good, dir := writePipeline(t, outputsPipeline(false, ""))
	if code, _, errOut := cli(t, "sync", "-f", good); code != exitOK {
		t.Fatalf("sync: exit %d: %s", code, errOut)
	}
	before := outputs(t, dir)
	stat := func(f string) os.FileInfo {
		st, err := os.Stat(filepath.Join(dir, "out", f))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	specsBefore, mcpsBefore := stat("specs.jsonl"), stat("mcps.json")

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(outputsPipeline(true, "")), 0o644)
	if code, _, errOut := cli(t, "refresh", "-f", bad, "Inventory"); code != exitError {
		t.Fatalf("refresh with a failing source: exit %d: %s", code, errOut)
	}
	if after := outputs(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("a refresh that failed before refreshing changed an output")
	}

	if code, _, errOut := cli(t, "refresh", "-f", good, "Inventory"); code != exitOK {
		t.Fatalf("refresh: exit %d: %s", code, errOut)
	}
	after := outputs(t, dir)
	for _, f := range []string{"specs.jsonl", "mcps.json"} {
		if after[f] != before[f] {
			t.Errorf("refresh changed %s, which takes no refresh events", f)
		}
	}
	if st := stat("specs.jsonl"); !st.ModTime().Equal(specsBefore.ModTime()) || !os.SameFile(st, specsBefore) {
		t.Error("refresh opened specs.jsonl")
	}
	if st := stat("mcps.json"); !st.ModTime().Equal(mcpsBefore.ModTime()) || !os.SameFile(st, mcpsBefore) {
		t.Error("refresh opened mcps.json")
	}
	for _, f := range []string{"events.jsonl", "openlineage.jsonl"} {
		if !strings.HasPrefix(after[f], before[f]) || len(after[f]) == len(before[f]) {
			t.Errorf("%s: the refresh must add to what the sync wrote (%d bytes, was %d)", f, len(after[f]), len(before[f]))
		}
	}
	evs := checkWhole(t, dir)
	k := kindsOf(evs)
	if k[event.KindSummary] != 1 || k[event.KindRefresh] == 0 || evs[len(evs)-1].Refresh == nil || evs[len(evs)-1].Refresh.State != event.RefreshCompleted {
		t.Errorf("events after sync and refresh: %v", k)
	}
	if !strings.Contains(after["catalog.db"], "refresh_runs") {
		t.Error("the catalog has no refresh run")
	}
}

// TestFailedSnapshotSaveLeavesFile: a save that fails midway leaves the previous
// snapshot byte for byte; a good one replaces it whole.
func TestFailedSnapshotSaveLeavesFile(t *testing.T) {
	good, dir := writePipeline(t, outputsPipeline(false, ""))
	snap := filepath.Join(dir, "tenant.json")
	if code, _, errOut := cli(t, "snapshot", "save", "-f", good, "-o", snap); code != exitOK {
		t.Fatalf("save: exit %d: %s", code, errOut)
	}
	before, err := os.ReadFile(snap)
	if err != nil || !json.Valid(before) {
		t.Fatalf("saved snapshot is not JSON: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(outputsPipeline(true, "")), 0o644)
	if code, _, errOut := cli(t, "snapshot", "save", "-f", bad, "-o", snap); code != exitError || !strings.Contains(errOut, "source broken") {
		t.Fatalf("failing save: exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(snap); !bytes.Equal(after, before) {
		t.Fatal("a failed save changed the snapshot")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tenant.json.*")); len(left) > 0 {
		t.Errorf("unfinished files left: %v", left)
	}
	// A good save of both sources replaces the file whole.
	two := filepath.Join(dir, "two.yaml")
	os.WriteFile(two, []byte(strings.Replace(outputsPipeline(true, ""), `faults: ["error@POST /admin/workspaces/getInfo,status=400"]`, "faults: []", 1)), 0o644)
	if code, _, errOut := cli(t, "snapshot", "save", "-f", two, "-o", snap); code != exitOK {
		t.Fatalf("save: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(snap)
	if !json.Valid(after) || bytes.Equal(after, before) {
		t.Fatal("a good save did not replace the snapshot with a whole one")
	}
}

// TestKilledSyncLeavesOutputs kills pbisync (SIGKILL: no cleanup runs) while a sync
// writes: the outputs keep what the previous sync wrote, byte for byte, and the next
// sync discards what the killed one left and replaces them whole.
func TestKilledSyncLeavesOutputs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	doc := `version: 1
name: killed
sources:
  - name: gen
    emulator: {tenant: generated, generated: {workspaces: 600}}
outputs:
  - name: events
    jsonl: {path: out/events.jsonl}
  - name: datahub
    datahub: {file: out/mcps.json}
`
	f, dir := writePipeline(t, doc)
	out := filepath.Join(dir, "out")
	os.MkdirAll(out, 0o755)
	previous := map[string][]byte{"events.jsonl": []byte(`{"kind":"summary","summary":{"workspaces":1}}` + "\n"), "mcps.json": []byte("[\n]\n")}
	for name, data := range previous {
		os.WriteFile(filepath.Join(out, name), data, 0o644)
	}
	cmd := exec.Command(os.Args[0], "sync", "-f", f)
	cmd.Env = append(os.Environ(), "PBISYNC_TEST_AS_CLI=1")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once both replacements hold records: the sync is midway.
	killMidway(t, cmd, &logs, 60*time.Second, "the sync never got midway", func() bool {
		parts, _ := filepath.Glob(filepath.Join(out, ".*.partial"))
		written := 0
		for _, p := range parts {
			if st, err := os.Stat(p); err == nil && st.Size() > 4096 {
				written++
			}
		}
		return written == 2
	})
	for name, data := range previous {
		if got, _ := os.ReadFile(filepath.Join(out, name)); !bytes.Equal(got, data) {
			t.Errorf("%s changed when the sync was killed: %.200s", name, got)
		}
	}
	// The plugins die with pbisync; what they left is discarded by the next sync.
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK {
		t.Fatalf("sync after the kill: exit %d: %s", code, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".*.partial")); len(left) > 0 {
		t.Errorf("the killed sync's files are still there: %v", left)
	}
	evs := readEvents(t, filepath.Join(out, "events.jsonl"))
	if k := kindsOf(evs); k[event.KindSummary] != 1 || k[event.KindSpec] < 600 {
		t.Errorf("events after the next sync: %v", k)
	}
	var mcps []json.RawMessage
	data, _ := os.ReadFile(filepath.Join(out, "mcps.json"))
	if err := json.Unmarshal(data, &mcps); err != nil || len(mcps) < 600 {
		t.Errorf("mcps.json after the next sync: %d items, %v", len(mcps), err)
	}
}

// TestKilledRefreshLeavesOutputs kills `pbisync refresh` while it follows a refresh
// (the emulator's refreshes run 3 s): the outputs of the earlier sync that take no
// refresh events are untouched, and the events files keep what they held, followed only
// by the whole lines the refresh added before it was killed.
func TestKilledRefreshLeavesOutputs(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	f, dir := writePipeline(t, outputsPipeline(false, ""))
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK {
		t.Fatalf("sync: exit %d: %s", code, errOut)
	}
	before := outputs(t, dir)
	cmd := exec.Command(os.Args[0], "refresh", "-f", f, "Inventory")
	cmd.Env = append(os.Environ(), "PBISYNC_TEST_AS_CLI=1")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "out", "events.jsonl")
	killMidway(t, cmd, &logs, 30*time.Second, "the refresh never wrote its first event", func() bool {
		data, _ := os.ReadFile(events)
		return len(data) > len(before["events.jsonl"])
	})
	after := outputs(t, dir)
	for _, name := range []string{"specs.jsonl", "mcps.json"} {
		if after[name] != before[name] {
			t.Errorf("%s changed", name)
		}
	}
	for _, name := range []string{"events.jsonl", "openlineage.jsonl"} {
		if !strings.HasPrefix(after[name], before[name]) {
			t.Errorf("%s lost what it held", name)
		}
	}
	evs := checkWhole(t, dir)
	if last := evs[len(evs)-1]; last.Refresh == nil || last.Refresh.State == event.RefreshCompleted {
		t.Errorf("the last event is not the killed refresh's, still running: %+v", last)
	}
}

// killMidway waits (up to within) until midway reports that the started pbisync process
// cmd is in the middle of its work, then kills it with SIGKILL and fails the test unless
// the signal is what ended it. never is the failure when it never gets there.
func killMidway(t *testing.T, cmd *exec.Cmd, logs *bytes.Buffer, within time.Duration, never string, midway func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !midway(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%s:\n%s", never, logs.String())
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("pbisync ended before it was killed (%v): the test did not kill it midway\n%s", err, logs.String())
	}
}

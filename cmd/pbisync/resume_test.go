package main

import (
	"bytes"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// rawPipeline reads emu incrementally (so the raw store is on) into a specs file, with
// the given translators section.
func rawPipeline(emu *powerbitest.Server, ca, translators string) string {
	cr := emu.Credentials()
	return `version: 1
name: raw
state_dir: state
sources:
` + emulatorSource(emu, ca, `{client_id: `+cr.ClientID+`, client_secret: '${env:PBISYNC_TEST_SECRET}'}`,
		"      scanner: {poll_interval: 100ms, batch_size: 25, parallel_scans: 4}\n      incremental: {enabled: true}\n") +
		translators + `outputs:
  - name: specs
    jsonl: {path: out/specs.jsonl, format: specs}
`
}

func newRawEmulator(t *testing.T, workspaces, polls int) (*powerbitest.Server, string) {
	t.Helper()
	size := powerbitest.SmallSize()
	size.Workspaces = workspaces
	emu, err := powerbitest.NewServer(powerbitest.Generate(21, size), powerbitest.WithScanPolls(polls))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, emu.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PBISYNC_TEST_SECRET", emu.Credentials().ClientSecret)
	return emu, ca
}

// stateCount counts rows of the state store while (or after) a pbisync writes it.
func stateCount(t *testing.T, dir, query string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "state", "state.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query).Scan(&n); err != nil {
		return -1 // not created yet
	}
	return n
}

// TestKilledSyncResumesWithoutRescanning kills pbisync (SIGKILL) while it scans a tenant
// from an emulator in this process: the next sync asks getInfo for no workspace the
// killed one read, reads the scans it started instead of starting them again, and writes
// exactly the specs a clean sync writes.
func TestKilledSyncResumesWithoutRescanning(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	const workspaces = 300
	emu, ca := newRawEmulator(t, workspaces, 4)
	f, dir := writePipeline(t, rawPipeline(emu, ca, ""))
	cmd := exec.Command(os.Args[0], "sync", "-f", f)
	cmd.Env = append(os.Environ(), "PBISYNC_TEST_AS_CLI=1")
	var logs bytes.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some batches are in the raw store and more scans are running.
	killMidway(t, cmd, &logs, 60*time.Second, "the sync never got midway", func() bool {
		return stateCount(t, dir, "SELECT COUNT(*) FROM raw_workspaces") >= 50 && stateCount(t, dir, "SELECT COUNT(*) FROM pending_scans") >= 1
	})
	read := stateIDs(t, dir, "SELECT workspace_id FROM raw_workspaces")
	started := stateIDs(t, dir, "SELECT workspaces FROM pending_scans")
	if len(read) == 0 || len(read) >= workspaces || len(started) == 0 {
		t.Fatalf("killed with %d workspaces read and %d in started scans: not midway", len(read), len(started))
	}
	t.Logf("killed with %d workspaces read and %d in started scans", len(read), len(started))
	before := emu.ScannedWorkspaces()
	results := emu.Requests()["GET /admin/workspaces/scanResult/{id}"]

	code, _, errOut := cli(t, "sync", "-f", f)
	if code != exitOK {
		t.Fatalf("sync after the kill: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "finishing an unfinished sync") {
		t.Errorf("the sync did not say it finished the killed one:\n%s", errOut)
	}
	after := emu.ScannedWorkspaces()
	for id := range read {
		if after[id] != before[id] {
			t.Errorf("workspace %s, read by the killed sync, was scanned again", id)
		}
	}
	for id := range started {
		if !read[id] && after[id] != before[id] {
			t.Errorf("workspace %s, in a scan the killed sync started, was scanned again", id)
		}
	}
	if len(after) != workspaces {
		t.Errorf("%d of %d workspaces ever scanned", len(after), workspaces)
	}
	if got := emu.Requests()["GET /admin/workspaces/scanResult/{id}"] - results; got == 0 {
		t.Error("the sync read no scan result")
	}
	if n := stateCount(t, dir, "SELECT COUNT(*) FROM raw_workspaces"); n != workspaces {
		t.Errorf("the raw store holds %d workspaces after the completed sync, the tenant %d", n, workspaces)
	}
	if n := stateCount(t, dir, "SELECT COUNT(*) FROM sync_runs") + stateCount(t, dir, "SELECT COUNT(*) FROM pending_scans"); n != 0 {
		t.Errorf("the completed sync left %d unfinished runs and pending scans", n)
	}

	// A clean sync of the same tenant writes the same specs.
	emu2, ca2 := newRawEmulator(t, workspaces, 1)
	f2, dir2 := writePipeline(t, rawPipeline(emu2, ca2, ""))
	if code, _, errOut := cli(t, "sync", "-f", f2); code != exitOK {
		t.Fatalf("clean sync: exit %d: %s", code, errOut)
	}
	got, want := sortedLines(t, filepath.Join(dir, "out", "specs.jsonl")), sortedLines(t, filepath.Join(dir2, "out", "specs.jsonl"))
	if len(got) != len(want) {
		t.Fatalf("the resumed sync wrote %d specs, a clean one %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the resumed sync's specs differ from a clean sync's:\n got %.300s\nwant %.300s", got[i], want[i])
		}
	}
}

// stateIDs collects the lower-case workspace ids a query of the state store returns
// (comma-separated lists are split).
func stateIDs(t *testing.T, dir, query string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "state", "state.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		for _, id := range strings.Split(v, ",") {
			out[strings.ToLower(id)] = true
		}
	}
	return out
}

// TestTranslatorChangeRetranslatesWithoutRescanning: sync, change the no-code
// translation's config, sync again: no getInfo for the unchanged workspaces, and every
// spec is written again as the new config says.
func TestTranslatorChangeRetranslatesWithoutRescanning(t *testing.T) {
	emu, ca := newRawEmulator(t, 30, 1)
	translators := func(rev string) string {
		return "translators:\n  - name: revision\n    translation:\n      - tags: {rev: " + rev + "}\n"
	}
	f, dir := writePipeline(t, rawPipeline(emu, ca, translators("one")))
	if code, _, errOut := cli(t, "sync", "-f", f); code != exitOK {
		t.Fatalf("first sync: exit %d: %s", code, errOut)
	}
	first := sortedLines(t, filepath.Join(dir, "out", "specs.jsonl"))
	if err := os.WriteFile(f, []byte(rawPipeline(emu, ca, translators("two"))), 0o644); err != nil {
		t.Fatal(err)
	}
	before := emu.ScannedWorkspaces()
	code, _, errOut := cli(t, "sync", "-f", f)
	if code != exitOK {
		t.Fatalf("second sync: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "the translators changed") {
		t.Errorf("the sync did not say why it re-translated:\n%s", errOut)
	}
	for id, n := range emu.ScannedWorkspaces() {
		if n != before[id] {
			t.Errorf("workspace %s was scanned again for a translator change", id)
		}
	}
	second := sortedLines(t, filepath.Join(dir, "out", "specs.jsonl"))
	if len(second) != len(first) {
		t.Fatalf("re-translation wrote %d specs, the first sync %d", len(second), len(first))
	}
	for i, line := range second {
		if !strings.Contains(line, `"rev":"two"`) || strings.Contains(line, `"rev":"one"`) {
			t.Fatalf("a spec was not translated with the new config: %.300s", line)
		}
		if strings.Replace(first[i], `"rev":"one"`, `"rev":"two"`, 1) != line {
			t.Fatalf("a spec changed beyond the new config:\n was %.300s\n now %.300s", first[i], line)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/sdk/event"
)

// emulatorSource is a pipeline's `sources:` entry "tenant" reading emu through its API
// and MSAL sign-in, trusting its CA file ca, with these credentials (a YAML flow map);
// more is added under the powerbi key (each line indented six spaces).
func emulatorSource(emu *powerbitest.Server, ca, credentials, more string) string {
	return fmt.Sprintf(`  - name: tenant
    powerbi:
      api_url: %s
      authority_host: %s
      tenant_id: %s
      ca_file: %s
      credentials: %s
%s`, emu.URL(), emu.AuthorityURL(), emu.TenantID, ca, credentials, more)
}

// incrementalTenant serves the 12-workspace generated tenant the incremental output
// tests sync, change and sync again; it closes with the test.
func incrementalTenant(t *testing.T) *powerbitest.Server {
	t.Helper()
	size := powerbitest.SmallSize()
	size.Workspaces = 12
	srv, err := powerbitest.NewServer(powerbitest.Generate(7, size), powerbitest.WithScanPolls(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// incrementalPipeline syncs a powerbi source (the emulator srv, through MSAL and its CA)
// into every built-in sink's form under out/, with its state in state/. extra adds
// outputs.
func incrementalPipeline(t *testing.T, srv *powerbitest.Server, dir, extra string) string {
	t.Helper()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cr := srv.Credentials()
	t.Setenv("PBISYNC_TEST_INC_SECRET", cr.ClientSecret)
	doc := `version: 1
name: incremental
state_dir: state
sources:
` + emulatorSource(srv, ca, `{client_id: `+cr.ClientID+`, client_secret: "${env:PBISYNC_TEST_INC_SECRET}"}`, "      scanner: {poll_interval: 20ms, batch_size: 50}\n") + `outputs:
  - name: specs
    jsonl: {path: out/specs.jsonl, format: specs}
  - name: events
    jsonl: {path: out/events.jsonl, append: true}
  - name: catalog
    sqlite: {path: out/catalog.db}
  - name: datahub
    datahub: {file: out/mcps.json}
  - name: lineage
    openlineage: {file: out/openlineage.jsonl}
` + extra
	f := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// syncRequests runs `pbisync sync` and returns the emulator's requests it made.
func syncRequests(t *testing.T, srv *powerbitest.Server, args ...string) map[string]int64 {
	t.Helper()
	before := srv.Requests()
	code, _, errOut := cli(t, append([]string{"sync"}, args...)...)
	if code != exitOK {
		t.Fatalf("sync %v: exit %d\n%s", args, code, errOut)
	}
	got := map[string]int64{}
	for k, v := range srv.Requests() {
		if d := v - before[k]; d > 0 {
			got[k] = d
		}
	}
	return got
}

// sortedLines is a file's lines, sorted: outputs fed from the estate hold the same
// records as a full sync's, in another order.
func sortedLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	slices.Sort(lines)
	return lines
}

// sortedMCPs is a DataHub file's MCPs, each as compact JSON, sorted.
func sortedMCPs(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var mcps []json.RawMessage
	if err := json.Unmarshal(data, &mcps); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]string, len(mcps))
	for i, m := range mcps {
		var b bytes.Buffer
		json.Compact(&b, m)
		out[i] = b.String()
	}
	slices.Sort(out)
	return out
}

// catalogAssets is the catalog's rows without its syncs and with times blanked: when an
// asset was first and last written differs between two catalogs of the same estate.
func catalogAssets(t *testing.T, path string) string {
	t.Helper()
	var kept []string
	for _, l := range strings.Split(catalogRows(t, path), "\n") {
		if !strings.HasPrefix(l, "syncs ") {
			kept = append(kept, rfc3339.ReplaceAllString(l, "TIME"))
		}
	}
	return strings.Join(kept, "\n")
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestIncrementalSyncOutputs syncs a tenant, changes it in the emulator, and syncs again,
// into outputs of every kind: the ones that hold the last sync (an appending file, the
// SQLite catalog) get exactly the changes; the ones a sync replaces (a file of specs, the
// DataHub and OpenLineage files) are left byte for byte as they are when nothing changed
// and otherwise hold what a full sync would write, the unchanged assets coming from the
// estate; a deleted output file and a new output are filled from the estate without
// rescanning; a deleted workspace is the only removal.
func TestIncrementalSyncOutputs(t *testing.T) {
	srv := incrementalTenant(t)
	dir := t.TempDir()
	f := incrementalPipeline(t, srv, dir, "")
	out := func(name string) string { return filepath.Join(dir, "out", name) }
	const getInfo = "POST /admin/workspaces/getInfo"

	// 1. The first sync is a full one.
	if req := syncRequests(t, srv, "-f", f); req[getInfo] == 0 {
		t.Fatalf("first sync made no scan: %v", req)
	}
	first := map[string][]byte{}
	for _, n := range []string{"specs.jsonl", "mcps.json", "openlineage.jsonl", "events.jsonl"} {
		first[n] = readFile(t, out(n))
	}
	firstCatalog := catalogAssets(t, out("catalog.db"))

	// 2. Nothing changed: no scan; replaced files untouched; the appending file gains the
	// summary only; the catalog's assets are as they were.
	srv.Age(time.Hour)
	if req := syncRequests(t, srv, "-f", f); req[getInfo] != 0 {
		t.Errorf("a sync with nothing changed scanned: %v", req)
	}
	for _, n := range []string{"specs.jsonl", "mcps.json", "openlineage.jsonl"} {
		if !bytes.Equal(readFile(t, out(n)), first[n]) {
			t.Errorf("%s changed in a sync where nothing changed", n)
		}
	}
	evs := readEvents(t, out("events.jsonl"))
	added := evs[len(readEventsBytes(t, first["events.jsonl"])):]
	if k := kindsOf(added); k[event.KindSummary] != 1 || len(added) != 1 {
		t.Errorf("the appending output gained %v in a sync where nothing changed", k)
	}
	if got := catalogAssets(t, out("catalog.db")); got != firstCatalog {
		t.Error("the catalog's assets changed in a sync where nothing changed")
	}

	// 3. The user deleted the file of specs: the next sync writes it whole, from the estate.
	os.Remove(out("specs.jsonl"))
	if req := syncRequests(t, srv, "-f", f); req[getInfo] != 0 {
		t.Errorf("refilling a deleted output scanned: %v", req)
	}
	if !slices.Equal(sortedLines(t, out("specs.jsonl")), sortedLinesBytes(first["specs.jsonl"])) {
		t.Error("the deleted file of specs was not written back whole")
	}

	// 4. A new output gets every asset, from the estate.
	f = incrementalPipeline(t, srv, dir, "  - name: more\n    jsonl: {path: out/more.jsonl, format: specs}\n")
	if req := syncRequests(t, srv, "-f", f); req[getInfo] != 0 {
		t.Errorf("a new output made the sync scan: %v", req)
	}
	if !slices.Equal(sortedLines(t, out("more.jsonl")), sortedLinesBytes(first["specs.jsonl"])) {
		t.Error("the new output does not hold every asset")
	}

	// 5. Two workspaces change and one is added: one scan of those; the appending output
	// and the catalog get exactly their assets; every replaced output equals a full sync's.
	srv.Age(time.Hour)
	changed := srv.ModifyWorkspaces(2)
	changed = append(changed, srv.AddWorkspace())
	before := len(readEvents(t, out("events.jsonl")))
	if req := syncRequests(t, srv, "-f", f); req[getInfo] != 1 {
		t.Errorf("changing 3 workspaces took %d getInfo requests (want 1): %v", req[getInfo], req)
	}
	added = readEvents(t, out("events.jsonl"))[before:]
	sentFrom := map[string]bool{}
	for _, ev := range added {
		switch ev.Kind {
		case event.KindSpec:
			if ws := ev.Spec.PowerBI.WorkspaceID; ws != "" {
				sentFrom[ws] = true
			}
		case event.KindRemoved:
			t.Errorf("removed %s, though no workspace was deleted", ev.Removed.PowerBI)
		}
	}
	for ws := range sentFrom {
		if !slices.Contains(changed, ws) {
			t.Errorf("assets of unchanged workspace %s were sent to the appending output", ws)
		}
	}
	if len(sentFrom) != len(changed) {
		t.Errorf("specs sent from %d workspaces, %d changed", len(sentFrom), len(changed))
	}
	// A full sync of the same tenant into a fresh place is the reference.
	refDir := t.TempDir()
	ref := incrementalPipeline(t, srv, refDir, "")
	syncRequests(t, srv, "-f", ref)
	refOut := func(name string) string { return filepath.Join(refDir, "out", name) }
	if !slices.Equal(sortedLines(t, out("specs.jsonl")), sortedLines(t, refOut("specs.jsonl"))) {
		t.Error("specs.jsonl after the incremental sync differs from a full sync's")
	}
	if !slices.Equal(sortedLines(t, out("more.jsonl")), sortedLines(t, refOut("specs.jsonl"))) {
		t.Error("more.jsonl after the incremental sync differs from a full sync's")
	}
	if got, want := sortedMCPs(t, out("mcps.json")), sortedMCPs(t, refOut("mcps.json")); !slices.Equal(got, want) {
		t.Errorf("mcps.json after the incremental sync differs from a full sync's:\n%s", lineDiff(got, want))
	}
	if got, want := catalogAssets(t, out("catalog.db")), catalogAssets(t, refOut("catalog.db")); got != want {
		t.Errorf("the catalog after the incremental sync differs from a full sync's:\n%s", lineDiff(strings.Split(got, "\n"), strings.Split(want, "\n")))
	}
	if got, want := len(sortedLines(t, out("openlineage.jsonl"))), len(sortedLines(t, refOut("openlineage.jsonl"))); got != want {
		t.Errorf("openlineage.jsonl holds %d events after the incremental sync, a full sync's %d", got, want)
	}

	// 6. A workspace is deleted: removals for its assets only, and nothing else is sent.
	srv.Age(time.Hour)
	deleted := srv.DeleteWorkspace()
	before = len(readEvents(t, out("events.jsonl")))
	if req := syncRequests(t, srv, "-f", f); req[getInfo] != 0 {
		t.Errorf("deleting a workspace made the sync scan: %v", req)
	}
	removed := 0
	for _, ev := range readEvents(t, out("events.jsonl"))[before:] {
		switch ev.Kind {
		case event.KindSpec:
			t.Errorf("spec of %s sent after only a deletion", ev.Spec.PowerBI)
		case event.KindRemoved:
			removed++
			if ev.Removed.PowerBI.WorkspaceID != deleted {
				t.Errorf("removed %s of workspace %s; only %s was deleted", ev.Removed.PowerBI, ev.Removed.PowerBI.WorkspaceID, deleted)
			}
		}
	}
	if removed == 0 {
		t.Error("no removal for the deleted workspace")
	}
	for _, line := range sortedLines(t, out("specs.jsonl")) {
		if strings.Contains(line, deleted) {
			t.Fatalf("specs.jsonl still holds an asset of the deleted workspace: %.200s", line)
		}
	}

	// 7. --full scans everything and leaves the outputs as a full sync writes them.
	if req := syncRequests(t, srv, "-f", f, "--full"); req[getInfo] == 0 {
		t.Errorf("--full did not scan: %v", req)
	}
}

func readEventsBytes(t *testing.T, data []byte) []event.Event {
	t.Helper()
	p := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return readEvents(t, p)
}

func sortedLinesBytes(data []byte) []string {
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	slices.Sort(lines)
	return lines
}

// lineDiff lists the first lines only one side has.
func lineDiff(got, want []string) string {
	var b strings.Builder
	n := 0
	for _, l := range got {
		if !slices.Contains(want, l) && n < 6 {
			fmt.Fprintf(&b, "+ %.300s\n", l)
			n++
		}
	}
	for _, l := range want {
		if !slices.Contains(got, l) && n < 12 {
			fmt.Fprintf(&b, "- %.300s\n", l)
			n++
		}
	}
	return b.String()
}

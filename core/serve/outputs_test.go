package serve_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/sdk/event"
)

// Every built-in sink's file form; events.jsonl appends, so every event of the
// server's life must be in it exactly once.
const sharedOutputs = `outputs:
  - name: specs
    jsonl: {path: out/specs.jsonl, format: specs}
  - name: events
    jsonl: {path: out/events.jsonl, append: true}
  - name: latest
    jsonl: {path: out/latest.jsonl}
  - name: datahub
    datahub: {file: out/mcps.json}
  - name: lineage
    openlineage: {file: out/openlineage.jsonl}
  - name: catalog
    sqlite: {path: out/catalog.db}
    batch_size: 5
refresh:
  select: [{name: Inventory}, {name: Campaigns}]
  poll: {initial: 20ms, max: 50ms}
  when_running: fail
`

// readLines parses a JSON Lines file completely.
func readLines(t *testing.T, path string) []json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a whole line", path)
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 8<<20)
	for n := 1; sc.Scan(); n++ {
		if !json.Valid(sc.Bytes()) {
			t.Fatalf("%s:%d is broken: %.200s", path, n, sc.Text())
		}
		out = append(out, append(json.RawMessage(nil), sc.Bytes()...))
	}
	return out
}

// TestServeSharesOutputs runs syncs, upstream-triggered refreshes and scheduled
// refreshes at once, then checks that every output parses completely and that the
// appending events file holds every sync's and every refresh's events exactly once.
// (A trigger for a model that is refreshing already fails at once, with when_running:
// fail, so every refresh has one follower and its events are sent once.)
func TestServeSharesOutputs(t *testing.T) {
	// Full syncs, each sending every spec: the most for the outputs to share.
	f := newFixtureSource(t, "      incremental: {enabled: false}\n", sharedOutputs)
	f.refreshEvery = "@every 1s"
	for _, name := range []string{"Sales Model", "Inventory", "Campaigns"} {
		for range 20 {
			f.emu.ScriptRefresh(modelID(t, f, name), powerbitest.RefreshScript{Queue: 30 * time.Millisecond, Run: 150 * time.Millisecond})
		}
	}
	base, stop := f.start(t, true)
	waitFor(t, "the first sync", func() bool {
		var h map[string]any
		get(t, base+"/healthz", &h)
		return h["models"].(float64) > 0
	})
	const syncs, triggers = 4, 6
	var wg sync.WaitGroup
	for i := range syncs + triggers {
		wg.Go(func() {
			if i < syncs {
				if code, out := post(t, base+"/v1/sync", token, ""); code != http.StatusAccepted {
					t.Errorf("sync: %d %v", code, out)
				}
				return
			}
			time.Sleep(time.Duration(i-syncs) * 150 * time.Millisecond)
			if code, out := post(t, base+"/v1/upstream-changed", token, `{"keys":["sales_db/public/orders"]}`); code != http.StatusAccepted {
				t.Errorf("trigger: %d %v", code, out)
			}
		})
	}
	wg.Wait()
	waitUpTo(t, 2*time.Minute, "every sync and refresh to end", func() bool {
		var r refreshes
		get(t, base+"/v1/refreshes", &r)
		m := get(t, base+"/metrics", nil)
		return len(r.Running) == 0 && len(r.Recent) >= triggers && strings.Contains(m, fmt.Sprintf(`pbisync_syncs_total{result="success"} %d`, 1+syncs))
	})
	var r refreshes
	get(t, base+"/v1/refreshes", &r)
	stop()

	dir := filepath.Join(f.dir, "out")
	var evs []event.Event
	for _, line := range readLines(t, filepath.Join(dir, "events.jsonl")) {
		var e event.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	specs, summaries := 0, 0
	seen := map[string]int{}
	for _, e := range evs {
		switch e.Kind {
		case event.KindSpec:
			specs++
		case event.KindSummary:
			summaries++
		case event.KindRefresh:
			if e.Refresh.RequestID != "" { // one refused before it started has no id
				seen[e.Refresh.RequestID+" "+string(e.Refresh.State)]++
			}
		}
	}
	perSync := len(readLines(t, filepath.Join(dir, "specs.jsonl")))
	if summaries != 1+syncs || specs != (1+syncs)*perSync {
		t.Errorf("events.jsonl holds %d summaries and %d specs, want %d and %d", summaries, specs, 1+syncs, (1+syncs)*perSync)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("refresh event %s is in events.jsonl %d times", k, n)
		}
	}
	for _, v := range r.Recent {
		id, st := v["requestId"].(string), v["state"].(string)
		if id == "" {
			continue // refused before it started: no events
		}
		if seen[id+" requested"] != 1 || seen[id+" "+st] != 1 {
			t.Errorf("refresh %s (%s) is missing from events.jsonl", id, st)
		}
	}
	// One ordered stream: a sync's events are never interleaved with refresh events,
	// and the file a sync replaces holds exactly what the appending file got from the
	// last sync on (its events, then the refresh events that waited for it, then the
	// later ones), byte for byte.
	lines := readLines(t, filepath.Join(dir, "events.jsonl"))
	lastSync, inSync := -1, false
	for i, e := range evs {
		switch e.Kind {
		case event.KindSpec:
			if !inSync {
				lastSync, inSync = i, true
			}
		case event.KindSummary:
			inSync = false
		case event.KindRefresh:
			if inSync {
				t.Errorf("events.jsonl:%d: a refresh event inside a sync's events", i+1)
			}
		}
	}
	var tail []byte
	for _, l := range lines[lastSync:] {
		tail = append(append(tail, l...), '\n')
	}
	latest, _ := os.ReadFile(filepath.Join(dir, "latest.jsonl"))
	if !bytes.Equal(latest, tail) {
		t.Errorf("latest.jsonl (%d lines) is not the last sync and the refresh events after it (%d lines)",
			len(readLines(t, filepath.Join(dir, "latest.jsonl"))), len(lines)-lastSync)
	}
	readLines(t, filepath.Join(dir, "openlineage.jsonl"))
	var mcps []json.RawMessage
	data, _ := os.ReadFile(filepath.Join(dir, "mcps.json"))
	if err := json.Unmarshal(data, &mcps); err != nil || len(mcps) == 0 {
		t.Errorf("mcps.json is not a whole JSON array: %v", err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "catalog.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var runs, syncRows int
	db.QueryRow("SELECT count(*) FROM refresh_runs").Scan(&runs)
	db.QueryRow("SELECT count(*) FROM syncs").Scan(&syncRows)
	requested := 0
	for k := range seen {
		if strings.HasSuffix(k, " requested") {
			requested++
		}
	}
	if runs != requested || syncRows != 1+syncs {
		t.Errorf("catalog: %d refresh runs (want %d), %d syncs (want %d)", runs, requested, syncRows, 1+syncs)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.partial")); len(left) > 0 {
		t.Errorf("unfinished files left: %v", left)
	}
}

// TestServeFailedSyncLeavesOutputs: a sync under serve that fails midway leaves every
// output as the last good sync left it.
func TestServeFailedSyncLeavesOutputs(t *testing.T) {
	f := newFixtureWith(t, sharedOutputs)
	base, stop := f.start(t, true)
	waitFor(t, "the first sync", func() bool {
		var h map[string]any
		get(t, base+"/healthz", &h)
		return h["models"].(float64) > 0
	})
	dir := filepath.Join(f.dir, "out")
	files := []string{"specs.jsonl", "events.jsonl", "latest.jsonl", "mcps.json", "openlineage.jsonl"}
	read := func() map[string]string {
		got := map[string]string{}
		for _, name := range files {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			got[name] = string(data)
		}
		return got
	}
	before := read()
	f.emu.FailScans("*")
	f.emu.ModifyWorkspaces(1) // the incremental sync scans it, and fails
	if code, out := post(t, base+"/v1/sync", token, ""); code != http.StatusAccepted {
		t.Fatalf("sync: %d %v", code, out)
	}
	waitFor(t, "the sync to fail", func() bool {
		return strings.Contains(get(t, base+"/metrics", nil), `pbisync_syncs_total{result="failure"} 1`)
	})
	stop()
	after := read()
	for _, name := range files {
		if after[name] != before[name] {
			t.Errorf("%s changed after a failed sync under serve", name)
		}
	}
}

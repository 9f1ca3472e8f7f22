package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
)

func writePipeline(t *testing.T, body string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	f := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return f, dir
}

func readEvents(t *testing.T, path string) []event.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []event.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	return out
}

const emulatorPipeline = `version: 1
sources:
  - emulator: {tenant: sample}
outputs:
  - name: events
    jsonl: {path: events.jsonl, format: events}
`

func TestRunSyncsThenRefreshes(t *testing.T) {
	f, dir := writePipeline(t, emulatorPipeline+"refresh:\n  select: [{name: Inventory}]\n  poll: {initial: 50ms, max: 200ms}\n")
	code, _, errOut := cli(t, "run", "-f", f)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	evs := readEvents(t, filepath.Join(dir, "events.jsonl"))
	var kinds []string
	var states []event.RefreshState
	for _, e := range evs {
		if len(kinds) == 0 || kinds[len(kinds)-1] != string(e.Kind) {
			kinds = append(kinds, string(e.Kind))
		}
		if e.Kind == event.KindRefresh {
			if e.Refresh.Model.Name != "Inventory" {
				t.Errorf("refreshed %q", e.Refresh.Model.Name)
			}
			states = append(states, e.Refresh.State)
			// Self-contained: the event carries the model's spec (its tables) and the
			// model's related assets (its data sources).
			if ms := e.Refresh.ModelSpec; ms == nil || ms.PowerBI.ID != e.Refresh.Model.ID || len(ms.Metadata) == 0 || len(e.Related) == 0 {
				t.Errorf("refresh event without its model's spec or related assets: %+v, related %v", ms, e.Related)
			}
		}
	}
	if strings.Join(kinds, ",") != "spec,summary,refresh" {
		t.Errorf("event order %v, want specs, the summary, then refresh events", kinds)
	}
	if len(states) < 2 || states[0] != event.RefreshRequested || states[len(states)-1] != event.RefreshCompleted {
		t.Errorf("refresh states %v", states)
	}
}

func TestRefreshCommand(t *testing.T) {
	f, dir := writePipeline(t, emulatorPipeline+"refresh:\n  poll: {initial: 50ms, max: 200ms}\n")
	code, _, errOut := cli(t, "refresh", "-f", f, "semantic_model/Inventory", "Campaigns")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	done := map[string]bool{}
	for _, e := range readEvents(t, filepath.Join(dir, "events.jsonl")) {
		if e.Kind != event.KindRefresh {
			t.Errorf("an ad hoc refresh sent a %s event", e.Kind)
			continue
		}
		if e.Refresh.State == event.RefreshCompleted {
			done[e.Refresh.Model.Name] = true
		}
		// The run kept the specs of the models named (by key and by name), and their
		// events carry them.
		if ms := e.Refresh.ModelSpec; ms == nil || ms.PowerBI.ID != e.Refresh.Model.ID {
			t.Errorf("a refresh event of %q without its model's spec", e.Refresh.Model.Name)
		}
	}
	if !done["Inventory"] || !done["Campaigns"] {
		t.Errorf("completed: %v", done)
	}
	code, _, errOut = cli(t, "refresh", "-f", f, "Nope")
	if code != exitUsage || !strings.Contains(errOut, `no semantic model is named "Nope"`) || !strings.Contains(errOut, `"Inventory"`) {
		t.Errorf("unknown model: exit %d: %s", code, errOut)
	}
}

func TestRefreshNeedsAPowerBISource(t *testing.T) {
	f, _ := writePipeline(t, "version: 1\nsources:\n  - snapshot: "+absPath(t, "../../core/snapshot/testdata/scanresult_msdocs.json")+"\noutputs:\n  - {name: e, jsonl: {path: e.jsonl}}\n")
	code, _, errOut := cli(t, "refresh", "-f", f, "ExportB")
	if code != exitUsage || !strings.Contains(errOut, "reads a snapshot file") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

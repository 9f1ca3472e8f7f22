package sinkhost

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
)

func summaryEvent() event.Event {
	now := time.Now().UTC()
	return event.Event{Kind: event.KindSummary, Summary: &event.Summary{StartedAt: now, EndedAt: now, Assets: map[string]int{}}}
}

func catalogAssets(t *testing.T, db string) int {
	t.Helper()
	cat, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	var n int
	if err := cat.QueryRow(`SELECT count(*) FROM assets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBeginChanges offers real plugin processes syncs of changes only: a catalog that
// holds a sync takes them, also across a crash of its plugin within the run, and keeps
// what it held; a new catalog, a file a sync replaces and a plugin that predates the
// offer do not (they must be sent every asset); a file a sync replaces takes a sync with
// no changes and is left byte for byte.
func TestBeginChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "catalog.db")
	entry := pluginEntry("catalog", "sqlite", fmt.Sprintf("{path: %q}", db))

	fresh := startSink(t, entry, testOptions(nil))
	if took, err := fresh.BeginChanges(ctx, false); err != nil || took {
		t.Fatalf("a new catalog took a sync of changes only (%v, %v)", took, err)
	}
	writeAll(t, fresh, append(specEvents(0, 100), summaryEvent()), 50, nil)
	if err := fresh.Close(ctx); err != nil {
		t.Fatal(err)
	}

	s := startSink(t, entry, testOptions(nil))
	took, err := s.BeginChanges(ctx, false)
	if err != nil || !took {
		t.Fatalf("a catalog that holds a sync refused its changes (%v, %v)", took, err)
	}
	writeAll(t, s, specEvents(100, 40), 20, nil)
	if err := s.waitAcked(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	in := s.inst
	s.mu.Unlock()
	in.client.Kill() // the plugin dies within the run: the restart resumes it as changes only
	<-in.dead
	writeAll(t, s, append(specEvents(140, 10), summaryEvent()), 20, nil)
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Status(); st.Restarts != 1 {
		t.Errorf("restarts %d, want 1", st.Restarts)
	}
	if n := catalogAssets(t, db); n != 150 {
		t.Errorf("the catalog holds %d assets after a sync of 50 changes to 100, want 150", n)
	}

	specs := filepath.Join(dir, "specs.jsonl")
	previous := []byte("{\"kind\":\"summary\"}\n")
	os.WriteFile(specs, previous, 0o644)
	repl := startSink(t, pluginEntry("specs", "jsonl", fmt.Sprintf("{path: %q, format: specs}", specs)), testOptions(nil))
	if took, err := repl.BeginChanges(ctx, false); err != nil || took {
		t.Fatalf("a file a sync replaces took changes (%v, %v)", took, err)
	}
	repl.AbortRun(ctx, fmt.Errorf("test"))
	repl = startSink(t, pluginEntry("specs", "jsonl", fmt.Sprintf("{path: %q, format: specs}", specs)), testOptions(nil))
	if took, err := repl.BeginChanges(ctx, true); err != nil || !took {
		t.Fatalf("a file a sync replaces refused a sync with no changes (%v, %v)", took, err)
	}
	writeAll(t, repl, []event.Event{summaryEvent()}, 1, nil)
	if err := repl.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(specs); !bytes.Equal(got, previous) {
		t.Errorf("a sync with no changes rewrote the file: %q", got)
	}
	os.Remove(specs)
	gone := startSink(t, pluginEntry("specs", "jsonl", fmt.Sprintf("{path: %q, format: specs}", specs)), testOptions(nil))
	if took, _ := gone.BeginChanges(ctx, true); took {
		t.Error("a deleted file took a sync with no changes")
	}
	gone.AbortRun(ctx, fmt.Errorf("test"))

	legacy := startSink(t, pluginEntry("old", "legacy", fmt.Sprintf("{path: %q}", filepath.Join(dir, "old.jsonl"))), testOptions(nil))
	if took, err := legacy.BeginChanges(ctx, true); err != nil || took {
		t.Errorf("a plugin that predates the offer took it (%v, %v)", took, err)
	}
}

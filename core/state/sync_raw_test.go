package state

import (
	"context"
	"testing"
	"time"
)

// TestRawStore: raw rows replace per workspace, unfinished runs and pending scans are
// listed until a sync completes, and completing deletes the rows of workspaces gone from
// the listing; the translator fingerprint is kept with the marks.
func TestRawStore(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if err := st.BeginSyncRun(ctx, "p", "s", SyncRun{ID: "run1", Mark: at, StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	rows := []RawWorkspace{{ID: "A", SyncID: "run1", ReadAt: at, Data: []byte("a1")}, {ID: "b", SyncID: "run1", ReadAt: at, Data: []byte("b1")}}
	if err := st.SaveRawWorkspaces(ctx, "p", "s", rows); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRawWorkspaces(ctx, "p", "s", []RawWorkspace{{ID: "a", SyncID: "run2", ReadAt: at.Add(time.Minute), Data: []byte("a2")}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveRawWorkspaces(ctx, "other", "s", []RawWorkspace{{ID: "a", SyncID: "x", ReadAt: at, Data: []byte("other")}}); err != nil {
		t.Fatal(err)
	}
	idx, err := st.RawWorkspaceIndex(ctx, "p", "s")
	if err != nil || len(idx) != 2 || idx["a"].SyncID != "run2" || !idx["a"].ReadAt.Equal(at.Add(time.Minute)) || idx["b"].SyncID != "run1" {
		t.Fatalf("index %+v, %v", idx, err)
	}
	if w, err := st.RawWorkspaceData(ctx, "p", "s", "A"); err != nil || string(w.Data) != "a2" {
		t.Fatalf("data of a: %q, %v", w.Data, err)
	}
	if w, err := st.RawWorkspaceData(ctx, "p", "s", "missing"); err != nil || w.Data != nil {
		t.Fatalf("data of a missing workspace: %q, %v", w.Data, err)
	}
	if err := st.SavePendingScan(ctx, "p", "s", PendingScan{ScanID: "scan1", SyncID: "run1", RequestedAt: at, Workspaces: []string{"c", "d"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SavePendingScan(ctx, "p", "s", PendingScan{ScanID: "scan2", SyncID: "run1", RequestedAt: at, Workspaces: []string{"e"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DropPendingScan(ctx, "p", "s", "scan2"); err != nil {
		t.Fatal(err)
	}
	ps, err := st.PendingScans(ctx, "p", "s")
	if err != nil || len(ps) != 1 || ps[0].ScanID != "scan1" || len(ps[0].Workspaces) != 2 || !ps[0].RequestedAt.Equal(at) {
		t.Fatalf("pending %+v, %v", ps, err)
	}
	runs, err := st.UnfinishedSyncRuns(ctx, "p", "s")
	if err != nil || len(runs) != 1 || runs[0].ID != "run1" || !runs[0].Mark.Equal(at) {
		t.Fatalf("runs %+v, %v", runs, err)
	}
	// Completing: b is gone from the listing.
	if err := st.CompleteSyncRuns(ctx, "p", "s", map[string]bool{"a": true}); err != nil {
		t.Fatal(err)
	}
	if idx, _ := st.RawWorkspaceIndex(ctx, "p", "s"); len(idx) != 1 || idx["a"].ID != "a" {
		t.Errorf("after completing: %+v", idx)
	}
	if runs, _ := st.UnfinishedSyncRuns(ctx, "p", "s"); len(runs) != 0 {
		t.Errorf("runs after completing: %+v", runs)
	}
	if ps, _ := st.PendingScans(ctx, "p", "s"); len(ps) != 0 {
		t.Errorf("pending after completing: %+v", ps)
	}
	if n, size, _ := st.RawStoreSize(ctx, "other"); n != 1 || size != 5 {
		t.Errorf("another pipeline's raw store: %d workspaces, %d bytes", n, size)
	}
	// Without a listing nothing is deleted.
	if err := st.CompleteSyncRuns(ctx, "p", "s", nil); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := st.RawStoreSize(ctx, "p"); n != 1 {
		t.Errorf("completing without a listing deleted rows: %d left", n)
	}
	if err := st.SetSyncMark(ctx, "p", "s", SyncMark{Mark: at, Translators: "fp1"}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.SyncMark(ctx, "p", "s"); err != nil || got.Translators != "fp1" {
		t.Errorf("fingerprint %q, %v", got.Translators, err)
	}
}

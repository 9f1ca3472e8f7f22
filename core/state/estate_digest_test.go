package state

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openAtVersion creates a state database in dir with the schema of version v, as the
// pbisync that wrote it left it.
func openAtVersion(t *testing.T, dir string, v int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if m.version > v {
			break
		}
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("migration %d: %v", m.version, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
	return db
}

func keptDigests(t *testing.T, run *EstateRun, ids ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if err := run.KeptDigests(context.Background(), "report", ids, func(id string, d []byte) { out[id] = string(d) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEstateDigestUpgrade: a version 15 store (its estate rows without a digest) opens
// at version 16 with its estate as it was; its rows have no digest (so a sync writes
// them again), and a run sees the digests of the rows it staged and of the committed
// ones, never those of a run that did not commit.
func TestEstateDigestUpgrade(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := openAtVersion(t, dir, 15)
	for _, q := range []string{
		`INSERT INTO estate_assets (pipeline, gen, type, id, summary, page, event, related) VALUES ('p', 1, 'report', 'r1', '{"name":"r1"}', '', x'00', x'01')`,
		`INSERT INTO estate_meta (pipeline, generation, committed_at) VALUES ('p', 1, '2026-01-01T00:00:00Z')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if v, _ := st.Version(ctx); v != SchemaVersion || v < 16 {
		t.Fatalf("version %d after the upgrade", v)
	}
	if got := estateIDs(t, st, "p"); len(got) != 1 || got[0] != `report:r1={"name":"r1"}` {
		t.Fatalf("estate after the upgrade: %v", got)
	}
	run, err := st.BeginEstate(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if got := keptDigests(t, run, "r1", "r2"); len(got) != 0 {
		t.Fatalf("digests of rows written before version 16: %v", got)
	}
	if err := run.Stage(ctx, []EstateRow{{Type: "report", ID: "r2", Summary: "{}", Digest: []byte("d2")}}); err != nil {
		t.Fatal(err)
	}
	if got := keptDigests(t, run, "r1", "r2"); len(got) != 1 || got["r2"] != "d2" {
		t.Fatalf("digests while staging: %v", got)
	}
	if err := run.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	// A run killed after staging: the next one neither sees its rows nor their digests.
	run, _ = st.BeginEstate(ctx, "p")
	_ = run.Stage(ctx, []EstateRow{{Type: "report", ID: "r1", Summary: "{}", Digest: []byte("killed")}})
	run, _ = st.BeginEstate(ctx, "p")
	if got := keptDigests(t, run, "r1", "r2"); len(got) != 0 {
		t.Fatalf("digests after an aborted and a killed run: %v", got)
	}
	if err := run.Stage(ctx, []EstateRow{{Type: "report", ID: "r1", Summary: `{"name":"r1"}`, Digest: []byte("d1")}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ = st.BeginEstate(ctx, "p")
	if got := keptDigests(t, run, "r1", "r2"); len(got) != 1 || got["r1"] != "d1" {
		t.Fatalf("digests after a commit: %v", got)
	}
	if err := run.Stage(ctx, []EstateRow{{Type: "report", ID: "r1", Summary: `{"name":"r1","v":2}`, Digest: []byte("d1b")}}); err != nil {
		t.Fatal(err)
	}
	if got := keptDigests(t, run, "r1"); got["r1"] != "d1b" {
		t.Fatalf("digest of a row replaced by this run: %v", got)
	}
}

// TestKeptDigestsManyIDs: more ids than one query takes.
func TestKeptDigestsManyIDs(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, _ := st.BeginEstate(ctx, "p")
	var rows []EstateRow
	var ids []string
	for i := range 2*keptDigestsAtOnce + 7 {
		id := fmt.Sprintf("r%04d", i)
		ids = append(ids, id)
		if i%3 != 0 {
			rows = append(rows, EstateRow{Type: "report", ID: id, Summary: "{}", Digest: []byte("d" + id)})
		}
	}
	if err := run.Stage(ctx, rows); err != nil {
		t.Fatal(err)
	}
	got := keptDigests(t, run, ids...)
	if len(got) != len(rows) {
		t.Fatalf("%d digests for %d rows", len(got), len(rows))
	}
	for _, r := range rows {
		if got[r.ID] != "d"+r.ID {
			t.Fatalf("digest of %s: %q", r.ID, got[r.ID])
		}
	}
}

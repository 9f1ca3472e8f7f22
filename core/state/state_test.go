package state

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

func asset(typ spec.ContentType, id string, key ...string) Asset {
	return Asset{Key: key, PowerBI: spec.Identity{Type: typ, ID: id, Name: id + " name", WorkspaceID: "ws1", WorkspaceName: "Finance"}}
}

func TestPreviousAndRemoved(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), ".pbisync")
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := st.PreviousAssets(ctx, "p1")
	if err != nil || len(prev) != 0 {
		t.Fatalf("first sync: %v %v", prev, err)
	}
	first := []Asset{
		asset(spec.Report, "r1", "report", "Sales"),
		asset(spec.Report, "r2", "report", "Old"),
		asset(spec.Dashboard, "d1", "dashboard", "KPIs"),
		asset(spec.SemanticModel, "m1", "semantic_model", "Sales"),
	}
	if err := st.SaveAssets(ctx, "p1", first); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveAssets(ctx, "p2", first[:1]); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Reopen: the state survives; a translator renamed r1's key, r2 and d1 are gone.
	st, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	prev, err = st.PreviousAssets(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if len(prev) != 4 || !prev[AssetID{spec.Report, "r2"}].Key.Equal(spec.Key{"report", "Old"}) {
		t.Fatalf("previous %v", prev)
	}
	second := []Asset{asset(spec.Report, "r1", "finance", "report", "Sales"), first[3]}
	removed := Removed(prev, second)
	if len(removed) != 2 || removed[0].PowerBI.ID != "d1" || removed[1].PowerBI.ID != "r2" ||
		removed[1].PowerBI.WorkspaceName != "Finance" || removed[1].PowerBI.Name != "r2 name" {
		t.Fatalf("removed %+v", removed)
	}
	if err := st.SaveAssets(ctx, "p1", second); err != nil {
		t.Fatal(err)
	}
	prev, _ = st.PreviousAssets(ctx, "p1")
	if len(prev) != 2 || !prev[AssetID{spec.Report, "r1"}].Key.Equal(spec.Key{"finance", "report", "Sales"}) {
		t.Fatalf("after second sync %v", prev)
	}
	other, _ := st.PreviousAssets(ctx, "p2")
	if len(other) != 1 {
		t.Fatalf("pipelines must not mix: %v", other)
	}
	if v, _ := st.Version(ctx); v != SchemaVersion {
		t.Fatalf("version %d", v)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = Open(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), "schema version 99 is newer") {
		t.Fatalf("error %v", err)
	}
}

func TestMissingIdentity(t *testing.T) {
	st, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.SaveAssets(context.Background(), "p", []Asset{{Key: spec.Key{"x"}}})
	if err == nil || !strings.Contains(err.Error(), "asset x has no Power BI identity") {
		t.Fatalf("error %v", err)
	}
}

func TestNotADatabase(t *testing.T) {
	dir := t.TempDir()
	db, _ := sql.Open("sqlite", filepath.Join(dir, "x"))
	db.Close()
	if err := writeFile(filepath.Join(dir, FileName), "this is not sqlite, just text long enough to fill a header ....................................."); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir); err == nil {
		t.Fatal("opened garbage")
	}
}

func BenchmarkSaveAssets10k(b *testing.B) {
	st, err := Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	specs := make([]Asset, 10000)
	for i := range specs {
		specs[i] = asset(spec.Report, strings.Repeat("r", 1)+string(rune('a'+i%26))+itoa(i), "report", itoa(i))
	}
	for b.Loop() {
		if err := st.SaveAssets(context.Background(), "p", specs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPageSize: a new state database has newPageSize pages; one created with another
// page size keeps it and works as before.
func TestPageSize(t *testing.T) {
	ctx := context.Background()
	pageSize := func(st *Store) int {
		var n int
		if err := st.db.QueryRowContext(ctx, "PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := pageSize(st); n != newPageSize {
		t.Errorf("new database: page size %d, want %d", n, newPageSize)
	}
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, FileName)+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec("CREATE TABLE x (a)"); err != nil {
		t.Fatal(err)
	}
	old.Close()
	st2, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	if n := pageSize(st2); n != 4096 {
		t.Errorf("existing database: page size %d, want SQLite's default 4096", n)
	}
	if err := st2.SaveAssets(ctx, "p", []Asset{asset(spec.Report, "r1", "report", "1")}); err != nil {
		t.Fatal(err)
	}
	if prev, err := st2.PreviousAssets(ctx, "p"); err != nil || len(prev) != 1 {
		t.Fatalf("existing database: %v, %v", prev, err)
	}
}

// TestConnectionPragmas: every connection of the store's pool gets the settings of its
// DSN (write-ahead log, its checkpoint interval, synchronous=NORMAL), not only the first.
func TestConnectionPragmas(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var conns []*sql.Conn
	for range 3 {
		c, err := st.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var checkpoint, synchronous int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&checkpoint); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&synchronous); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || checkpoint != 4000 || synchronous != 1 {
			t.Errorf("connection %d: journal_mode %s, wal_autocheckpoint %d, synchronous %d; want wal, 4000, 1 (NORMAL)", i, mode, checkpoint, synchronous)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

package state

import (
	"context"
	"testing"
	"time"
)

func TestSyncMarkRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Version(ctx); v != SchemaVersion || SchemaVersion < 10 {
		t.Fatalf("schema version %d, SchemaVersion %d", v, SchemaVersion)
	}
	m, err := st.SyncMark(ctx, "p", "tenant")
	if err != nil || !m.Mark.IsZero() || !m.FullAt.IsZero() {
		t.Fatalf("a source never synced has mark %+v, %v", m, err)
	}
	want := SyncMark{Mark: time.Date(2026, 12, 1, 9, 0, 0, 5, time.UTC), FullAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	if err := st.SetSyncMark(ctx, "p", "tenant", want); err != nil {
		t.Fatal(err)
	}
	want2 := SyncMark{Mark: want.Mark.Add(time.Hour), FullAt: want.FullAt}
	if err := st.SetSyncMark(ctx, "p", "tenant", want2); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.SyncMark(ctx, "p", "tenant")
	if err != nil || !got.Mark.Equal(want2.Mark) || !got.FullAt.Equal(want2.FullAt) {
		t.Fatalf("got %+v, %v; want %+v", got, err, want2)
	}
	if other, _ := st.SyncMark(ctx, "p", "other"); !other.Mark.IsZero() {
		t.Fatalf("marks leak between sources: %+v", other)
	}
}

func TestRequestLedger(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	base := time.Date(2026, 12, 1, 9, 0, 30, 0, time.UTC)
	for i := range 5 {
		if err := st.RecordRequest(ctx, "t1", "POST /admin/workspaces/getInfo", base.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.RecordRequest(ctx, "t2", "POST /admin/workspaces/getInfo", base); err != nil {
		t.Fatal(err)
	}
	got, err := st.RequestsSince(ctx, "t1", "POST /admin/workspaces/getInfo", base.Add(90*time.Second))
	if err != nil || len(got) != 3 || !got[0].Equal(base.Add(2*time.Minute)) || !got[2].Equal(base.Add(4*time.Minute)) {
		t.Fatalf("got %v, %v", got, err)
	}
}

// An estate run that staged nothing keeps the generation (and its rows) without copying.
func TestEstateCommitOfNothingKeepsTheGeneration(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, _ := st.BeginEstate(ctx, "p")
	if err := run.Stage(ctx, []EstateRow{{Type: "report", ID: "r1", Summary: "{}", Page: "{}"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	run, _ = st.BeginEstate(ctx, "p")
	if err := run.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	gen, _, _ := st.EstateGeneration(ctx, "p")
	n := 0
	_ = st.EstateSummaries(ctx, "p", gen, func(string, string, string) error { n++; return nil })
	if gen != 1 || n != 1 {
		t.Fatalf("generation %d with %d rows after an empty commit", gen, n)
	}
}

// Commits replace and remove rows in place: each generation shows, per asset, its latest
// committed row, and a run's staged rows stay invisible until it commits.
func TestEstateCommitsInPlace(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	summaries := func() map[string]string {
		gen, _, _ := st.EstateGeneration(ctx, "p")
		out := map[string]string{}
		_ = st.EstateSummaries(ctx, "p", gen, func(_, id, sum string) error { out[id] = sum; return nil })
		return out
	}
	commit := func(rows ...EstateRow) {
		run, err := st.BeginEstate(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if err := run.Stage(ctx, rows); err != nil {
			t.Fatal(err)
		}
		if err := run.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	commit(EstateRow{Type: "report", ID: "a", Summary: "a1", Page: "pa1"}, EstateRow{Type: "report", ID: "b", Summary: "b1", Page: "pb1"})
	commit(EstateRow{Type: "report", ID: "b", Summary: "b2", Page: "pb2"}, EstateRow{Type: "report", ID: "a", Removed: true})
	if got := summaries(); len(got) != 1 || got["b"] != "b2" {
		t.Fatalf("after replacing b and removing a: %v", got)
	}
	run, _ := st.BeginEstate(ctx, "p")
	_ = run.Stage(ctx, []EstateRow{{Type: "report", ID: "c", Summary: "c3", Page: "pc3"}, {Type: "report", ID: "b", Summary: "b3", Page: "pb3"}})
	if got := summaries(); len(got) != 1 || got["b"] != "b2" {
		t.Fatalf("a staging run shows through: %v", got)
	}
	if p, _, _ := st.EstatePage(ctx, "p", "report", "b"); p != "pb2" {
		t.Fatalf("page of b while staging: %q", p)
	}
	if err := run.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := summaries(); len(got) != 2 || got["b"] != "b3" || got["c"] != "c3" {
		t.Fatalf("after the third commit: %v", got)
	}
	if p, _, _ := st.EstatePage(ctx, "p", "report", "b"); p != "pb3" {
		t.Fatalf("page of b: %q", p)
	}
	var rows int
	_ = st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM estate_assets`).Scan(&rows)
	if rows != 2 {
		t.Fatalf("%d rows kept for 2 assets", rows)
	}
}

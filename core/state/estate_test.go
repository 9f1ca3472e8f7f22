package state

import (
	"context"
	"slices"
	"testing"
)

func estateIDs(t *testing.T, s *Store, pipeline string) []string {
	t.Helper()
	gen, _, err := s.EstateGeneration(context.Background(), pipeline)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	err = s.EstateSummaries(context.Background(), pipeline, gen, func(typ, id, sum string) error {
		out = append(out, typ+":"+id+"="+sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEstateCommitOrKeep(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stage := func(rows ...EstateRow) *EstateRun {
		t.Helper()
		r, err := s.BeginEstate(ctx, "p")
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Stage(ctx, rows); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if err := stage(EstateRow{Type: "report", ID: "a", Summary: "1", Page: "{}"}, EstateRow{Type: "report", ID: "b", Summary: "1", Page: "{}"}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	first := estateIDs(t, s, "p")
	if !slices.Equal(first, []string{"report:a=1", "report:b=1"}) {
		t.Fatalf("after the first commit: %v", first)
	}
	// An aborted run, and one that never ends (a crash), change nothing.
	if err := stage(EstateRow{Type: "report", ID: "a", Summary: "2", Page: "{}"}).Abort(ctx); err != nil {
		t.Fatal(err)
	}
	stage(EstateRow{Type: "report", ID: "c", Summary: "2", Page: "{}"}, EstateRow{Type: "report", ID: "b", Removed: true})
	if got := estateIDs(t, s, "p"); !slices.Equal(got, first) {
		t.Fatalf("an uncommitted run changed the estate: %v", got)
	}
	if sp, _, _ := s.EstatePage(ctx, "p", "report", "c"); sp != "" {
		t.Fatalf("an uncommitted asset is readable: %q", sp)
	}
	// The next run updates a, removes b, adds d; c of the crashed run is gone.
	if err := stage(EstateRow{Type: "report", ID: "a", Summary: "3", Page: "{}"}, EstateRow{Type: "report", ID: "b", Removed: true},
		EstateRow{Type: "report", ID: "d", Summary: "3", Page: "{}"}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := estateIDs(t, s, "p"); !slices.Equal(got, []string{"report:a=3", "report:d=3"}) {
		t.Fatalf("after the second commit: %v", got)
	}
	// Rows staged out of the index's order are kept as sent: of one asset's rows, the
	// last staged (Stage writes them in the index's order, keeping theirs).
	if err := stage(EstateRow{Type: "report", ID: "z", Summary: "5", Page: "{}"}, EstateRow{Type: "dashboard", ID: "y", Summary: "5", Page: "{}"},
		EstateRow{Type: "report", ID: "z", Summary: "6", Page: "{}"}, EstateRow{Type: "report", ID: "d", Summary: "4", Page: "{}"},
		EstateRow{Type: "dashboard", ID: "y", Summary: "7", Page: "{}"}, EstateRow{Type: "report", ID: "a", Summary: "3", Page: "{}"}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := estateIDs(t, s, "p"); !slices.Equal(got, []string{"dashboard:y=7", "report:a=3", "report:d=4", "report:z=6"}) {
		t.Fatalf("after an unordered run: %v", got)
	}
	// A run that sends only part of the estate keeps the rest.
	if err := stage(EstateRow{Type: "report", ID: "d", Summary: "4", Page: "{}"}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := estateIDs(t, s, "p"); !slices.Equal(got, []string{"dashboard:y=7", "report:a=3", "report:d=4", "report:z=6"}) {
		t.Fatalf("after a partial run: %v", got)
	}
	var rows int
	s.db.QueryRowContext(ctx, `SELECT count(*) FROM estate_assets`).Scan(&rows)
	if rows != 4 {
		t.Errorf("%d rows left in estate_assets, want only the current generation's 4", rows)
	}
}

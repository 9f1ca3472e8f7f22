package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
	"github.com/pbisync/pbisync/sdk/spec"
)

func fixedClock() time.Time { return time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) }

// configured returns a sink configured for path with a fixed clock, as a (restarted,
// when resume) plugin process would be.
func configured(t *testing.T, path string, resume bool) *Sink {
	t.Helper()
	s := New()
	s.now = fixedClock
	if err := s.Configure(context.Background(), sink.Config{Name: "catalog", Raw: []byte(`{"path":"` + path + `"}`), Resume: resume}); err != nil {
		t.Fatal(err)
	}
	return s
}

// crash ends s as a killed process would: nothing more reaches the database.
func crash(t *testing.T, s *Sink) {
	t.Helper()
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeBatches(t *testing.T, s *Sink, events []event.Event, size int) {
	t.Helper()
	for i := 0; i < len(events); i += size {
		if err := s.WriteBatch(context.Background(), events[i:min(i+size, len(events))]); err != nil {
			t.Fatal(err)
		}
	}
}

func stagedRows(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return query(t, db, `SELECT (SELECT count(*) FROM staging_runs) || '/' || (SELECT count(*) FROM staging_events)`)
}

// seeded returns a catalog that one completed sync (the sample's first four events)
// wrote, and its rows.
func seeded(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "catalog.db")
	s := configured(t, path, false)
	if err := s.Begin(context.Background(), sink.Run{Kind: sink.RunSync, ID: "seed"}); err != nil {
		t.Fatal(err)
	}
	writeBatches(t, s, sinktest.Sample()[:4], 3)
	if err := s.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	return path, dumpCatalog(t, path)
}

// TestSyncIsStaged: a sync reaches the catalog only when it commits, whole, also when
// its sink process died within it and a restarted one resumed it.
func TestSyncIsStaged(t *testing.T) {
	ctx := context.Background()
	sample := sinktest.Sample()

	// What a clean sync of the sample over the seeded catalog leaves.
	cleanPath, before := seeded(t)
	clean := configured(t, cleanPath, false)
	if err := clean.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "clean"}); err != nil {
		t.Fatal(err)
	}
	writeBatches(t, clean, sample, 2)
	if err := clean.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	clean.Close(ctx)
	want := dumpCatalog(t, cleanPath)
	if want == before {
		t.Fatal("the clean sync changed nothing: the test proves nothing")
	}

	t.Run("resumed after a crash", func(t *testing.T) {
		path, before := seeded(t)
		first := configured(t, path, false)
		if err := first.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "r1"}); err != nil {
			t.Fatal(err)
		}
		writeBatches(t, first, sample[:6], 2) // three batches acknowledged
		crash(t, first)
		if got := dumpCatalog(t, path); got != before {
			t.Fatalf("an unfinished sync changed the catalog:\n%s", got)
		}
		if got := stagedRows(t, path); got != "1/6" {
			t.Fatalf("staged runs/events after the crash: %s, want the 6 acknowledged events", got)
		}
		// The restarted sink resumes the run; the host sends the batches from the last
		// acknowledged one on again (at least once: the third batch comes twice).
		second := configured(t, path, true)
		if err := second.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "r1", Resume: true}); err != nil {
			t.Fatal(err)
		}
		writeBatches(t, second, sample[4:], 2)
		if got := dumpCatalog(t, path); got != before {
			t.Fatalf("the sync changed the catalog before its commit:\n%s", got)
		}
		if err := second.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		second.Close(ctx)
		if got := dumpCatalog(t, path); got != want {
			t.Fatalf("resumed sync:\n%s\nwant (a clean sync):\n%s", got, want)
		}
		if got := stagedRows(t, path); got != "0/0" {
			t.Errorf("staging left after the commit: %s", got)
		}
	})

	t.Run("aborted", func(t *testing.T) {
		path, before := seeded(t)
		if err := sinktest.Run(ctx, configured(t, path, false), sinktest.Options{Config: `{"path":"` + path + `"}`, BatchSize: 2, AbortWith: "the source failed"}, sample); err != nil {
			t.Fatal(err)
		}
		if got := dumpCatalog(t, path); got != before {
			t.Fatalf("an aborted sync changed the catalog:\n%s\nwas\n%s", got, before)
		}
		if got := stagedRows(t, path); got != "0/0" {
			t.Errorf("staging left after the abort: %s", got)
		}
	})

	t.Run("crashed, then a new sync", func(t *testing.T) {
		path, before := seeded(t)
		dead := configured(t, path, false)
		if err := dead.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "dead"}); err != nil {
			t.Fatal(err)
		}
		ghost := *sample[1].Spec
		ghost.Key, ghost.PowerBI.ID = spec.Key{"semantic_model", "Ghost"}, "ghost-id"
		writeBatches(t, dead, []event.Event{{Kind: event.KindSpec, Spec: &ghost}}, 1)
		crash(t, dead)
		if got := dumpCatalog(t, path); got != before {
			t.Fatalf("a dead sync changed the catalog:\n%s", got)
		}
		// A later sync drops the dead one's staging instead of applying it.
		next := configured(t, path, false)
		if err := next.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "next"}); err != nil {
			t.Fatal(err)
		}
		writeBatches(t, next, sample, 3)
		if err := next.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		next.Close(ctx)
		if got := dumpCatalog(t, path); got != want {
			t.Fatalf("the next sync:\n%s\nwant:\n%s", got, want)
		}
		// The dead run cannot be resumed any more: its staging is gone.
		late := configured(t, path, true)
		err := late.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "dead", Resume: true})
		if err == nil || !strings.Contains(err.Error(), "staged rows of sync dead are gone") {
			t.Fatalf("resuming a dropped sync: %v", err)
		}
		late.Close(ctx)
		if got := dumpCatalog(t, path); got != want {
			t.Fatal("a refused resume changed the catalog")
		}
	})

	t.Run("a refresh commits as it goes", func(t *testing.T) {
		path, before := seeded(t)
		if err := sinktest.Run(ctx, configured(t, path, false), sinktest.Options{Config: `{"path":"` + path + `"}`, Kind: sink.RunRefresh, AbortWith: "x"}, sample[6:8]); err != nil {
			t.Fatal(err)
		}
		if after := dumpCatalog(t, path); after == before || !strings.Contains(after, "refresh_runs:\nr-") {
			t.Fatalf("the refresh's rows are missing:\n%s", after)
		}
	})
}

// TestStagedEventsRoundTrip: what Commit applies is what was sent, whatever the
// metadata's types (the staged form is the protocol's).
func TestStagedEventsRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sample, err := sinktest.LoadEvents(filepath.Join("..", "..", "..", "sdk", "sink", "sinktest", "testdata", "sample.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Straight into the catalog (a stream applies every batch at once) and through the
	// staging of a sync: the same rows.
	direct, staged := filepath.Join(dir, "direct.db"), filepath.Join(dir, "staged.db")
	for path, kind := range map[string]sink.RunKind{direct: sink.RunStream, staged: sink.RunSync} {
		s := configured(t, path, false)
		if err := sinktest.Run(ctx, s, sinktest.Options{Config: `{"path":"` + path + `"}`, Kind: kind, BatchSize: 3}, sample); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := dumpCatalog(t, direct), dumpCatalog(t, staged); a != b {
		t.Fatalf("staged sync:\n%s\ndirect:\n%s", b, a)
	}
}

package estate

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// reportEvent is a spec event of report id, whose name says its version.
func reportEvent(id, name string) event.Event {
	return event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
		Key: spec.Key{"powerbi", "report", id}, Kinds: []string{"powerbi"},
		// Several metadata entries and tags: the kept bytes must not depend on map order.
		Metadata: map[string]spec.Metadata{"a": {Type: spec.TypeInt, Value: int64(1)}, "b": {Type: spec.TypeText, Value: name},
			"c": spec.JSON(map[string]any{"x": []any{1, 2}}), "d": {Type: spec.TypeURL, Value: "https://app.powerbi.com/" + id}},
		Tags:    map[string]string{"t1": "1", "t2": "2", "t3": "3"},
		PowerBI: spec.Identity{Type: spec.Report, ID: id, Name: name, WorkspaceID: "w1", WorkspaceName: "W"},
	}}
}

var summaryEvent = event.Event{Kind: event.KindSummary, Summary: &event.Summary{}}

// syncEstate runs one estate sink over writes (each one Write) and commits it.
func syncEstate(t *testing.T, st *state.Store, stageRows int, writes ...[]event.Event) *Sink {
	t.Helper()
	ctx := context.Background()
	sk := NewSink(st, "p")
	if stageRows > 0 {
		sk.stageRows = stageRows
	}
	for _, w := range writes {
		if err := sk.Write(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := sk.Write(ctx, []event.Event{summaryEvent}); err != nil {
		t.Fatal(err)
	}
	if err := sk.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return sk
}

// estateNames returns the estate's reports' names (from their kept events) and its generation.
func estateNames(t *testing.T, st *state.Store) (map[string]string, int64) {
	t.Helper()
	ctx := context.Background()
	gen, _, err := st.EstateGeneration(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err = st.EstateEvents(ctx, "p", gen, func(_, id string, kept []byte) error {
		ev, err := DecodeEvent(kept)
		if err != nil {
			return err
		}
		out[id] = ev.Spec.PowerBI.Name
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, gen
}

func openTestStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestSinkLeavesUnchangedAssets: a sync that sends assets as the estate keeps them
// writes none of them again (the generation stays); one that changes one asset writes
// that one.
func TestSinkLeavesUnchangedAssets(t *testing.T) {
	st := openTestStore(t)
	first := []event.Event{reportEvent("a", "a1"), reportEvent("b", "b1"), reportEvent("c", "c1")}
	if staged, unchanged := syncEstate(t, st, 0, first).Counts(); staged != 3 || unchanged != 0 {
		t.Fatalf("first sync: %d staged, %d unchanged", staged, unchanged)
	}
	names, gen1 := estateNames(t, st)
	if len(names) != 3 || gen1 != 1 {
		t.Fatalf("after the first sync: %v, generation %d", names, gen1)
	}
	again := []event.Event{reportEvent("c", "c1"), reportEvent("a", "a1"), reportEvent("b", "b1")}
	if staged, unchanged := syncEstate(t, st, 0, again).Counts(); staged != 0 || unchanged != 3 {
		t.Fatalf("unchanged sync: %d staged, %d unchanged", staged, unchanged)
	}
	if names, gen := estateNames(t, st); len(names) != 3 || gen != gen1 {
		t.Fatalf("after an unchanged sync: %v, generation %d (want %d)", names, gen, gen1)
	}
	changed := []event.Event{reportEvent("a", "a1"), reportEvent("b", "b2"), reportEvent("c", "c1")}
	if staged, unchanged := syncEstate(t, st, 0, changed).Counts(); staged != 1 || unchanged != 2 {
		t.Fatalf("sync changing b: %d staged, %d unchanged", staged, unchanged)
	}
	names, gen := estateNames(t, st)
	if want := map[string]string{"a": "a1", "b": "b2", "c": "c1"}; len(names) != 3 || names["a"] != want["a"] || names["b"] != want["b"] || names["c"] != want["c"] || gen != gen1+1 {
		t.Fatalf("after changing b: %v, generation %d", names, gen)
	}
	// A sync that fails after sending a change leaves the estate, and the next sync
	// compares with what the estate keeps, not with what the failed one staged.
	sk := NewSink(st, "p")
	if err := sk.Write(context.Background(), []event.Event{reportEvent("a", "a9")}); err != nil {
		t.Fatal(err)
	}
	sk.stageRows = 1
	if err := sk.Write(context.Background(), []event.Event{reportEvent("c", "c9")}); err != nil {
		t.Fatal(err)
	}
	if err := sk.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	syncEstate(t, st, 0, changed)
	if names, _ := estateNames(t, st); names["a"] != "a1" || names["c"] != "c1" {
		t.Fatalf("after a failed sync and an unchanged one: %v", names)
	}
}

// TestSinkLastEventOfAnAssetWins: an asset sent twice in a sync is kept as sent last,
// whether the first was in the same window, an earlier Write or already staged, and
// whether the last is what the estate kept before.
func TestSinkLastEventOfAnAssetWins(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stageRows int
		writes    [][]event.Event
		first     bool // into an empty estate
	}{
		{"one window", 0, [][]event.Event{{reportEvent("a", "a2"), reportEvent("a", "a1")}}, false},
		{"two writes", 0, [][]event.Event{{reportEvent("a", "a2")}, {reportEvent("a", "a1")}}, false},
		{"staged between", 1, [][]event.Event{{reportEvent("a", "a2")}, {reportEvent("a", "a1")}}, false},
		{"staged, then another stage", 1, [][]event.Event{{reportEvent("a", "a2")}, {reportEvent("b", "b1")}, {reportEvent("a", "a1")}}, false},
		{"changed last", 1, [][]event.Event{{reportEvent("a", "a1")}, {reportEvent("a", "a3")}}, false},
		{"changed last, one window", 0, [][]event.Event{{reportEvent("a", "a1"), reportEvent("a", "a3")}}, false},
		{"staged within a window", 1, [][]event.Event{{reportEvent("a", "a2"), reportEvent("b", "b1"), reportEvent("a", "a1")}}, false},
		{"staged within a window, changed last", 1, [][]event.Event{{reportEvent("a", "a1"), reportEvent("b", "b1"), reportEvent("a", "a3")}}, false},
		{"first sync", 0, [][]event.Event{{reportEvent("a", "a2"), reportEvent("a", "a1")}}, true},
		{"first sync, staged between", 1, [][]event.Event{{reportEvent("a", "a2")}, {reportEvent("a", "a1")}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openTestStore(t)
			if !tc.first {
				syncEstate(t, st, 0, []event.Event{reportEvent("a", "a1")})
			}
			syncEstate(t, st, tc.stageRows, tc.writes...)
			last := tc.writes[len(tc.writes)-1]
			want := last[len(last)-1].Spec.PowerBI.Name
			if names, _ := estateNames(t, st); names["a"] != want {
				t.Fatalf("estate keeps %q, want %q", names["a"], want)
			}
		})
	}
}

// TestSinkStageFailureIsReturned: rows are staged in the background while the next
// ones are taken; a stage that fails is reported by a later Write or by Close, and the
// estate is not committed.
func TestSinkStageFailureIsReturned(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	syncEstate(t, st, 0, []event.Event{reportEvent("a", "a1")})
	sk := NewSink(st, "p")
	sk.stageRows = 1
	if err := sk.Write(ctx, []event.Event{reportEvent("a", "a2")}); err != nil {
		t.Fatal(err)
	}
	// Another connection takes the estate's table away: the next stage cannot write.
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `ALTER TABLE estate_assets RENAME TO estate_assets_away`); err != nil {
		t.Fatal(err)
	}
	err = sk.Write(ctx, []event.Event{reportEvent("b", "b1")})
	if err == nil {
		err = sk.Write(ctx, []event.Event{summaryEvent})
	}
	if err == nil {
		err = sk.Close(ctx)
	}
	if err == nil || !strings.Contains(err.Error(), "estate_assets") {
		t.Fatalf("a failed stage gave %v, want its error", err)
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE estate_assets_away RENAME TO estate_assets`); err != nil {
		t.Fatal(err)
	}
	if names, gen := estateNames(t, st); names["a"] != "a1" || len(names) != 1 || gen != 1 {
		t.Fatalf("after a failed stage the estate is %v, generation %d; want it as the first sync left it", names, gen)
	}
}

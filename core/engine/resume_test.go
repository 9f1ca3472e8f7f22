package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/rawblob"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
)

// rawSync runs one sync as a new process would, with the raw store on (as FromPipeline
// sets it up for a state store), translators as given. stopAfter > 0 cancels the run once
// a sink saw that many writes with specs: a sync that ends midway.
func rawSync(t *testing.T, srv *powerbitest.Server, st *state.Store, stopAfter int, translators ...Translator) (*collect, *Result, error) {
	t.Helper()
	return rawSyncWith(t, srv, st, stopAfter, RunOptions{}, translators...)
}

func rawSyncWith(t *testing.T, srv *powerbitest.Server, st *state.Store, stopAfter int, opts RunOptions, translators ...Translator) (*collect, *Result, error) {
	t.Helper()
	src := emulatorTestSource(t, srv, "tenant")
	src.resume = &resumer{store: st, pipeline: "test", source: src.name, log: slog.New(slog.DiscardHandler)}
	src.client.UseScanJournal(src.resume)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sink := &stopSink{collect: collect{name: "c"}, after: stopAfter, stop: cancel}
	e := newEngine([]Source{src}, sink)
	e.State = st
	e.Sinks = e.withEstate(e.Sinks) // incremental syncs feed outputs from the estate
	e.Translators = translators
	res, err := e.Run(ctx, opts)
	return &sink.collect, res, err
}

// stopSink cancels the run after some writes that carry specs.
type stopSink struct {
	collect
	after, seen int
	stop        func()
}

func (s *stopSink) Write(ctx context.Context, evs []event.Event) error {
	if err := s.collect.Write(ctx, evs); err != nil {
		return err
	}
	for _, e := range evs {
		if e.Kind == event.KindSpec {
			s.seen++
			if s.after > 0 && s.seen == s.after {
				s.stop()
			}
			break
		}
	}
	return nil
}

// specsOf is every spec sent, as JSON, by asset identity.
func specsOf(t *testing.T, c *collect) map[state.AssetID]string {
	t.Helper()
	out := map[state.AssetID]string{}
	for _, e := range c.events {
		if e.Kind == event.KindSpec {
			b, err := json.Marshal(e.Spec)
			if err != nil {
				t.Fatal(err)
			}
			out[state.IDOf(e.Spec.PowerBI)] = string(b)
		}
	}
	return out
}

func cleanSpecs(t *testing.T, size powerbitest.Size, seed int64, translators ...Translator) map[state.AssetID]string {
	t.Helper()
	ref, err := powerbitest.NewServer(powerbitest.Generate(seed, size), powerbitest.WithScanPolls(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	c, _, err := rawSync(t, ref, openState(t), 0, translators...)
	if err != nil {
		t.Fatal(err)
	}
	return specsOf(t, c)
}

// TestResumeUnfinishedSync: a sync that ends midway (its context cancelled while scans
// are running) leaves in the raw store the workspaces it read and the scans it started;
// the next sync replays the first, reads the second without a new getInfo, scans only
// the rest, and sends exactly what a clean sync sends. When the service forgot the
// started scans (404), their workspaces are scanned again and the result is the same.
func TestResumeUnfinishedSync(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 40 // 8 batches of 5
	want := cleanSpecs(t, size, 5)
	for _, forget := range []bool{false, true} {
		name := map[bool]string{false: "scans kept", true: "scans forgotten"}[forget]
		t.Run(name, func(t *testing.T) {
			srv, err := powerbitest.NewServer(powerbitest.Generate(5, size), powerbitest.WithScanPolls(4))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			st := openState(t)
			ctx := context.Background()
			_, _, err = rawSync(t, srv, st, 2, nil...)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("the first sync should end midway, got %v", err)
			}
			index, _ := st.RawWorkspaceIndex(ctx, "test", "tenant")
			pending, _ := st.PendingScans(ctx, "test", "tenant")
			runs, _ := st.UnfinishedSyncRuns(ctx, "test", "tenant")
			if len(index) == 0 || len(index) == size.Workspaces || len(runs) != 1 {
				t.Fatalf("after the stop: %d raw workspaces, %d unfinished runs", len(index), len(runs))
			}
			if len(pending) == 0 {
				t.Fatal("the stop left no started scan to read: the test did not stop the sync mid-scan")
			}
			t.Logf("stopped with %d workspaces read and %d scans started", len(index), len(pending))
			inScan := map[string]bool{}
			for _, p := range pending {
				for _, id := range p.Workspaces {
					inScan[strings.ToLower(id)] = true
				}
			}
			before := srv.ScannedWorkspaces()
			if forget {
				srv.ForgetScans()
			}
			c, _, err := rawSync(t, srv, st, 0)
			if err != nil {
				t.Fatal(err)
			}
			after := srv.ScannedWorkspaces()
			for id, n := range after {
				_, read := index[id]
				switch {
				case read && n != before[id]:
					t.Errorf("workspace %s was read by the stopped sync and scanned again", id)
				case read:
				case inScan[id] && !forget && n != before[id]:
					t.Errorf("workspace %s was in a started scan and was scanned again instead of read", id)
				case inScan[id] && forget && n != before[id]+1:
					t.Errorf("workspace %s: its scan was forgotten, want one new getInfo, got %d", id, n-before[id])
				case n < 1 || n > 2:
					t.Errorf("workspace %s: %d getInfo requests", id, n)
				}
			}
			if len(after) != size.Workspaces {
				t.Errorf("%d of %d workspaces were ever scanned", len(after), size.Workspaces)
			}
			got := specsOf(t, c)
			if len(got) != len(want) {
				t.Fatalf("the resumed sync sent %d specs, a clean one %d", len(got), len(want))
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("asset %s %s differs from a clean sync's:\n got %.300s\nwant %.300s", id.Type, id.ID, got[id], w)
					break
				}
			}
			if runs, _ := st.UnfinishedSyncRuns(ctx, "test", "tenant"); len(runs) != 0 {
				t.Errorf("a completed sync left %d unfinished runs", len(runs))
			}
			// The completing sync saved the stopped one's mark (the older).
			if m, _ := st.SyncMark(ctx, "test", "tenant"); !m.Mark.Equal(runs[0].Mark) {
				t.Errorf("the completing sync saved mark %s, the stopped sync's was %s", m.Mark, runs[0].Mark)
			}
			if p, _ := st.PendingScans(ctx, "test", "tenant"); len(p) != 0 {
				t.Errorf("a completed sync left %d pending scans", len(p))
			}
			if n, _, _ := st.RawStoreSize(ctx, "test"); n != size.Workspaces {
				t.Errorf("the raw store holds %d workspaces, the tenant %d", n, size.Workspaces)
			}
		})
	}
}

// tagTranslator sets one tag on every asset; its fingerprint is its config.
type tagTranslator struct{ value string }

func (t *tagTranslator) Name() string                { return "tag" }
func (t *tagTranslator) Close(context.Context) error { return nil }
func (t *tagTranslator) Fingerprint() string         { return "tag=" + t.value }
func (t *tagTranslator) Translate(_ context.Context, recs []record.Record) ([]record.Record, []record.Problem, error) {
	for i := range recs {
		s := &recs[i].Spec
		if s.Tags == nil {
			s.Tags = map[string]string{}
		}
		s.Tags["rev"] = t.value
	}
	return recs, nil, nil
}

// TestRetranslateWithoutRescan: a translator change makes the next incremental sync
// replay every stored workspace through the translators: every asset is sent again as
// the new config says, without one getInfo for the unchanged workspaces, and nothing is
// removed; the sync after, with the same translators, sends nothing again.
func TestRetranslateWithoutRescan(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 20
	srv, err := powerbitest.NewServer(powerbitest.Generate(8, size), powerbitest.WithScanPolls(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := openState(t)
	c1, _, err := rawSync(t, srv, st, 0, &tagTranslator{value: "one"})
	if err != nil {
		t.Fatal(err)
	}
	first := specsOf(t, c1)
	modified := srv.ModifyWorkspaces(1)
	before := srv.ScannedWorkspaces()
	c2, res2, err := rawSync(t, srv, st, 0, &tagTranslator{value: "two"})
	if err != nil {
		t.Fatal(err)
	}
	after := srv.ScannedWorkspaces()
	for id, n := range after {
		if want := before[id] + map[bool]int{true: 1}[strings.EqualFold(id, modified[0])]; n != want {
			t.Errorf("workspace %s: %d getInfo requests in the re-translating sync, want %d", id, n-before[id], want-before[id])
		}
	}
	second := sentBy(c2)
	if len(second.specs) != len(first) || len(second.removed) != 0 || res2.Summary.Removed != 0 {
		t.Fatalf("re-translation sent %d specs (first sync %d) and %d removals", len(second.specs), len(first), len(second.removed))
	}
	for id, s := range second.specs {
		if s.Tags["rev"] != "two" {
			t.Errorf("asset %s %s was not translated with the new config: tags %v", id.Type, id.ID, s.Tags)
		}
	}
	// The changed workspace carries its change, the others what they had.
	want := cleanSpecs(t, size, 8, &tagTranslator{value: "two"})
	differ := 0
	for id, w := range want {
		b, _ := json.Marshal(second.specs[id])
		if string(b) != w {
			differ++
			if ws := second.specs[id].PowerBI.WorkspaceID; !strings.EqualFold(ws, modified[0]) {
				t.Errorf("asset %s %s of an unchanged workspace differs from a clean sync's", id.Type, id.ID)
			}
		}
	}
	if differ == 0 {
		t.Error("the modified workspace's change was not sent")
	}
	// Same translators again: an incremental sync sends only what changed; a deleted
	// workspace's assets are removed and its raw snapshot deleted.
	srv.Age(time.Hour)
	deleted := srv.DeleteWorkspace()
	c3, _, err := rawSync(t, srv, st, 0, &tagTranslator{value: "two"})
	if err != nil {
		t.Fatal(err)
	}
	third := sentBy(c3)
	if len(third.specs) != 0 || len(third.removed) == 0 {
		t.Errorf("the sync after re-translation sent %d specs and %d removals", len(third.specs), len(third.removed))
	}
	for _, id := range third.removed {
		if !strings.EqualFold(id.WorkspaceID, deleted) {
			t.Errorf("removed %s %s of workspace %s, not of the deleted one", id.Type, id.ID, id.WorkspaceID)
		}
	}
	if idx, _ := st.RawWorkspaceIndex(context.Background(), "test", "tenant"); len(idx) != size.Workspaces-1 || idx[strings.ToLower(deleted)].ID != "" {
		t.Errorf("the raw store holds %d workspaces after one of %d was deleted", len(idx), size.Workspaces)
	}
	if n := maps.Clone(srv.ScannedWorkspaces()); len(n) != size.Workspaces {
		t.Errorf("%d workspaces scanned", len(n))
	}
}

// TestFullSyncAfterStopRescans: --full after a sync that ended midway replays nothing
// and scans every workspace again, and completes what the stopped one began.
func TestFullSyncAfterStopRescans(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 20
	srv, err := powerbitest.NewServer(powerbitest.Generate(6, size), powerbitest.WithScanPolls(3))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := openState(t)
	if _, _, err := rawSync(t, srv, st, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("the first sync should end midway, got %v", err)
	}
	before := srv.ScannedWorkspaces()
	if _, _, err := rawSyncWith(t, srv, st, 0, RunOptions{Full: true}); err != nil {
		t.Fatal(err)
	}
	after := srv.ScannedWorkspaces()
	for id, n := range after {
		if n != before[id]+1 {
			t.Errorf("workspace %s: %d getInfo in the --full sync, want 1", id, n-before[id])
		}
	}
	if len(after) != size.Workspaces {
		t.Errorf("%d of %d workspaces scanned", len(after), size.Workspaces)
	}
	if runs, _ := st.UnfinishedSyncRuns(context.Background(), "test", "tenant"); len(runs) != 0 {
		t.Errorf("%d unfinished runs after a complete --full sync", len(runs))
	}
}

// failingRaw is a state store whose raw writes fail.
type failingRaw struct{ *state.Store }

func (failingRaw) SaveRawWorkspaces(context.Context, string, string, []state.RawWorkspace) error {
	return errors.New("disk full")
}

// TestRawStoreWriteFailsSync: a batch the raw store cannot keep fails the sync, saying
// so, and nothing is saved: the store would otherwise hold an older snapshot of the
// workspace than the one sent, for a later re-translation to replay.
func TestRawStoreWriteFailsSync(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 10
	srv, err := powerbitest.NewServer(powerbitest.Generate(4, size), powerbitest.WithScanPolls(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	st := openState(t)
	src := emulatorTestSource(t, srv, "tenant")
	src.resume = &resumer{store: failingRaw{st}, pipeline: "test", source: src.name, log: slog.New(slog.DiscardHandler)}
	src.client.UseScanJournal(src.resume)
	e := newEngine([]Source{src}, &collect{name: "c"})
	e.State = st
	_, err = e.Run(context.Background(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "raw store") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("want the raw store's error, got %v", err)
	}
	if m, _ := st.SyncMark(context.Background(), "test", "tenant"); !m.Mark.IsZero() {
		t.Error("a sync that could not keep its raw snapshots saved a mark")
	}
}

// TestReplaysLegacyResumeBatches: the batches a stopped sync of a pbisync before the raw
// store kept (sync_resume, version 12) are replayed once instead of scanned, and the
// completed sync deletes them.
func TestReplaysLegacyResumeBatches(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 10
	want := cleanSpecs(t, size, 12)
	srv, err := powerbitest.NewServer(powerbitest.Generate(12, size), powerbitest.WithScanPolls(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	// What an older pbisync kept of a stopped sync: the first 5 workspaces, as one batch.
	ref := openState(t)
	if _, _, err := rawSync(t, srv, ref, 0); err != nil {
		t.Fatal(err)
	}
	var parts []*snapshot.Snapshot
	kept := map[string]bool{}
	var first []string
	srv.Tenant(func(t *snapshot.Snapshot) {
		for _, w := range t.Workspaces[:5] {
			first = append(first, w.ID)
		}
	})
	for _, id := range first {
		raw, err := ref.RawWorkspaceData(ctx, "test", "tenant", id)
		if err != nil {
			t.Fatal(err)
		}
		s, err := rawblob.Decode(raw.Data)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, s)
		kept[strings.ToLower(id)] = true
	}
	var buf bytes.Buffer
	if err := snapshot.Save(&buf, rawblob.Merge(parts)); err != nil {
		t.Fatal(err)
	}
	st := openState(t)
	if err := st.SaveResumeBatch(ctx, "test", "tenant", state.ResumeBatch{Mark: time.Now().Add(-time.Hour), TakenAt: time.Now(), Snapshot: buf.Bytes()}); err != nil {
		t.Fatal(err)
	}
	before := srv.ScannedWorkspaces()
	c, _, err := rawSync(t, srv, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	for id, n := range srv.ScannedWorkspaces() {
		if got := n - before[id]; got != map[bool]int{false: 1, true: 0}[kept[id]] {
			t.Errorf("workspace %s (kept: %v): %d getInfo", id, kept[id], got)
		}
	}
	got := specsOf(t, c)
	if len(got) != len(want) {
		t.Fatalf("%d specs, a clean sync %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("asset %s %s differs from a clean sync's", id.Type, id.ID)
		}
	}
	if b, _ := st.ResumeBatches(ctx, "test", "tenant", time.Time{}); len(b) != 0 {
		t.Errorf("the completed sync left %d kept batches", len(b))
	}
}

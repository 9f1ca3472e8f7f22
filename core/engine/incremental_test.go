package engine

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// newEmulator serves a generated tenant of the given size (small otherwise) for the test,
// finishing each scan at its first poll; opts come after that.
func newEmulator(t testing.TB, seed int64, workspaces int, opts ...powerbitest.Option) *powerbitest.Server {
	t.Helper()
	size := powerbitest.SmallSize()
	size.Workspaces = workspaces
	srv, err := powerbitest.NewServer(powerbitest.Generate(seed, size), append([]powerbitest.Option{powerbitest.WithScanPolls(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// emulatorSource returns a source reading srv through the real client.
func emulatorTestSource(t testing.TB, srv *powerbitest.Server, name string) *powerbiSource {
	t.Helper()
	cr := srv.Credentials()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}}
	cfg.Scanner.PollInterval = 20 * time.Millisecond
	cfg.Scanner.BatchSize = 5
	on := true
	cfg.Incremental.Enabled = &on
	c, err := powerbi.New(cfg, powerbi.WithAuthorityHTTPClient(srv.TLSClient()))
	if err != nil {
		t.Fatal(err)
	}
	return &powerbiSource{name: name, client: c}
}

// syncOnce runs one sync as a new pbisync process would: a new client and engine over
// the same state store, with the estate sink.
func syncOnce(t *testing.T, srv *powerbitest.Server, st *state.Store, opts RunOptions) (*collect, *Result, map[string]int64) {
	t.Helper()
	src := emulatorTestSource(t, srv, "tenant")
	sink := &collect{name: "c"}
	e := newEngine([]Source{src}, sink)
	e.State = st
	e.Sinks = e.withEstate(e.Sinks)
	res, err := e.Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() > 0 {
		t.Fatalf("sync problems: %v", res.Problems)
	}
	return sink, res, src.Requests()
}

type sent struct {
	specs   map[state.AssetID]*spec.AssetSpec
	removed map[state.AssetID]spec.Identity
}

func sentBy(c *collect) sent {
	s := sent{specs: map[state.AssetID]*spec.AssetSpec{}, removed: map[state.AssetID]spec.Identity{}}
	for _, ev := range c.events {
		switch ev.Kind {
		case event.KindSpec:
			s.specs[state.IDOf(ev.Spec.PowerBI)] = ev.Spec
		case event.KindRemoved:
			s.removed[state.IDOf(ev.Removed.PowerBI)] = ev.Removed.PowerBI
		}
	}
	return s
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestIncrementalSyncEndToEnd: a full sync, then the emulator's tenant changes (two
// workspaces modified, one deleted, one added), then an incremental sync sends exactly the
// assets of the changed workspaces and removes exactly those of the deleted one; with
// nothing changed a sync sends nothing in a few requests; --full sends everything again.
func TestIncrementalSyncEndToEnd(t *testing.T) {
	srv := newEmulator(t, 3, 20)
	st := openState(t)
	ctx := context.Background()

	c1, _, req1 := syncOnce(t, srv, st, RunOptions{})
	first := sentBy(c1)
	if len(first.specs) == 0 || len(first.removed) != 0 {
		t.Fatalf("first sync: %d specs, %d removed", len(first.specs), len(first.removed))
	}
	if req1["POST /admin/workspaces/getInfo"] != 4 {
		t.Fatalf("first sync: want 4 getInfo batches of 5, got %v", req1)
	}

	modified := srv.ModifyWorkspaces(2)
	deleted := srv.DeleteWorkspace()
	added := srv.AddWorkspace()
	changed := map[string]bool{modified[0]: true, modified[1]: true, added: true}

	c2, res2, req2 := syncOnce(t, srv, st, RunOptions{})
	second := sentBy(c2)
	// Exactly the changed workspaces' assets, and the data sources their scan names.
	for id, s := range second.specs {
		ws := s.PowerBI.WorkspaceID
		if ws == "" && s.PowerBI.Type == spec.DataSource {
			if first.specs[id] == nil {
				t.Errorf("second sync sent a data source the first did not have: %s", id.ID)
			}
			continue
		}
		if !changed[ws] {
			t.Errorf("second sync re-sent %s %s of unchanged workspace %s", id.Type, id.ID, ws)
		}
	}
	var addedN int
	for id, s := range first.specs {
		ws := s.PowerBI.WorkspaceID
		if (ws == modified[0] || ws == modified[1]) && second.specs[id] == nil {
			t.Errorf("second sync did not send %s %s of modified workspace %s", id.Type, id.ID, ws)
		}
		if _, gone := second.removed[id]; gone != (ws == deleted) {
			t.Errorf("%s %s of workspace %s: removed=%v, want %v", id.Type, id.ID, ws, gone, ws == deleted)
		}
	}
	for _, s := range second.specs {
		if s.PowerBI.WorkspaceID == added {
			addedN++
		}
	}
	if addedN != 2 {
		t.Errorf("the added workspace's model and report: sent %d assets", addedN)
	}
	// A modified workspace's assets come out as before, deps on unchanged workspaces included.
	deps := 0
	for id, s := range second.specs {
		if prev := first.specs[id]; prev != nil && s.PowerBI.WorkspaceID != "" {
			if !slices.EqualFunc(prev.Deps, s.Deps, slices.Equal) {
				t.Errorf("%s %s: deps %v, first sync had %v", id.Type, id.ID, s.Deps, prev.Deps)
			}
			deps += len(s.Deps)
		}
	}
	if deps == 0 {
		t.Error("the modified workspaces' assets have no deps; the cross-workspace case is not exercised")
	}
	if req2["POST /admin/workspaces/getInfo"] != 1 || req2["GET /admin/workspaces/modified"] != 1 {
		t.Errorf("second sync: want one getInfo batch and one modified call, got %v", req2)
	}
	if res2.Summary.Removed != len(second.removed) {
		t.Errorf("summary says %d removed, sinks got %d", res2.Summary.Removed, len(second.removed))
	}

	// The state store and the estate keep the whole estate, not just what was sent.
	want := map[state.AssetID]bool{}
	for id := range first.specs {
		if _, gone := second.removed[id]; !gone {
			want[id] = true
		}
	}
	for id := range second.specs {
		want[id] = true
	}
	prev, err := st.PreviousAssets(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(maps.Keys(prev)); len(got) != len(want) {
		t.Errorf("state keeps %d assets, want %d", len(got), len(want))
	}
	gen, _, _ := st.EstateGeneration(ctx, "test")
	estateN := 0
	_ = st.EstateSummaries(ctx, "test", gen, func(typ, id, _ string) error {
		if !want[state.AssetID{Type: spec.ContentType(typ), ID: id}] {
			t.Errorf("estate has %s %s, which should be gone", typ, id)
		}
		estateN++
		return nil
	})
	if estateN != len(want) {
		t.Errorf("estate holds %d assets, want %d", estateN, len(want))
	}

	// Nothing changed (the changes are now older than the modified window's minimum).
	srv.Age(time.Hour)
	c3, _, req3 := syncOnce(t, srv, st, RunOptions{})
	third := sentBy(c3)
	if len(third.specs) != 0 || len(third.removed) != 0 {
		t.Errorf("nothing changed, yet %d specs and %d removals were sent", len(third.specs), len(third.removed))
	}
	if n := total(req3); n > 10 || req3["POST /admin/workspaces/getInfo"] != 0 {
		t.Errorf("nothing changed: %d API requests (%v), want at most 10 and no scan", n, req3)
	}

	// --full sends everything; it removes only the data sources that just the deleted
	// workspace used (a partial sync cannot tell that no other workspace uses them).
	c4, _, req4 := syncOnce(t, srv, st, RunOptions{Full: true})
	fourth := sentBy(c4)
	if len(fourth.specs)+len(fourth.removed) != len(want) || req4["GET /admin/workspaces/modified"] != 0 {
		t.Errorf("--full: %d specs and %d removed, want %d in all; requests %v", len(fourth.specs), len(fourth.removed), len(want), req4)
	}
	for id := range fourth.removed {
		if id.Type != spec.DataSource || !want[id] {
			t.Errorf("--full removed %s %s", id.Type, id.ID)
		}
	}
}

// TestIncrementalSyncKeepsModelsForRefreshes: an engine that runs many syncs (serve)
// reports every model after an incremental sync, not just the rescanned ones, so
// refreshes still find the unchanged models.
func TestIncrementalSyncKeepsModelsForRefreshes(t *testing.T) {
	srv := newEmulator(t, 5, 8)
	st := openState(t)
	src := emulatorTestSource(t, srv, "tenant")
	sink := &collect{name: "c"}
	e := newEngine([]Source{src}, sink)
	e.State = st
	e.Sinks = e.withEstate(e.Sinks) // an incremental sync needs the estate
	res1, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv.ModifyWorkspaces(1)
	deleted := srv.DeleteWorkspace()
	before := len(sink.events)
	res2, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sentModels int
	for _, ev := range sink.events[before:] {
		if ev.Kind == event.KindSpec && ev.Spec.PowerBI.Type == spec.SemanticModel {
			sentModels++
		}
	}
	want := map[string]bool{}
	for _, m := range res1.Models {
		if m.Record.Spec.PowerBI.WorkspaceID != deleted {
			want[m.Record.Spec.PowerBI.ID] = true
		}
	}
	got := map[string]bool{}
	for _, m := range res2.Models {
		got[m.Record.Spec.PowerBI.ID] = true
	}
	if sentModels != powerbitest.SmallSize().ModelsPerWorkspace || !maps.Equal(got, want) {
		t.Fatalf("incremental sync sent %d models and reports %d (want %d: all but the deleted workspace's)", sentModels, len(got), len(want))
	}
}

// TestIncrementalSyncModelsFromEstate: a new process (a new engine) whose incremental
// sync is followed by refreshes gets every model, those of the unchanged workspaces from
// the estate, with their source, refreshability and spec, without a full scan.
func TestIncrementalSyncModelsFromEstate(t *testing.T) {
	srv := newEmulator(t, 5, 8)
	st := openState(t)
	_, first, _ := syncOnce(t, srv, st, RunOptions{ModelSpecs: true})
	srv.Age(time.Hour)
	srv.ModifyWorkspaces(1)
	_, second, req := syncOnce(t, srv, st, RunOptions{ModelSpecs: true})
	if req["POST /admin/workspaces/getInfo"] != 1 {
		t.Fatalf("the second sync was not incremental: %v", req)
	}
	byID := map[string]Model{}
	for _, m := range second.Models {
		byID[m.Record.Spec.PowerBI.ID] = m
	}
	if len(byID) != len(first.Models) {
		t.Fatalf("%d models after the incremental sync, %d after the full one", len(byID), len(first.Models))
	}
	for _, want := range first.Models {
		got, ok := byID[want.Record.Spec.PowerBI.ID]
		switch {
		case !ok:
			t.Errorf("model %s missing", want.Record.Spec.PowerBI)
		case got.Source == nil:
			t.Errorf("model %s has no source to refresh it through", got.Record.Spec.PowerBI)
		case !got.Record.Spec.Key.Equal(want.Record.Spec.Key) || string(got.Record.Raw) != string(want.Record.Raw):
			t.Errorf("model %s: key %v raw %s, want %v %s", got.Record.Spec.PowerBI, got.Record.Spec.Key, got.Record.Raw, want.Record.Spec.Key, want.Record.Raw)
		case len(got.spec) == 0:
			t.Errorf("model %s has no spec for its refresh events", got.Record.Spec.PowerBI)
		}
	}
}

// TestIncrementalRekeyedDependents: a model renamed in one workspace changes its key; the
// report of the next workspace that reads it is not rescanned, and is sent again with
// the new key in its deps (and kept so in the estate), and nothing else of that
// workspace is.
func TestIncrementalRekeyedDependents(t *testing.T) {
	srv := newEmulator(t, 5, 10)
	st := openState(t)
	ctx := context.Background()
	c1, _, _ := syncOnce(t, srv, st, RunOptions{})
	first := sentBy(c1)

	// The emulator renames the first model of the first workspace; a report of the
	// second workspace reads it.
	wsID := srv.RenameModels(1)[0]
	var nextWS, modelID, reportID string
	srv.Tenant(func(tn *snapshot.Snapshot) {
		for i := 0; i+1 < len(tn.Workspaces); i++ {
			if w := &tn.Workspaces[i]; w.ID == wsID {
				modelID, nextWS = w.SemanticModels[0].ID, tn.Workspaces[i+1].ID
				for _, rep := range tn.Workspaces[i+1].Reports {
					if rep.DatasetID == modelID {
						reportID = rep.ID
					}
				}
			}
		}
	})
	if reportID == "" {
		t.Fatal("the generated tenant has no report on the renamed model in another workspace")
	}
	oldKey := first.specs[state.AssetID{Type: spec.SemanticModel, ID: modelID}].Key

	c2, res2, _ := syncOnce(t, srv, st, RunOptions{})
	second := sentBy(c2)
	model := second.specs[state.AssetID{Type: spec.SemanticModel, ID: modelID}]
	if model == nil || model.Key.Equal(oldKey) {
		t.Fatalf("the renamed model: %+v (old key %s)", model, oldKey)
	}
	report := second.specs[state.AssetID{Type: spec.Report, ID: reportID}]
	if report == nil {
		t.Fatalf("the report of workspace %s on the renamed model was not sent again", nextWS)
	}
	hasNew := false
	for _, d := range report.Deps {
		if d.Equal(oldKey) {
			t.Errorf("the report still depends on the old key %s: %v", oldKey, report.Deps)
		}
		hasNew = hasNew || d.Equal(model.Key)
	}
	if !hasNew {
		t.Errorf("the report's deps %v do not name the model's new key %s", report.Deps, model.Key)
	}
	for id, s := range second.specs {
		if s.PowerBI.WorkspaceID == nextWS && id.ID != reportID {
			t.Errorf("sent %s %s of workspace %s, which did not change", id.Type, id.ID, nextWS)
		}
	}
	for _, ev := range c2.events {
		if ev.Kind == event.KindSpec && ev.Spec.PowerBI.ID == reportID {
			for _, rel := range ev.Related {
				if rel.PowerBI.ID == modelID && !rel.Key.Equal(model.Key) {
					t.Errorf("the report's related model has key %s, want %s", rel.Key, model.Key)
				}
			}
		}
	}
	if res2.Summary.Removed != 0 {
		t.Errorf("%d removals", res2.Summary.Removed)
	}
	// The estate, which new outputs are fed from, keeps the report with the new key.
	gen, _, err := st.EstateGeneration(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	err = st.EstateEvents(ctx, "test", gen, func(typ, id string, kept []byte) error {
		if id != reportID {
			return nil
		}
		ev, err := estate.DecodeEvent(kept)
		if err != nil {
			return err
		}
		found = slices.ContainsFunc(ev.Spec.Deps, func(k spec.Key) bool { return k.Equal(model.Key) })
		return nil
	})
	if err != nil || !found {
		t.Errorf("the estate's report does not name the new key (%v)", err)
	}
	// A sync with nothing changed (the rename is older than the modified window) sends
	// nothing again: the report is not re-sent a second time.
	srv.Age(time.Hour)
	c3, _, _ := syncOnce(t, srv, st, RunOptions{})
	if n := len(sentBy(c3).specs); n != 0 {
		t.Errorf("a sync with nothing changed sent %d specs", n)
	}
}

// TestIncrementalStaleRelated: a table added to a model in one workspace changes what
// events say of the model (its tables); the report of the next workspace that reads it
// is not rescanned, and is sent again with the model's tables as they are now, and
// nothing else of that workspace is.
func TestIncrementalStaleRelated(t *testing.T) {
	srv := newEmulator(t, 7, 10)
	st := openState(t)
	syncOnce(t, srv, st, RunOptions{})

	var wsID, nextWS, modelID, reportID string
	srv.Tenant(func(tn *snapshot.Snapshot) {
		w := &tn.Workspaces[0]
		m := &w.SemanticModels[0]
		m.Tables = append(m.Tables, snapshot.Table{Name: "Added_Table", Columns: []snapshot.Column{{Name: "c", DataType: "String"}}})
		wsID, modelID, nextWS = w.ID, m.ID, tn.Workspaces[1].ID
		for _, rep := range tn.Workspaces[1].Reports {
			if rep.DatasetID == modelID {
				reportID = rep.ID
			}
		}
	})
	if reportID == "" {
		t.Fatal("the generated tenant has no report on the first model in the next workspace")
	}
	srv.Touch(wsID)

	c2, _, _ := syncOnce(t, srv, st, RunOptions{})
	var report *event.Event
	for i, ev := range c2.events {
		if ev.Kind != event.KindSpec {
			continue
		}
		if ev.Spec.PowerBI.WorkspaceID == nextWS && ev.Spec.PowerBI.ID != reportID {
			t.Errorf("sent %s %s of workspace %s, which did not change", ev.Spec.PowerBI.Type, ev.Spec.PowerBI.ID, nextWS)
		}
		if ev.Spec.PowerBI.ID == reportID {
			report = &c2.events[i]
		}
	}
	if report == nil {
		t.Fatalf("the report of workspace %s on the changed model was not sent again", nextWS)
	}
	found := false
	for _, rel := range report.Related {
		if rel.PowerBI.ID == modelID {
			found = slices.Contains(rel.Tables, "added_table") || slices.Contains(rel.TableNames, "Added_Table")
			if !found {
				t.Errorf("the report's related model names tables %v / %v, without the added one", rel.Tables, rel.TableNames)
			}
		}
	}
	if !found {
		t.Errorf("the report's related %+v", report.Related)
	}
	// Sent once: the next sync, with nothing changed, sends nothing.
	srv.Age(time.Hour)
	if n := len(sentBy(func() *collect { c, _, _ := syncOnce(t, srv, st, RunOptions{}); return c }()).specs); n != 0 {
		t.Errorf("a sync with nothing changed sent %d specs", n)
	}
}

package engine

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

const msdocs = "../snapshot/testdata/scanresult_msdocs.json"

// collect is a sink that keeps what it gets; failAfter > 0 makes it fail on that Write.
type collect struct {
	name      string
	events    []event.Event
	writes    int
	failAfter int
	closed    bool
}

func (c *collect) Name() string { return c.name }
func (c *collect) Write(_ context.Context, evs []event.Event) error {
	c.writes++
	if c.failAfter > 0 && c.writes >= c.failAfter {
		return errors.New("catalog unreachable")
	}
	c.events = append(c.events, evs...)
	return nil
}
func (c *collect) Close(context.Context) error { c.closed = true; return nil }

func (c *collect) kinds() map[event.Kind]int {
	m := map[event.Kind]int{}
	for _, e := range c.events {
		m[e.Kind]++
	}
	return m
}

// sliceSource emits prepared batches.
type sliceSource struct {
	batches []*snapshot.Snapshot
	err     error
}

func (s *sliceSource) Name() string { return "slice" }
func (s *sliceSource) Snapshots(_ context.Context, emit func(*snapshot.Snapshot) error) error {
	for _, b := range s.batches {
		if err := emit(b); err != nil {
			return err
		}
	}
	return s.err
}

func openState(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newEngine(sources []Source, sinks ...Sink) *Engine {
	return &Engine{
		Pipeline:   "test",
		Sources:    sources,
		NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) },
		Keys:       assets.NewKeyIndex(),
		Sinks:      sinks,
	}
}

func loadMSDocs(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Load(msdocs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSyncToSinks(t *testing.T) {
	a, b := &collect{name: "a"}, &collect{name: "b"}
	e := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, a, b)
	e.SinkBatch = 2
	res, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range res.Summary.Assets {
		total += n
	}
	for _, c := range []*collect{a, b} {
		k := c.kinds()
		if k[event.KindSpec] != total || k[event.KindSummary] != 1 || !c.closed {
			t.Errorf("sink %s got %v (want %d specs and a summary), closed %v", c.name, k, total, c.closed)
		}
	}
	if res.Summary.Workspaces != 1 || total < 5 {
		t.Errorf("summary %+v", res.Summary)
	}
	if a.events[len(a.events)-1].Kind != event.KindSummary {
		t.Errorf("the summary is not the last event")
	}
}

func TestFailingSinkDoesNotStopOthers(t *testing.T) {
	good, bad := &collect{name: "good"}, &collect{name: "bad", failAfter: 2}
	e := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, good, bad)
	e.SinkBatch = 1
	res, err := e.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sink bad: catalog unreachable") {
		t.Fatalf("error %v, want the failing sink named", err)
	}
	if good.kinds()[event.KindSummary] != 1 {
		t.Errorf("the good sink did not get everything: %v", good.kinds())
	}
	if res.Sinks[0].Err != nil || res.Sinks[1].Err == nil || res.Sinks[1].Events != 1 {
		t.Errorf("sink results %+v", res.Sinks)
	}
}

func TestRemovedAssets(t *testing.T) {
	full := loadMSDocs(t)
	st := openState(t)
	first := &collect{name: "c"}
	e := newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{full}}}, first)
	e.State = st
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if first.kinds()[event.KindRemoved] != 0 {
		t.Fatalf("first sync reported removals")
	}
	// The second sync lacks the workspace's dashboards.
	less := loadMSDocs(t)
	gone := less.Workspaces[0].Dashboards
	less.Workspaces[0].Dashboards = nil
	second := &collect{name: "c"}
	e = newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{less}}}, second)
	e.State = st
	res, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, ev := range second.events {
		if ev.Kind == event.KindRemoved {
			removed = append(removed, ev.Removed.PowerBI.ID)
		}
	}
	if len(removed) != len(gone) || removed[0] != gone[0].ID || res.Summary.Removed != len(gone) {
		t.Errorf("removed %v, want the %d dashboards", removed, len(gone))
	}
	// A failed sync must not report removals nor overwrite the state.
	third := &collect{name: "c"}
	e = newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{}, err: errors.New("scan failed")}}, third)
	e.State = st
	if _, err := e.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "source slice: scan failed") {
		t.Fatalf("error %v", err)
	}
	if prev, _ := st.PreviousAssets(context.Background(), "test"); third.kinds()[event.KindRemoved] != 0 || len(prev) == 0 {
		t.Errorf("a failed sync reported removals or cleared the state")
	}
}

// renameAll is a translator that gives every asset the same key.
type renameAll struct{}

func (renameAll) Name() string { return "rename-all" }
func (renameAll) Translate(_ context.Context, b []record.Record) ([]record.Record, []record.Problem, error) {
	for i := range b {
		b[i].Spec.Key = spec.Key{"same"}
	}
	return b, nil, nil
}
func (renameAll) Close(context.Context) error { return nil }

func TestDuplicateKeysReported(t *testing.T) {
	c := &collect{name: "c"}
	e := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, c)
	e.Translators = []Translator{renameAll{}}
	res, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range res.Problems {
		if strings.Contains(p.Error(), `"same"`) || strings.Contains(p.Error(), "same") {
			n++
		}
	}
	if n == 0 || c.kinds()[event.KindSpec] < 5 {
		t.Errorf("duplicates not reported (%d problems) or specs merged (%d specs)", n, c.kinds()[event.KindSpec])
	}
}

// prefixModels is a translator that moves every semantic model under a prefix.
type prefixModels struct{}

func (prefixModels) Name() string { return "prefix-models" }
func (prefixModels) Translate(_ context.Context, b []record.Record) ([]record.Record, []record.Problem, error) {
	for i := range b {
		if b[i].Spec.PowerBI.Type == spec.SemanticModel {
			b[i].Spec.Key = append(spec.Key{"bi"}, b[i].Spec.Key...)
		}
	}
	return b, nil, nil
}
func (prefixModels) Close(context.Context) error { return nil }

func TestDepsFollowTranslatedKeys(t *testing.T) {
	c := &collect{name: "c"}
	e := newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{loadSample(t)}}}, c)
	e.Translators = []Translator{prefixModels{}}
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, dataSources := map[string]bool{}, map[string]bool{}
	for _, ev := range c.events {
		if ev.Kind == event.KindSpec {
			keys[ev.Spec.Key.String()] = true
			if ev.Spec.PowerBI.Type == spec.DataSource {
				dataSources[ev.Spec.Key.String()] = true
			}
		}
	}
	checked := 0
	for _, ev := range c.events {
		if ev.Kind != event.KindSpec || ev.Spec.PowerBI.Type != spec.Report {
			continue
		}
		for _, d := range ev.Spec.Deps {
			if !keys[d.String()] {
				t.Errorf("report %s depends on %s, which no asset has", ev.Spec.Key, d)
			}
			if d[0] != "bi" && !dataSources[d.String()] { // a paginated report's data sources keep theirs
				t.Errorf("report %s dep %s was not remapped", ev.Spec.Key, d)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no report deps checked")
	}
}

func loadSample(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	return powerbitest.SampleTenant()
}

// A sync whose sink failed keeps the previous state, so the removals it could not
// deliver are reported again by the next sync.
func TestStateNotSavedWhenASinkMissedEvents(t *testing.T) {
	st := openState(t)
	full := loadMSDocs(t)
	e := newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{full}}}, &collect{name: "c"})
	e.State = st
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	less := loadMSDocs(t)
	less.Workspaces[0].Dashboards = nil
	e = newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{less}}}, &collect{name: "c"}, &collect{name: "broken", failAfter: 1})
	e.State = st
	if _, err := e.Sync(context.Background()); err == nil {
		t.Fatal("the failing sink was not reported")
	}
	again := &collect{name: "c"}
	e = newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{less}}}, again)
	e.State = st
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if again.kinds()[event.KindRemoved] == 0 {
		t.Error("the removal the broken sink missed was not reported again")
	}
}

// meetingSink is a sink whose Close waits, up to a deadline, until every sink of its
// group is closing: outputs that end one after another miss each other.
type meetingSink struct {
	collect
	group *sync.WaitGroup
	met   bool
}

func (m *meetingSink) Close(ctx context.Context) error {
	m.group.Done()
	done := make(chan struct{})
	go func() { m.group.Wait(); close(done) }()
	select {
	case <-done:
		m.met = true
	case <-time.After(10 * time.Second):
	}
	return m.collect.Close(ctx)
}

// TestOutputsEndTogether: a sync's outputs commit at once, not one after the other (a
// plugin writing out its last batches, the estate its last rows).
func TestOutputsEndTogether(t *testing.T) {
	var group sync.WaitGroup
	group.Add(2)
	a, b := &meetingSink{collect: collect{name: "a"}, group: &group}, &meetingSink{collect: collect{name: "b"}, group: &group}
	e := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, a, b)
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !a.met || !b.met || !a.closed || !b.closed {
		t.Errorf("the outputs did not close together: a met %v, b met %v", a.met, b.met)
	}
}

// encodedCollect is an output that takes spec events encoded (EncodedSink); it counts
// the spec events whose encoding was not made before Write was called.
type encodedCollect struct {
	collect
	specs, late int
}

func (c *encodedCollect) TakesEncoded() bool { return true }
func (c *encodedCollect) Write(ctx context.Context, evs []event.Event) error {
	for i := range evs {
		if evs[i].Kind != event.KindSpec {
			continue
		}
		c.specs++
		if _, err := evs[i].Shared.Encoded(func() ([]byte, error) { c.late++; return sink.EventBytes(&evs[i]) }); err != nil {
			return err
		}
	}
	return c.collect.Write(ctx, evs)
}

// TestSpecsAreEncodedAhead: an output that takes spec events encoded gets each already
// encoded (meanwhile, while the part before was written), and once for all outputs.
func TestSpecsAreEncodedAhead(t *testing.T) {
	a, b := &encodedCollect{collect: collect{name: "a"}}, &encodedCollect{collect: collect{name: "b"}}
	e := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, a, b)
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*encodedCollect{a, b} {
		if c.specs == 0 || c.late != 0 {
			t.Errorf("output %s: %d of %d spec events were not encoded ahead", c.name, c.late, c.specs)
		}
	}
}

// A run that refreshes nothing keeps no models, and sends what a run that keeps them
// sends; the engine's next run that wants models still gets every one.
func TestNoModelsKeepsNone(t *testing.T) {
	kept, bare := &collect{name: "kept"}, &collect{name: "bare"}
	e1 := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, kept)
	res1, err := e1.Run(context.Background(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e2 := newEngine([]Source{&fileSource{name: "f", path: msdocs}}, bare)
	res2, err := e2.Run(context.Background(), RunOptions{NoModels: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res1.Models) == 0 || res2.Models != nil {
		t.Fatalf("models: %d kept, %d with NoModels (want some, and none)", len(res1.Models), len(res2.Models))
	}
	specs := func(c *collect) []string {
		var out []string
		for _, ev := range c.events {
			if ev.Kind == event.KindSpec {
				b, err := sink.EventBytes(&ev)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, string(b))
			}
		}
		return out
	}
	if a, b := specs(kept), specs(bare); strings.Join(a, "\n") != strings.Join(b, "\n") || len(a) == 0 {
		t.Errorf("the spec events differ (%d and %d)", len(a), len(b))
	}
	res3, err := e2.Run(context.Background(), RunOptions{ModelSpecs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res3.Models) != len(res1.Models) {
		t.Errorf("the next run has %d models, want %d", len(res3.Models), len(res1.Models))
	}
	// After needs the models: NoModels does nothing then.
	var got int
	_, err = e2.Run(context.Background(), RunOptions{NoModels: true, After: func(_ context.Context, ms []Model, _ func(...event.Event) error) error {
		got = len(ms)
		return nil
	}})
	if err != nil || got != len(res1.Models) {
		t.Errorf("After was given %d models (err %v), want %d", got, err, len(res1.Models))
	}
}

// An engine that runs many syncs (serve) checks each sync's keys on their own: a report
// deleted since the last sync does not hold its key against the report that has it now.
func TestKeysBelongToOneSync(t *testing.T) {
	src := &sliceSource{}
	e := newEngine([]Source{src}, &collect{name: "out"})
	for i, id := range []string{"r1", "r2", "r2"} {
		src.batches = []*snapshot.Snapshot{{Workspaces: []snapshot.Workspace{{ID: "w1", Name: "Finance",
			Reports: []snapshot.Report{{ID: id, Name: "Sales"}}}}}}
		res, err := e.Sync(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 0 {
			t.Errorf("sync %d: %v", i+1, res.Problems)
		}
	}
	// Within one sync, two reports with one key are still a problem.
	src.batches = []*snapshot.Snapshot{{Workspaces: []snapshot.Workspace{{ID: "w1", Name: "Finance",
		Reports: []snapshot.Report{{ID: "r1", Name: "Sales"}, {ID: "r2", Name: "Sales"}}}}}}
	res, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Error(), "is also the key of") {
		t.Errorf("two reports with one key: %v", res.Problems)
	}
}

// A run keeps the specs (for refresh events) of the models ModelSpecFor picks only, and
// a kept spec reads back whole.
func TestModelSpecsOfPickedModels(t *testing.T) {
	tenant := powerbitest.Generate(3, powerbitest.SmallSize())
	e := newEngine([]Source{&sliceSource{batches: []*snapshot.Snapshot{tenant}}}, &collect{name: "out"})
	all, err := e.Run(context.Background(), RunOptions{ModelSpecs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Models) < 2 {
		t.Fatalf("the snapshot has %d models; the test wants two or more", len(all.Models))
	}
	pick := all.Models[0].Record.Spec.PowerBI.Name
	res, err := e.Run(context.Background(), RunOptions{ModelSpecs: true, ModelSpecFor: e.RefreshPicks([]string{pick})})
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for i := range res.Models {
		m := &res.Models[i]
		s := m.refreshSpec()
		switch name := m.Record.Spec.PowerBI.Name; {
		case name == pick && (s == nil || s.PowerBI.ID != m.Record.Spec.PowerBI.ID || len(s.Metadata) == 0):
			t.Errorf("the picked model %q has no spec, or not its own: %+v", name, s)
		case name == pick:
			kept++
		case s != nil:
			t.Errorf("model %q was not picked and kept its spec", name)
		}
	}
	if kept != 1 {
		t.Errorf("%d picked models kept their spec, want 1", kept)
	}
}

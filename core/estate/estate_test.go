package estate_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// batches emits prepared snapshot batches, then err.
type batches struct {
	snaps []*snapshot.Snapshot
	err   error
}

func (b *batches) Name() string { return "test" }
func (b *batches) Snapshots(_ context.Context, emit func(*snapshot.Snapshot) error) error {
	for _, s := range b.snaps {
		if err := emit(s); err != nil {
			return err
		}
	}
	return b.err
}

// specSink keeps the specs a sync sent, to check the estate against.
type specSink struct{ specs []spec.AssetSpec }

func (s *specSink) Name() string { return "specs" }
func (s *specSink) Write(_ context.Context, evs []event.Event) error {
	for _, ev := range evs {
		if ev.Kind == event.KindSpec {
			s.specs = append(s.specs, ev.Spec.Clone())
		}
	}
	return nil
}
func (s *specSink) Close(context.Context) error { return nil }

// syncInto runs a sync of src with the estate sink on st, and returns what it sent.
func syncInto(t *testing.T, st *state.Store, src engine.Source) ([]spec.AssetSpec, error) {
	t.Helper()
	got := &specSink{}
	e := &engine.Engine{
		Pipeline: "p", Sources: []engine.Source{src}, State: st, Lineage: lineage.ResolveSnapshot,
		NewBuilder: newBuilder,
		Sinks:      []engine.Sink{got, estate.NewSink(st, "p")},
	}
	_, err := e.Sync(context.Background())
	return got.specs, err
}

func newBuilder() engine.Builder { return assets.NewBuilder(assets.Options{}) }

func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// downstream computes, from specs alone, every key that depends on start directly or not:
// the expected answer of an impact query, derived independently of the graph code.
func downstream(specs []spec.AssetSpec, start string) []string {
	reached := map[string]bool{start: true}
	for changed := true; changed; {
		changed = false
		for _, s := range specs {
			k := s.Key.String()
			if reached[k] {
				continue
			}
			for _, d := range s.Deps {
				if reached[d.String()] {
					reached[k], changed = true, true
					break
				}
			}
		}
	}
	delete(reached, start)
	var out []string
	for k := range reached {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func keysOf(ims []estate.Impacted) []string {
	var out []string
	for _, im := range ims {
		out = append(out, im.Key.String())
	}
	slices.Sort(out)
	return out
}

func TestImpactMatchesTheSyncedLineage(t *testing.T) {
	st := openStore(t)
	specs, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{powerbitest.SampleTenant()}})
	if err != nil {
		t.Fatal(err)
	}
	src := &estate.StoreSource{St: st, Pipeline: "p"}
	g, err := src.Graph(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if g.Generation != 1 {
		t.Fatalf("generation %d after one sync, want 1", g.Generation)
	}
	// Every upstream table any model reads: the impact of each equals the downstream
	// closure of the specs the sync sent.
	tables := 0
	for _, s := range specs {
		for _, d := range s.Deps {
			n := g.Node(d.String())
			if n == nil || n.Type != estate.TypeTable {
				continue
			}
			tables++
			res := g.Impact(estate.ImpactQuery{Names: []string{d.String()}})
			if got, want := keysOf(res.Impacted), downstream(specs, d.String()); !slices.Equal(got, want) {
				t.Errorf("impact of %s:\n got %v\nwant %v", d, got, want)
			}
		}
	}
	if tables == 0 {
		t.Fatal("the sample tenant's models read no upstream table")
	}
	// The Snowflake orders table reaches its model, reports and dashboards, each path
	// starting at the table and ending at the asset.
	res := g.Impact(estate.ImpactQuery{Names: []string{"sales_db.public.orders"}})
	types := map[string]int{}
	for _, im := range res.Impacted {
		types[im.Type]++
		if !im.Path[0].Equal(spec.Key{"sales_db", "public", "orders"}) || !im.Path[len(im.Path)-1].Equal(im.Key) || len(im.Path) != im.Depth+1 {
			t.Errorf("%s: path %v at depth %d", im.Key, im.Path, im.Depth)
		}
	}
	if types["semantic_model"] == 0 || types["report"] == 0 || types["dashboard"] == 0 {
		t.Errorf("impact of the Snowflake orders table: %v, want a model, reports and dashboards", types)
	}
	// Upstream of a dashboard reaches the table.
	up := g.Impact(estate.ImpactQuery{Names: []string{"executive kpis"}, Upstream: true})
	if !slices.Contains(keysOf(up.Impacted), "sales_db/public/orders") {
		t.Errorf("upstream of Executive KPIs: %v, want sales_db/public/orders", keysOf(up.Impacted))
	}
}

func TestColumnImpactFollowsColumnLineage(t *testing.T) {
	st := openStore(t)
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{powerbitest.SampleTenant()}}); err != nil {
		t.Fatal(err)
	}
	g, err := (&estate.StoreSource{St: st, Pipeline: "p"}).Graph(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res := g.Impact(estate.ImpactQuery{Names: []string{"SALES_DB.PUBLIC.ORDERS.Amount"}})
	var model *estate.Impacted
	for i := range res.Impacted {
		if res.Impacted[i].Depth == 1 {
			model = &res.Impacted[i]
		}
	}
	if model == nil || !slices.Contains(model.Via, "Orders.Amount") {
		t.Fatalf("impact of the Amount column: %+v, want the model through Orders.Amount", res.Impacted)
	}
	if res := g.Impact(estate.ImpactQuery{Names: []string{"SALES_DB.PUBLIC.ORDERS.NoSuchColumn"}}); len(res.Impacted) != 0 {
		t.Errorf("a column nothing reads impacts %v", keysOf(res.Impacted))
	}
	sg, ok := g.Neighbourhood("sales_db/public/orders", 0, 1, 50)
	if !ok {
		t.Fatal("no neighbourhood for the orders table")
	}
	cols := 0
	for _, e := range sg.Edges {
		if e.FromColumn != "" {
			cols++
		}
	}
	if cols == 0 {
		t.Error("the neighbourhood of the orders table has no column edges")
	}
}

func TestFailedSyncKeepsTheEstate(t *testing.T) {
	st := openStore(t)
	sample := powerbitest.SampleTenant()
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{sample}}); err != nil {
		t.Fatal(err)
	}
	src := &estate.StoreSource{St: st, Pipeline: "p"}
	before, _ := src.Graph(context.Background())
	// A sync that sends one workspace and then fails: nothing of it may stand.
	one := *sample
	one.Workspaces = sample.Workspaces[:1]
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{&one}, err: errors.New("the service went away")}); err == nil {
		t.Fatal("the failing sync succeeded")
	}
	after, err := src.Graph(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != before.Generation || after.Len() != before.Len() {
		t.Fatalf("a failed sync changed the estate: generation %d -> %d, nodes %d -> %d", before.Generation, after.Generation, before.Len(), after.Len())
	}
	// A completed sync without the first workspace removes only its assets.
	rest := *sample
	rest.Workspaces = sample.Workspaces[1:]
	specs, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{&rest}})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := src.Graph(context.Background())
	if g.Generation != before.Generation+1 {
		t.Fatalf("generation %d after a completed sync, want %d", g.Generation, before.Generation+1)
	}
	assetsIn := 0
	for _, s := range specs {
		if g.Node(s.Key.String()) == nil {
			t.Errorf("%s was synced but is not in the estate", s.Key)
		}
	}
	for _, c := range []string{"semantic_model", "report", "dashboard", "data_source"} {
		assetsIn += g.Counts()[c]
	}
	if assetsIn != len(specs) {
		t.Errorf("estate has %d assets, the sync sent %d", assetsIn, len(specs))
	}
}

func TestAPI(t *testing.T) {
	st := openStore(t)
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{powerbitest.SampleTenant()}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(estate.Handler(&estate.StoreSource{St: st, Pipeline: "p"}, nil))
	defer srv.Close()
	get := func(path string, into any) *http.Response {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if into != nil {
			if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return resp
	}
	var hits struct{ Hits []estate.Hit }
	get("/api/search?q=sales+model", &hits)
	if len(hits.Hits) == 0 || hits.Hits[0].Name != "Sales Model" {
		t.Fatalf("search 'sales model': %+v", hits.Hits)
	}
	var page estate.NodePage
	get("/api/node?key="+url.QueryEscape("semantic_model/Sales_Model"), &page)
	cols, reading := 0, 0
	for _, tb := range page.Tables {
		cols += len(tb.Columns)
		for _, c := range tb.Columns {
			if len(c.Reads) > 0 {
				reading++
			}
		}
	}
	if cols == 0 || reading == 0 || len(page.Measures) == 0 || len(page.Downstream) == 0 {
		t.Errorf("node page of Sales Model: %d columns (%d with lineage), %d measures, %d downstream", cols, reading, len(page.Measures), len(page.Downstream))
	}
	if r := get("/api/node?key=nope", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown key: %d", r.StatusCode)
	}
	var sg estate.Subgraph
	get("/api/graph?key="+url.QueryEscape("semantic_model/Sales_Model")+"&up=1&down=2", &sg)
	if len(sg.Nodes) < 3 || len(sg.Edges) < 2 {
		t.Errorf("graph around Sales Model: %d nodes, %d edges", len(sg.Nodes), len(sg.Edges))
	}
	resp, err := http.Get(srv.URL + "/api/impact?format=csv&name=" + url.QueryEscape("sales_db/public/orders"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) < 2 || rows[0][0] != "depth" {
		t.Fatalf("impact CSV: %v %v", rows, err)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, srv.URL+"/api/estate", nil)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/estate: %d, want 405 (the API is read-only)", m, r.StatusCode)
		}
	}
	body := get("/", nil)
	if body.StatusCode != http.StatusOK || !strings.Contains(body.Header.Get("Content-Type"), "html") {
		t.Errorf("UI: %d %s", body.StatusCode, body.Header.Get("Content-Type"))
	}
}

// TestUnchangedSyncKeepsTheGeneration: through the engine (events whose encoding the
// outputs share), a sync of the same tenant again writes nothing to the estate, and one
// that renames a report writes that report.
func TestUnchangedSyncKeepsTheGeneration(t *testing.T) {
	st := openStore(t)
	sample := powerbitest.SampleTenant()
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{sample}}); err != nil {
		t.Fatal(err)
	}
	src := &estate.StoreSource{St: st, Pipeline: "p"}
	before, _ := src.Graph(context.Background())
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{powerbitest.SampleTenant()}}); err != nil {
		t.Fatal(err)
	}
	again, _ := src.Graph(context.Background())
	if again.Generation != before.Generation || again.Len() != before.Len() {
		t.Fatalf("an unchanged sync: generation %d -> %d, nodes %d -> %d", before.Generation, again.Generation, before.Len(), again.Len())
	}
	renamed := powerbitest.SampleTenant()
	ws := &renamed.Workspaces[0]
	if len(ws.Reports) == 0 {
		t.Fatal("the sample's first workspace has no report")
	}
	ws.Reports[0].Name += " (renamed)"
	specs, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{renamed}})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := src.Graph(context.Background())
	if after.Generation != before.Generation+1 {
		t.Fatalf("a sync renaming a report: generation %d -> %d", before.Generation, after.Generation)
	}
	found := false
	for _, s := range specs {
		if s.PowerBI.ID == ws.Reports[0].ID {
			n := after.Node(s.Key.String())
			found = n != nil && strings.HasSuffix(n.Name, " (renamed)")
		}
	}
	if !found {
		t.Error("the renamed report's node does not have its new name")
	}
}

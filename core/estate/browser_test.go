package estate_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/spec"
)

// largeEstate builds the specs of the generated 1,000-workspace tenant in memory, as a sync
// would send them.
func largeEstate(t testing.TB) *estate.MemorySource {
	t.Helper()
	got := &specSink{}
	e := &engine.Engine{Pipeline: "large", Sources: []engine.Source{&batches{snaps: splitTenant(powerbitest.Generate(1, powerbitest.LargeSize()), 100)}},
		NewBuilder: newBuilder, Sinks: []engine.Sink{got}}
	if _, err := e.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	return estate.NewMemorySource(got.specs)
}

func splitTenant(s *snapshot.Snapshot, n int) []*snapshot.Snapshot {
	var out []*snapshot.Snapshot
	for i := 0; i < len(s.Workspaces); i += n {
		b := *s
		b.Workspaces = s.Workspaces[i:min(i+n, len(s.Workspaces))]
		out = append(out, &b)
	}
	return out
}

// hub returns the key of a node whose neighbourhood reaches the limit, for the layout
// figure: the biggest one among the upstream tables and data sources.
func hub(g *estate.Graph, keys []spec.Key, limit int) string {
	best, bestN := "", 0
	for _, k := range keys {
		sg, _ := g.Neighbourhood(k.String(), 6, 6, limit)
		if len(sg.Nodes) > bestN {
			best, bestN = k.String(), len(sg.Nodes)
			if bestN >= limit {
				break
			}
		}
	}
	return best
}

// TestBrowser drives the UI in headless Chromium through ui/test/browser.mjs: the sample
// estate (synced into a state store, with refreshes in its journal) for every view, and the
// generated 1,000-workspace tenant for the search and layout figures, which it logs.
// PBISYNC_SCREENSHOTS=DIR saves the screenshots the docs show.
func TestBrowser(t *testing.T) {
	node, errNode := exec.LookPath("node")
	chromium, errChrome := exec.LookPath("chromium")
	root, _ := filepath.Abs("../..")
	script := filepath.Join(root, "ui", "test", "browser.mjs")
	_, errMod := os.Stat(filepath.Join(root, "ui", "node_modules", "playwright-core"))
	if errNode != nil || errChrome != nil || errMod != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test needs node, Debian's chromium and ui/node_modules (.ci/install-ui.sh): %v %v %v", errNode, errChrome, errMod)
		}
		t.Skip("needs node, chromium and ui/node_modules (.ci/install-ui.sh installs them)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	st := openStore(t)
	if _, err := syncInto(t, st, &batches{snaps: []*snapshot.Snapshot{powerbitest.SampleTenant()}}); err != nil {
		t.Fatal(err)
	}
	journal(t, st)
	sample := httptest.NewServer(estate.Handler(&estate.StoreSource{St: st, Pipeline: "p"}, nil))
	defer sample.Close()

	large := largeEstate(t)
	g, _ := large.Graph(context.Background())
	var starts []spec.Key
	for _, typ := range []string{estate.TypeTable, string(spec.DataSource), string(spec.SemanticModel)} {
		starts = append(starts, g.KeysOf(typ)...)
	}
	hubKey := hub(g, starts, 190)
	largeSrv := httptest.NewServer(estate.Handler(large, nil))
	defer largeSrv.Close()

	args := []string{script, "--sample", sample.URL, "--large", largeSrv.URL, "--hub", hubKey}
	if dir := os.Getenv("PBISYNC_SCREENSHOTS"); dir != "" {
		args = append(args, "--screenshots", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser test: %v\n%s", err, out)
	}
	var figures struct {
		Search []struct {
			Q        string
			Ms       float64
			ServerMs float64
			Hits     int
		}
		Layout struct {
			LastLayoutMs float64
			Nodes, Edges int
		}
	}
	if err := json.Unmarshal(out, &figures); err != nil {
		t.Fatalf("browser test figures %q: %v", out, err)
	}
	for _, s := range figures.Search {
		t.Logf("large tenant (%d nodes): search %q: %.1f ms in the page (%.2f ms in the server), %d hits", g.Len(), s.Q, s.Ms, s.ServerMs, s.Hits)
	}
	t.Logf("large tenant: neighbourhood of %s: %d nodes, %d edges laid out in %.0f ms", hubKey, figures.Layout.Nodes, figures.Layout.Edges, figures.Layout.LastLayoutMs)
	if figures.Layout.Nodes < 150 {
		t.Errorf("the layout figure drew %d nodes; want a neighbourhood near 200", figures.Layout.Nodes)
	}
}

// journal records refreshes the way the refresh engine does: one completed, one failed
// with the service's message, one still running.
func journal(t *testing.T, st *state.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().Add(-time.Hour)
	runs := []struct {
		id, state, err string
	}{{"r-completed", "completed", ""}, {"r-failed", "failed", "DM_GWPipeline_Gateway_DataSourceAccessError: the credentials of data source FinanceDW are invalid"}, {"r-running", "", ""}}
	for i, r := range runs {
		run := state.RefreshRun{Source: "sample", RequestID: r.id, Pipeline: "p", WorkspaceID: "ws", ModelID: "m", Name: "Sales Model",
			Key: spec.Key{"semantic_model", "Sales_Model"}, RequestedAt: now.Add(time.Duration(i) * time.Minute), Deadline: now.Add(2 * time.Hour)}
		if err := st.BeginRefresh(ctx, run); err != nil {
			t.Fatal(err)
		}
		if r.state != "" {
			if err := st.EndRefresh(ctx, r.id, r.state, run.RequestedAt.Add(42*time.Second), r.err); err != nil {
				t.Fatal(err)
			}
		}
	}
}

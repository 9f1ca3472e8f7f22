package powerbi_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/snapshot"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

func boolp(b bool) *bool { return &b }

func TestPathsAgreeOnSampleTenant(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant())
	for _, kind := range []credKind{withSecret, withCert, withToken} {
		scanCfg := baseConfig(srv, kind)
		scanCfg.Workspaces.Types = []string{"Workspace", "PersonalGroup"} // every workspace of the sample
		scanSnap, st, err := collect(t, newClient(t, srv, scanCfg, nil))
		if err != nil {
			t.Fatal(err)
		}
		if st.Path != "scanner" || st.Workspaces != 7 || st.Discovered != 7 {
			t.Fatalf("stats %+v", st)
		}
		apiCfg := baseConfig(srv, kind)
		apiCfg.Scanner.Enabled = boolp(false)
		apiCfg.Workspaces.Types = scanCfg.Workspaces.Types
		apiSnap, st, err := collect(t, newClient(t, srv, apiCfg, nil))
		if err != nil {
			t.Fatal(err)
		}
		if st.Path != "api" {
			t.Fatalf("stats %+v", st)
		}
		a, b := snapJSON(t, normalize(scanSnap, "")), snapJSON(t, normalize(apiSnap, ""))
		if a != b {
			t.Fatalf("scanner and regular API paths disagree:\nscanner:\n%s\napi:\n%s", a, b)
		}
		// Each path against the tenant itself, with the fields that path carries.
		tenant := powerbitest.SampleTenant()
		if got, want := snapJSON(t, normalize(scanSnap, "scan")), snapJSON(t, normalize(tenant, "scan")); got != want {
			t.Errorf("scanner round trip differs from the tenant:\ngot:\n%s\nwant:\n%s", got, want)
		}
		if got, want := snapJSON(t, normalize(apiSnap, "api")), snapJSON(t, normalize(tenant, "api")); got != want {
			t.Errorf("regular API round trip differs from the tenant:\ngot:\n%s\nwant:\n%s", got, want)
		}
	}
}

func TestSampleRoundTripHasContent(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant())
	s, _, err := collect(t, newClient(t, srv, baseConfig(srv, withSecret), nil))
	if err != nil {
		t.Fatal(err)
	}
	tables, tiles, pages := 0, 0, 0
	for _, w := range s.Workspaces {
		for _, m := range w.SemanticModels {
			tables += len(m.Tables)
			if len(m.Raw) == 0 {
				t.Errorf("model %s has no raw JSON", m.Name)
			}
		}
		for _, b := range w.Dashboards {
			tiles += len(b.Tiles)
		}
		for _, r := range w.Reports {
			pages += len(r.Pages)
		}
	}
	if len(s.Workspaces) != 6 || tables < 10 || tiles < 6 || len(s.DataSources) != 6 {
		t.Errorf("workspaces %d tables %d tiles %d data sources %d", len(s.Workspaces), tables, tiles, len(s.DataSources))
	}
	if pages != 0 {
		t.Errorf("the scanner does not return pages, got %d", pages)
	}
}

func TestProgress(t *testing.T) {
	srv := startEmulator(t, emptyTenant(250))
	cfg := baseConfig(srv, withToken)
	var mu sync.Mutex
	var last powerbi.Progress
	calls := 0
	c, err := powerbi.New(cfg, powerbi.WithProgress(func(p powerbi.Progress) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if p.BatchesDone >= last.BatchesDone {
			last = p
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := collect(t, c); err != nil {
		t.Fatal(err)
	}
	// 250 workspaces are 5 batches of the default size (powerbi.SmallBatchSize).
	if last.WorkspacesDone != 250 || last.BatchesDone != 5 || last.BatchesTotal != 5 || last.Path != "scanner" || calls < 6 {
		t.Errorf("last progress %+v after %d calls", last, calls)
	}
}

func TestEmitErrorStops(t *testing.T) {
	srv := startEmulator(t, emptyTenant(250))
	cfg := baseConfig(srv, withToken)
	cfg.Scanner.ParallelScans = 1
	c := newClient(t, srv, cfg, nil)
	stop := errors.New("sink is full")
	n := 0
	_, err := c.Snapshots(context.Background(), func(*snapshot.Snapshot) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d batches", err, n)
	}
}

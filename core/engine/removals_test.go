package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// emulatorSource reads srv through the real client: the regular API, or the scanner.
func emulatorSource(t *testing.T, srv *powerbitest.Server, scanner bool) Source {
	t.Helper()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{Token: config.NewSecret(srv.IssueToken(time.Hour))}}
	cfg.Scanner.Enabled = &scanner
	cfg.Scanner.PollInterval = 5 * time.Millisecond
	cfg.Scanner.BatchSize = 3
	c, err := powerbi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &powerbiSource{name: "pbi", client: c}
}

func removedEvents(c *collect) []event.Removed {
	var out []event.Removed
	for _, ev := range c.events {
		if ev.Kind == event.KindRemoved {
			out = append(out, *ev.Removed)
		}
	}
	return out
}

// A removal needs positive evidence: what a source could not read is not gone. Each
// case syncs the sample tenant cleanly, then again with the emulator answering as the
// live service was recorded to.
func TestRemovalsNeedEvidence(t *testing.T) {
	const finance = "4605c2b6-0919-560e-9377-edabc50f28ad"
	tests := []struct {
		name    string
		scanner bool
		quirks  powerbitest.Quirks
		faults  []powerbitest.Fault
		change  func(t *snapshot.Snapshot) // the tenant between the syncs
		// wantRemoved counts the removed events by type; wantErrors the problems that
		// are not warnings (exit status 3).
		wantRemoved map[spec.ContentType]int
		wantErrors  int
		wantProblem string
	}{
		{name: "pages and tiles refused: items kept, problems reported", quirks: powerbitest.Quirks{NotFound: []string{"pages", "tiles"}},
			wantErrors: 13, wantProblem: "GET /groups/{id}/reports/{id}/pages: 404"},
		{name: "data sources refused: unseen data sources are not removed", quirks: powerbitest.Quirks{NotFound: []string{"datasources"}},
			wantErrors: 7, wantProblem: "datasources: 404"},
		{name: "a workspace's reports refused: its reports are not removed",
			faults:     []powerbitest.Fault{{Endpoint: "GET /groups/{id}/reports", Kind: powerbitest.ServerError, Status: 403, Count: 1}},
			wantErrors: 1, wantProblem: "403"},
		{name: "a malformed scanned workspace keeps its assets", scanner: true, quirks: powerbitest.Quirks{MalformedWorkspaces: []string{finance}},
			wantErrors: 1, wantProblem: finance},
		{name: "a workspace left out of a scan keeps its assets", scanner: true, quirks: powerbitest.Quirks{OmitFromScan: []string{finance}},
			wantProblem: "missing from the result of scan"},
		{name: "a workspace absent from a complete listing is removed", scanner: true,
			change: func(t *snapshot.Snapshot) {
				for i, w := range t.Workspaces {
					if w.ID == finance {
						t.Workspaces = append(t.Workspaces[:i], t.Workspaces[i+1:]...)
						return
					}
				}
			},
			wantRemoved: map[spec.ContentType]int{spec.SemanticModel: 2, spec.Report: 3, spec.Dashboard: 1, spec.DataSource: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := powerbitest.NewServer(powerbitest.SampleTenant())
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			st := openState(t)
			first := &collect{name: "c"}
			e := newEngine([]Source{emulatorSource(t, srv, tt.scanner)}, first)
			e.State = st
			if res, err := e.Sync(context.Background()); err != nil || res.Errors() != 0 {
				t.Fatalf("first sync: %v %v", err, res.Problems)
			}
			srv.SetQuirks(tt.quirks)
			for _, f := range tt.faults {
				srv.AddFault(f)
			}
			if tt.change != nil {
				srv.Tenant(func(s *snapshot.Snapshot) { tt.change(s); srv.Reindex() })
			}
			second := &collect{name: "c"}
			e = newEngine([]Source{emulatorSource(t, srv, tt.scanner)}, second)
			e.State = st
			// A full scan: these cases are about what a scan's problems leave unread (an
			// incremental sync of the unchanged tenant would rescan nothing;
			// incremental_test.go covers those).
			res, err := e.Run(context.Background(), RunOptions{Full: true})
			if err != nil {
				t.Fatal(err)
			}
			got := map[spec.ContentType]int{}
			for _, r := range removedEvents(second) {
				got[r.PowerBI.Type]++
			}
			if len(got) != len(tt.wantRemoved) {
				t.Errorf("removed %v, want %v", got, tt.wantRemoved)
			}
			for k, v := range tt.wantRemoved {
				if got[k] != v {
					t.Errorf("removed %v, want %v", got, tt.wantRemoved)
				}
			}
			if res.Errors() != tt.wantErrors {
				t.Errorf("%d errors, want %d: %v", res.Errors(), tt.wantErrors, res.Problems)
			}
			var summary *event.Summary
			for _, ev := range second.events {
				if ev.Kind == event.KindSummary {
					summary = ev.Summary
				}
			}
			if summary == nil || (tt.wantProblem != "" && !strings.Contains(strings.Join(summary.Problems, "\n"), tt.wantProblem)) {
				t.Errorf("the summary does not report %q: %+v", tt.wantProblem, summary)
			}
		})
	}
}

// An emulator source's quirks: reach the emulator, and a bad one is named where it is.
func TestEmulatorSourceQuirks(t *testing.T) {
	doc := "version: 1\nsources:\n  - name: emu\n    emulator: {quirks: [status-casing=upper, rdl-pages-400, page-size=2]}\noutputs:\n  - {name: a, jsonl: {path: out.jsonl}}\n"
	source := func(doc string) (Source, error) {
		p, err := pipeline.Parse("p.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		s := newSetup(p, SetupOptions{})
		t.Cleanup(s.close)
		return s.emulatorSource(p.Sources[0])
	}
	src, err := source(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{name: "c"}
	res, err := newEngine([]Source{src}, c).Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors() != 0 || res.Summary.Workspaces != 6 || res.Summary.Assets[string(spec.Report)] != 9 {
		t.Fatalf("summary %+v, problems %v", res.Summary, res.Problems)
	}
	if _, err := source(strings.Replace(doc, "page-size=2", "page-size=none", 1)); err == nil || !strings.Contains(err.Error(), "p.yaml:4:") || !strings.Contains(err.Error(), "page-size") {
		t.Errorf("error %v, want the quirk named with its line", err)
	}
}

// Item 9 of issue 9, through the emulator on both paths: a paginated report without a
// model depends on the data source it reads, and a tile pinned from a model (not a
// report) keeps its dashboard's link to that model.
func TestLineageOfPaginatedReportsAndModelTiles(t *testing.T) {
	for _, scanner := range []bool{true, false} {
		srv, err := powerbitest.NewServer(powerbitest.SampleTenant(), powerbitest.WithQuirks(powerbitest.Quirks{RDLPages400: true}))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		c := &collect{name: "c"}
		res, err := newEngine([]Source{emulatorSource(t, srv, scanner)}, c).Sync(context.Background())
		if err != nil || res.Errors() != 0 {
			t.Fatalf("scanner %v: %v %v", scanner, err, res.Problems)
		}
		keys := map[string]spec.Key{}
		deps := map[string][]spec.Key{}
		for _, ev := range c.events {
			if ev.Kind == event.KindSpec {
				keys[ev.Spec.PowerBI.Name] = ev.Spec.Key
				deps[ev.Spec.PowerBI.Name] = ev.Spec.Deps
			}
		}
		has := func(of, on string) bool {
			for _, d := range deps[of] {
				if d.Equal(keys[on]) {
					return true
				}
			}
			return false
		}
		if !has("Invoice Register", "FinanceDW") {
			t.Errorf("scanner %v: the paginated report's deps %v lack its data source %v", scanner, deps["Invoice Register"], keys["FinanceDW"])
		}
		if !has("v1.2 Ops", "Web Traffic") {
			t.Errorf("scanner %v: the dashboard's deps %v lack the model its tile is pinned from", scanner, deps["v1.2 Ops"])
		}
	}
}

package powerbi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// Sample tenant items the quirk tests look at.
const (
	financeID       = "4605c2b6-0919-560e-9377-edabc50f28ad"
	invoiceRegister = "2fe19e65-4054-5ea5-b224-a1cf6478991a" // a paginated report without a model
	financeSQL      = "f470e2b3-66ca-55ed-8801-552f593c79ba" // the data source it reads
	salesID         = "0c5a17e6-c660-55b0-9f64-b95fc072a01e"
)

func findReport(s *snapshot.Snapshot, id string) *snapshot.Report {
	for wi := range s.Workspaces {
		for ri := range s.Workspaces[wi].Reports {
			if r := &s.Workspaces[wi].Reports[ri]; r.ID == id {
				return r
			}
		}
	}
	return nil
}

func countItems(s *snapshot.Snapshot) (reports, dashboards, models int) {
	for _, w := range s.Workspaces {
		reports += len(w.Reports)
		dashboards += len(w.Dashboards)
		models += len(w.SemanticModels)
	}
	return
}

// scopeOf is what a sync may not mark removed after these problems.
func scopeOf(st powerbi.Stats) snapshot.Scope { return snapshot.ScopeOf(st.Problems) }

func TestRegularPathAgainstRecordedQuirks(t *testing.T) {
	tenant := powerbitest.SampleTenant()
	wantReports, wantDashboards, wantModels := 0, 0, 0
	for _, w := range tenant.Workspaces {
		if w.Type != "PersonalGroup" {
			wantReports += len(w.Reports)
			wantDashboards += len(w.Dashboards)
			wantModels += len(w.SemanticModels)
		}
	}
	tests := []struct {
		name     string
		quirks   []string
		fallback bool // through the scanner refused, then the regular API
		// wantProblems is how many item problems the sync reports (all IncompleteErrors).
		wantProblems int
		check        func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats)
	}{
		{name: "RDL pages answer 400", quirks: []string{"rdl-pages-400"}},
		{name: "RDL pages answer 400, after the scanner is refused", quirks: []string{"rdl-pages-400"}, fallback: true},
		{name: "every report's pages 404", quirks: []string{"not-found=pages"}, wantProblems: 8,
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				if r := findReport(s, invoiceRegister); r == nil || len(r.DataSourceIDs) != 1 {
					t.Errorf("the paginated report reads no pages and keeps its data sources: %+v", r)
				}
			}},
		{name: "every dashboard's tiles 404", quirks: []string{"not-found=tiles"}, wantProblems: 5},
		{name: "every dataset's data sources 404", quirks: []string{"not-found=datasources"}, wantProblems: 7},
		{name: "a paginated report's data sources 404", quirks: []string{"not-found=report-datasources"}, wantProblems: 1},
		{name: "upper-case enumerations, kept in the documented spelling", quirks: []string{"status-casing=upper", "rdl-pages-400"},
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				if r := findReport(s, invoiceRegister); r == nil || r.ReportType != "PaginatedReport" || len(r.DataSourceIDs) != 1 {
					t.Errorf("paginated report %+v", r)
				}
			}},
		{name: "numbers as strings", quirks: []string{"odd-field-types"},
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				spans, orders := 0, 0
				for _, w := range s.Workspaces {
					for _, b := range w.Dashboards {
						for _, tl := range b.Tiles {
							spans += tl.RowSpan
						}
					}
					for _, r := range w.Reports {
						for _, p := range r.Pages {
							orders += p.Order
						}
					}
				}
				if spans == 0 || orders == 0 {
					t.Errorf("spans %d, orders %d: string numbers lost", spans, orders)
				}
			}},
		{name: "pages of two workspaces", quirks: []string{"page-size=2"}},
		{name: "pages of two workspaces with next links", quirks: []string{"page-size=2", "next-link"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := powerbitest.ParseQuirks(tt.quirks)
			if err != nil {
				t.Fatal(err)
			}
			srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithQuirks(q), powerbitest.WithRefusedAdmin(tt.fallback))
			cfg := baseConfig(srv, withToken)
			if !tt.fallback {
				cfg.Scanner.Enabled = boolp(false)
			}
			s, st, err := collect(t, newClient(t, srv, cfg, nil))
			if err != nil {
				t.Fatalf("the sync failed: %v", err)
			}
			if st.Workspaces != 6 || st.Discovered != 7 {
				t.Errorf("workspaces %d of %d listed, want 6 of 7", st.Workspaces, st.Discovered)
			}
			r, d, m := countItems(s)
			if r != wantReports || d != wantDashboards || m != wantModels {
				t.Errorf("reports %d dashboards %d models %d, want %d %d %d: items lost", r, d, m, wantReports, wantDashboards, wantModels)
			}
			if len(st.Problems) != tt.wantProblems {
				t.Errorf("%d problems, want %d: %v", len(st.Problems), tt.wantProblems, st.Problems)
			}
			sc := scopeOf(st)
			if sc.Unknown {
				t.Errorf("a problem of unknown extent: %v", st.Problems)
			}
			for _, p := range st.Problems {
				var inc *snapshot.IncompleteError
				if !errors.As(p, &inc) || inc.WorkspaceID == "" || !strings.Contains(p.Error(), inc.WorkspaceID) {
					t.Errorf("problem does not name its workspace: %v", p)
				}
			}
			if tt.wantProblems == 0 {
				if r := findReport(s, invoiceRegister); r == nil || len(r.Pages) != 0 || len(r.DataSourceIDs) != 1 || r.DataSourceIDs[0] != financeSQL {
					t.Errorf("paginated report: %+v", r)
				}
			}
			if tt.check != nil {
				tt.check(t, s, st)
			}
		})
	}
}

// A 404 on the workspace itself is evidence that it is gone; the rest goes on.
func TestRegularPathWorkspaceGone(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithFaults(powerbitest.Fault{
		Endpoint: "GET /groups/{id}/datasets", Kind: powerbitest.ServerError, Status: 404, Count: 1}))
	cfg := baseConfig(srv, withToken)
	cfg.Scanner.Enabled = boolp(false)
	cfg.Concurrency = 1
	s, st, err := collect(t, newClient(t, srv, cfg, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Workspaces) != 5 || len(st.Problems) != 1 {
		t.Fatalf("workspaces %d, problems %v", len(s.Workspaces), st.Problems)
	}
	var gone *snapshot.GoneError
	if !errors.As(st.Problems[0], &gone) || !snapshot.IsWarning(st.Problems[0]) {
		t.Errorf("want a GoneError, got %v", st.Problems[0])
	}
	if sc := scopeOf(st); sc.Unknown || len(sc.Workspaces) != 0 {
		t.Errorf("a gone workspace is evidence, scope %+v", sc)
	}
}

func TestScannerPathAgainstRecordedQuirks(t *testing.T) {
	tests := []struct {
		name   string
		quirks []string
		check  func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats)
	}{
		{name: "upper-case scan status", quirks: []string{"status-casing=upper"}},
		{name: "lower-case scan status", quirks: []string{"status-casing=lower"}},
		{name: "listing capped at two workspaces a page", quirks: []string{"page-size=2"}},
		{name: "malformed workspace", quirks: []string{"malformed-workspace=" + financeID},
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				sc := scopeOf(st)
				if len(st.Problems) != 1 || sc.Unknown || !sc.Workspaces[financeID] || !strings.Contains(st.Problems[0].Error(), financeID) {
					t.Errorf("problems %v, scope %+v", st.Problems, sc)
				}
			}},
		{name: "workspace left out of the scan result", quirks: []string{"omit-from-scan=" + salesID},
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				sc := scopeOf(st)
				if len(st.Problems) != 1 || !snapshot.IsWarning(st.Problems[0]) || !sc.Workspaces[salesID] || !strings.Contains(st.Problems[0].Error(), "Sales Analytics") {
					t.Errorf("problems %v, scope %+v", st.Problems, sc)
				}
			}},
		{name: "paginated report's data sources refused", quirks: []string{"not-found=report-datasources"},
			check: func(t *testing.T, s *snapshot.Snapshot, st powerbi.Stats) {
				if len(st.Problems) != 1 || !snapshot.IsWarning(st.Problems[0]) || !strings.Contains(st.Problems[0].Error(), "Invoice Register") {
					t.Errorf("problems %v", st.Problems)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := powerbitest.ParseQuirks(tt.quirks)
			if err != nil {
				t.Fatal(err)
			}
			srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithQuirks(q))
			cfg := baseConfig(srv, withToken)
			cfg.Scanner.BatchSize = 3 // a malformed or missing workspace shares its batch
			s, st, err := collect(t, newClient(t, srv, cfg, nil))
			if err != nil {
				t.Fatalf("the sync failed: %v", err)
			}
			if st.Path != "scanner" || st.Workspaces != 6 {
				t.Errorf("stats %+v", st)
			}
			want := 6
			if len(q.OmitFromScan) > 0 {
				want = 5
			}
			if len(s.Workspaces) != want {
				t.Errorf("%d workspaces, want %d", len(s.Workspaces), want)
			}
			if tt.check != nil {
				tt.check(t, s, st)
			} else if len(st.Problems) != 0 {
				t.Errorf("problems %v", st.Problems)
			}
			if len(q.NotFound) == 0 {
				if r := findReport(s, invoiceRegister); r == nil || len(r.DataSourceIDs) != 1 || r.DataSourceIDs[0] != financeSQL {
					t.Errorf("the paginated report's data sources were not read: %+v", r)
				}
			}
		})
	}
}

// One workspace's lists refused costs that workspace (kept as it was downstream);
// every workspace refused is the credentials' fault, and the sync fails.
func TestRegularPathRefusedWorkspaces(t *testing.T) {
	for _, count := range []int{1, 0} {
		srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithFaults(powerbitest.Fault{
			Endpoint: "GET /groups/{id}/datasets", Kind: powerbitest.ServerError, Status: 403, Count: count}))
		cfg := baseConfig(srv, withToken)
		cfg.Scanner.Enabled = boolp(false)
		s, st, err := collect(t, newClient(t, srv, cfg, nil))
		if count == 0 {
			if err == nil || !strings.Contains(err.Error(), "every one of the 6 workspaces was refused") {
				t.Errorf("every workspace refused: error %v", err)
			}
			continue
		}
		if err != nil || len(s.Workspaces) != 5 || len(st.Problems) != 1 || !isIncompleteErr(st.Problems[0]) {
			t.Errorf("one workspace refused: %v, %d workspaces, problems %v", err, len(s.Workspaces), st.Problems)
		}
	}
}

func isIncompleteErr(err error) bool {
	var inc *snapshot.IncompleteError
	return errors.As(err, &inc) && inc.WorkspaceID != ""
}

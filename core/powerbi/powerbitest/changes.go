package powerbitest

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// The emulator remembers when each workspace last changed, so that
// GET admin/workspaces/modified answers truthfully. The workspaces a server starts with
// changed a day before it started; ModifyWorkspaces, AddWorkspace and Tenant callers that
// call Touch move them to now.

// initialAge is how long before the server's start its initial workspaces last changed.
const initialAge = 24 * time.Hour

// Change is what one call of Change did, by workspace id.
type Change struct {
	Modified []string `json:"modified"`
	Deleted  []string `json:"deleted"`
	Added    []string `json:"added"`
	// Renamed are the workspaces whose first semantic model RenameModels renamed.
	Renamed []string `json:"renamed"`
}

// ModifyWorkspaces changes n workspaces of the tenant, spread evenly over the listing
// (the first, then every len/n-th): the description of each and of its first semantic
// model gains a revision mark, and the workspace counts as modified now. It returns their
// ids.
func (s *Server) ModifyWorkspaces(n int) []string {
	return s.changeWorkspaces(n, func(w *snapshot.Workspace, rev int) {
		w.Description = fmt.Sprintf("revision %d", rev)
		if len(w.SemanticModels) > 0 {
			w.SemanticModels[0].Description = fmt.Sprintf("revision %d", rev)
		}
	})
}

// RenameModels renames the first semantic model of n workspaces that have one (spread
// as ModifyWorkspaces spreads them): its name gains a revision mark, so its default key
// changes, and the workspace counts as modified now. In a generated tenant that model is
// also the one a report of the next workspace reads. It returns the workspaces' ids.
func (s *Server) RenameModels(n int) []string {
	return s.changeWorkspaces(n, func(w *snapshot.Workspace, rev int) {
		if len(w.SemanticModels) > 0 {
			w.SemanticModels[0].Name = fmt.Sprintf("%s r%d", w.SemanticModels[0].Name, rev)
		}
	})
}

// changeWorkspaces applies change to n workspaces spread evenly over the listing (the
// first, then every len/n-th), marks them modified now, and returns their ids.
func (s *Server) changeWorkspaces(n int, change func(w *snapshot.Workspace, rev int)) []string {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	s.rev++
	total := len(s.tenant.Workspaces)
	n = min(n, total)
	var ids []string
	for k := range n {
		w := &s.tenant.Workspaces[k*total/n]
		change(w, s.rev)
		s.modifiedAt[w.ID] = time.Now().UTC()
		ids = append(ids, w.ID)
	}
	return ids
}

// DeleteWorkspace removes the tenant's last workspace, as if it had been deleted and
// purged: it is gone from every listing. It returns its id ("" for an empty tenant).
func (s *Server) DeleteWorkspace() string {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	n := len(s.tenant.Workspaces)
	if n == 0 {
		return ""
	}
	id := s.tenant.Workspaces[n-1].ID
	s.tenant.Workspaces = s.tenant.Workspaces[: n-1 : n-1]
	delete(s.modifiedAt, id)
	s.idx = buildIndex(s.tenant)
	return id
}

// AddWorkspace adds a new workspace with one semantic model (one table of two columns and
// a measure) and one report on it, modified now. It returns its id.
func (s *Server) AddWorkspace() string {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	s.rev++
	ws := snapshot.Workspace{ID: newID(), Name: fmt.Sprintf("Added workspace %d", s.rev), Type: "Workspace", State: "Active"}
	model := snapshot.SemanticModel{ID: newID(), Name: fmt.Sprintf("Added model %d", s.rev), ConfiguredBy: "emulator@contoso.com",
		Tables: []snapshot.Table{{Name: "Sales",
			Columns:  []snapshot.Column{{Name: "Amount", DataType: "Double"}, {Name: "Region", DataType: "String"}},
			Measures: []snapshot.Measure{{Name: "Total", Expression: "SUM(Sales[Amount])"}}}}}
	ws.SemanticModels = []snapshot.SemanticModel{model}
	ws.Reports = []snapshot.Report{{ID: newID(), Name: fmt.Sprintf("Added report %d", s.rev), DatasetID: model.ID, ReportType: "PowerBIReport"}}
	s.tenant.Workspaces = append(s.tenant.Workspaces, ws)
	s.modifiedAt[ws.ID] = time.Now().UTC()
	s.idx = buildIndex(s.tenant)
	return ws.ID
}

// Touch marks workspaces as modified now, for a caller that changed them through Tenant.
func (s *Server) Touch(workspaceIDs ...string) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	now := time.Now().UTC()
	for _, id := range workspaceIDs {
		s.modifiedAt[id] = now
	}
}

// lastModified is when workspace id last changed; call with tmu held.
func (s *Server) lastModified(id string) time.Time {
	if t, ok := s.modifiedAt[id]; ok {
		return t
	}
	return s.started.Add(-initialAge)
}

// handleChange is the emulator's control endpoint, outside the API and without a token:
// POST /emulator/change?modify=N&delete=K&add=M&rename=R changes the tenant over time
// (for demos and tests of incremental syncs against `pbisync emulate`) and answers the
// Change.
func (s *Server) handleChange(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	num := func(name string) (int, bool) {
		v := q.Get(name)
		if v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100000 {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", name+" must be a number from 0 to 100000")
			return 0, false
		}
		return n, true
	}
	modify, ok1 := num("modify")
	del, ok2 := num("delete")
	add, ok3 := num("add")
	rename, ok4 := num("rename")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return
	}
	ch := Change{Modified: []string{}, Deleted: []string{}, Added: []string{}, Renamed: []string{}}
	ch.Modified = append(ch.Modified, s.ModifyWorkspaces(modify)...)
	ch.Renamed = append(ch.Renamed, s.RenameModels(rename)...)
	for range del {
		if id := s.DeleteWorkspace(); id != "" {
			ch.Deleted = append(ch.Deleted, id)
		}
	}
	for range add {
		ch.Added = append(ch.Added, s.AddWorkspace())
	}
	writeJSON(w, http.StatusOK, ch)
}

// Age moves every change of the tenant d into the past, as if d had passed since: a test
// of incremental syncs need not wait out modifiedSince's 30-minute minimum.
func (s *Server) Age(d time.Duration) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	defer s.rendered.drop()
	s.started = s.started.Add(-d)
	for id, t := range s.modifiedAt {
		s.modifiedAt[id] = t.Add(-d)
	}
}

// ScannedWorkspaces returns how many accepted getInfo requests named each workspace
// (lower-case id), since the server started.
func (s *Server) ScannedWorkspaces() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.scanned)
}

// ForgetScans drops every scan the server started, as the service does once a scan's
// retention passed: scanStatus and scanResult answer 404 for them.
func (s *Server) ForgetScans() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.scans)
}

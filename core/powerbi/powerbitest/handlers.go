package powerbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

func (s *Server) registerAPI() {
	// Regular API.
	s.Handle("GET /groups", s.handleGroups(false))
	s.Handle("GET /groups/{group}/datasets", s.handleDatasets)
	s.Handle("GET /groups/{group}/datasets/{dataset}/datasources", s.handleDatasources)
	s.Handle("GET /groups/{group}/reports", s.handleReports)
	s.Handle("GET /groups/{group}/reports/{report}/pages", s.handlePages)
	s.Handle("GET /groups/{group}/reports/{report}/datasources", s.handleReportDatasources)
	s.Handle("GET /groups/{group}/dashboards", s.handleDashboards)
	s.Handle("GET /groups/{group}/dashboards/{dashboard}/tiles", s.handleTiles)
	// Admin and scanner API.
	s.Handle("GET /admin/groups", s.handleGroups(true))
	s.Handle("POST /admin/workspaces/getInfo", s.handleGetInfo)
	s.Handle("GET /admin/workspaces/scanStatus/{scan}", s.handleScanStatus)
	s.Handle("GET /admin/workspaces/scanResult/{scan}", s.handleScanResult)
	s.Handle("GET /admin/workspaces/modified", s.handleModified)
	// Refreshes.
	s.registerRefresh()
	// Dataflow definitions.
	s.registerFabric()
}

// read runs fn with the tenant under a read lock.
func (s *Server) read(fn func(t *snapshot.Snapshot, x *index)) {
	s.tmu.RLock()
	defer s.tmu.RUnlock()
	fn(s.tenant, s.idx)
}

func notFound(w http.ResponseWriter, what, id string) {
	WriteError(w, http.StatusNotFound, "PowerBIEntityNotFound", fmt.Sprintf("%s %s was not found", what, id))
}

func (s *Server) handleGroups(admin bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		top, skip := -1, 0
		if v := q.Get("$top"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || (admin && n > 5000) {
				WriteError(w, http.StatusBadRequest, "InvalidRequest", "$top must be a number between 1 and 5000")
				return
			}
			top = n
		} else if admin {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "The $top query parameter is required")
			return
		}
		if v := q.Get("$skip"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				WriteError(w, http.StatusBadRequest, "InvalidRequest", "$skip must be a non-negative number")
				return
			}
			skip = n
		}
		qk := s.currentQuirks()
		if qk.PageSize > 0 && (top < 0 || top > qk.PageSize) {
			top = qk.PageSize // the service caps pages below what was asked
		}
		var body map[string]any
		s.read(func(t *snapshot.Snapshot, x *index) {
			all := t.Workspaces
			end := len(all)
			if skip > end {
				skip = end
			}
			if top >= 0 && skip+top < end {
				end = skip + top
			}
			page := make([]jGroup, 0, end-skip)
			for i := skip; i < end; i++ {
				page = append(page, renderGroup(&all[i], admin, qk))
			}
			body = s.odata(r, "groups", page)
			if !admin {
				body["@odata.count"] = len(all)
			}
			if qk.NextLink && end < len(all) {
				next := r.URL.Query()
				next.Set("$skip", strconv.Itoa(end))
				next.Set("$top", strconv.Itoa(end-skip))
				body["@odata.nextLink"] = s.URL() + strings.TrimPrefix(r.URL.Path, APIPrefix) + "?" + next.Encode()
			}
		})
		writeJSON(w, http.StatusOK, body)
	}
}

// workspace finds the workspace of the {group} path value, or answers 404.
func (s *Server) workspace(w http.ResponseWriter, r *http.Request, t *snapshot.Snapshot, x *index) *snapshot.Workspace {
	id := r.PathValue("group")
	i, ok := x.workspaces[id]
	if !ok {
		notFound(w, "Workspace", id)
		return nil
	}
	return &t.Workspaces[i]
}

func (s *Server) handleDatasets(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		out := make([]jDataset, len(ws.SemanticModels))
		for i := range ws.SemanticModels {
			out[i] = renderDataset(t, x, ws, &ws.SemanticModels[i])
		}
		writeJSON(w, http.StatusOK, s.odata(r, "groups('"+ws.ID+"')/datasets", out))
	})
}

func (s *Server) handleDatasources(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		id := r.PathValue("dataset")
		at, ok := x.models[id]
		if !ok || at[0] != x.workspaces[ws.ID] {
			notFound(w, "Dataset", id)
			return
		}
		m := &ws.SemanticModels[at[1]]
		if s.currentQuirks().notFound("datasources") {
			notFound(w, "Dataset", id)
			return
		}
		out := make([]jDataSource, 0, len(m.DataSourceIDs))
		for _, d := range m.DataSourceIDs {
			if i, ok := x.dataSources[d]; ok {
				out = append(out, renderDataSource(&t.DataSources[i]))
			}
		}
		writeJSON(w, http.StatusOK, s.odata(r, "datasources", out))
	})
}

func (s *Server) handleReports(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		out := make([]jReport, len(ws.Reports))
		for i := range ws.Reports {
			out[i] = renderReport(ws, &ws.Reports[i], false, s.currentQuirks())
		}
		writeJSON(w, http.StatusOK, s.odata(r, "groups('"+ws.ID+"')/reports", out))
	})
}

func (s *Server) handlePages(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		id := r.PathValue("report")
		at, ok := x.reports[id]
		if !ok || at[0] != x.workspaces[ws.ID] {
			notFound(w, "Report", id)
			return
		}
		rep := &ws.Reports[at[1]]
		q := s.currentQuirks()
		switch {
		case q.RDLPages400 && strings.EqualFold(rep.ReportType, "PaginatedReport"):
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "Request is currently not supported for RDL reports")
			return
		case q.notFound("pages"):
			notFound(w, "Report", id)
			return
		}
		out := make([]any, len(rep.Pages))
		for i, p := range rep.Pages {
			if q.OddFieldTypes {
				out[i] = map[string]any{"name": p.Name, "displayName": p.DisplayName, "order": strconv.Itoa(p.Order)}
			} else {
				out[i] = jPage(p)
			}
		}
		writeJSON(w, http.StatusOK, s.odata(r, "pages", out))
	})
}

func (s *Server) handleDashboards(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		out := make([]jDashboard, len(ws.Dashboards))
		for i := range ws.Dashboards {
			out[i] = renderDashboard(ws, &ws.Dashboards[i], false, Quirks{})
		}
		writeJSON(w, http.StatusOK, s.odata(r, "groups('"+ws.ID+"')/dashboards", out))
	})
}

func (s *Server) handleTiles(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		id := r.PathValue("dashboard")
		at, ok := x.dashboards[id]
		if !ok || at[0] != x.workspaces[ws.ID] {
			notFound(w, "Dashboard", id)
			return
		}
		b := &ws.Dashboards[at[1]]
		q := s.currentQuirks()
		if q.notFound("tiles") {
			notFound(w, "Dashboard", id)
			return
		}
		out := make([]any, len(b.Tiles))
		for i := range b.Tiles {
			jt := renderTile(ws, b, &b.Tiles[i], false)
			if q.OddFieldTypes {
				out[i] = oddTile(jt)
			} else {
				out[i] = jt
			}
		}
		writeJSON(w, http.StatusOK, s.odata(r, "tiles", out))
	})
}

// scan is one getInfo request and its progress.
type scan struct {
	ID         string
	Created    time.Time
	Workspaces []string
	Polls      int
	Status     string
	Fetched    bool
}

func (s *Server) handleGetInfo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Workspaces []string `json:"workspaces"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "The request body must be {\"workspaces\": [...]}: "+err.Error())
		return
	}
	if len(body.Workspaces) == 0 || len(body.Workspaces) > 100 {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("workspaces must hold 1 to 100 ids, got %d", len(body.Workspaces)))
		return
	}
	sc := &scan{ID: newID(), Created: time.Now().UTC(), Workspaces: body.Workspaces, Status: "NotStarted"}
	s.mu.Lock()
	running := 0
	for _, o := range s.scans {
		if o.Status == "NotStarted" || o.Status == "Running" {
			running++
		}
	}
	if running >= s.maxRunning {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "You have exceeded the amount of requests allowed in the current time frame and further requests will fail. Retry in 1 seconds."})
		return
	}
	s.scans[sc.ID] = sc
	for _, id := range body.Workspaces {
		s.scanned[strings.ToLower(id)]++
	}
	s.mu.Unlock()
	w.Header().Set("Location", s.URL()+"/admin/workspaces/scanStatus/"+sc.ID)
	writeJSON(w, http.StatusAccepted, scanStatusBody(sc, "", s.currentQuirks()))
}

func scanStatusBody(sc *scan, failure string, q Quirks) map[string]any {
	b := map[string]any{"id": sc.ID, "createdDateTime": sc.Created.Format("2006-01-02T15:04:05.0000000Z"), "status": q.enum(sc.Status)}
	if sc.Status == "Failed" {
		b["error"] = map[string]any{"code": "ScanFailed", "message": failure, "target": sc.ID}
	}
	return b
}

func (s *Server) handleScanStatus(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scan")
	s.mu.Lock()
	sc, ok := s.scans[id]
	if !ok {
		s.mu.Unlock()
		WriteError(w, http.StatusNotFound, "PowerBIEntityNotFound", "Scan "+id+" was not found")
		return
	}
	failure := ""
	if sc.Status == "NotStarted" || sc.Status == "Running" {
		sc.Polls++
		switch {
		case sc.Polls < s.scanPolls:
			sc.Status = "Running"
		case s.failScans["*"] || s.anyFailing(sc.Workspaces):
			sc.Status = "Failed"
		default:
			sc.Status = "Succeeded"
		}
	}
	if sc.Status == "Failed" {
		failure = "The scan could not be completed (injected by the emulator)"
	}
	body := scanStatusBody(sc, failure, s.quirks)
	s.mu.Unlock()
	w.Header().Set("Location", s.URL()+"/admin/workspaces/scanResult/"+id)
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) anyFailing(ids []string) bool {
	for _, id := range ids {
		if s.failScans[id] {
			return true
		}
	}
	return false
}

func (s *Server) handleScanResult(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scan")
	s.mu.Lock()
	sc, ok := s.scans[id]
	var ids []string
	status := ""
	if ok {
		ids, status = sc.Workspaces, sc.Status
		sc.Fetched = true
	}
	s.mu.Unlock()
	switch {
	case !ok:
		WriteError(w, http.StatusNotFound, "PowerBIEntityNotFound", "Scan "+id+" was not found")
		return
	case status != "Succeeded":
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "The scan "+id+" is "+status+"; its result is available once it has Succeeded")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	gen := s.rendered.generation() // before the quirks: SetQuirks drops after it sets them
	q := s.currentQuirks()
	s.read(func(t *snapshot.Snapshot, x *index) {
		_ = writeScanResult(w, t, x, ids, q, &s.rendered, gen) // a write error means the client went away
	})
}

func (s *Server) handleModified(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("modifiedSince"); v != "" {
		var err error
		since, err = time.Parse(time.RFC3339Nano, v)
		if err != nil {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "modifiedSince must be an ISO 8601 UTC time")
			return
		}
		age := time.Since(since)
		if age < 30*time.Minute || age > 30*24*time.Hour {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "modifiedSince must lie between 30 minutes and 30 days ago")
			return
		}
	}
	exclPersonal := q.Get("excludePersonalWorkspaces") == "true"
	exclInactive := q.Get("excludeInActiveWorkspaces") == "true"
	out := []map[string]string{}
	s.read(func(t *snapshot.Snapshot, x *index) {
		for _, ws := range t.Workspaces {
			if exclPersonal && (ws.Type == "PersonalGroup" || ws.Type == "Personal") {
				continue
			}
			if exclInactive && ws.State != "" && ws.State != "Active" {
				continue
			}
			if !since.IsZero() && s.lastModified(ws.ID).Before(since) {
				continue
			}
			out = append(out, map[string]string{"id": ws.ID})
		}
	})
	writeJSON(w, http.StatusOK, out) // a bare array, as live
}

// handleReportDatasources answers a report's own data sources: those of a paginated
// report (a Power BI report reads its semantic model's, and has none here).
func (s *Server) handleReportDatasources(w http.ResponseWriter, r *http.Request) {
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x)
		if ws == nil {
			return
		}
		id := r.PathValue("report")
		at, ok := x.reports[id]
		if !ok || at[0] != x.workspaces[ws.ID] || s.currentQuirks().notFound("report-datasources") {
			notFound(w, "Report", id)
			return
		}
		rep := &ws.Reports[at[1]]
		out := make([]jDataSource, 0, len(rep.DataSourceIDs))
		for _, d := range rep.DataSourceIDs {
			if i, ok := x.dataSources[d]; ok {
				out = append(out, renderDataSource(&t.DataSources[i]))
			}
		}
		writeJSON(w, http.StatusOK, s.odata(r, "datasources", out))
	})
}

// oddTile renders a tile with its spans as strings.
func oddTile(t jTile) map[string]any {
	m := map[string]any{"id": t.ID, "title": t.Title, "embedUrl": t.EmbedURL, "reportId": t.ReportID, "datasetId": t.DatasetID}
	if t.RowSpan != nil {
		m["rowSpan"] = strconv.Itoa(*t.RowSpan)
	}
	if t.ColSpan != nil {
		m["colSpan"] = strconv.Itoa(*t.ColSpan)
	}
	return m
}

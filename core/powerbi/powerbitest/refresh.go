package powerbitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// RefreshScript is the timeline of one refresh in the emulator: how long it waits
// before it starts, how long it runs, and how it ends. The zero value queues for
// nothing, runs DefaultRefreshRun and completes.
type RefreshScript struct {
	Queue time.Duration // NotStarted for this long
	Run   time.Duration // then InProgress for this long (0: DefaultRefreshRun)
	// Outcome is Completed (default), Failed, Cancelled, Disabled or TimedOut.
	Outcome string
	// ServiceException is the serviceExceptionJson of a failed refresh.
	ServiceException string
	// HiddenFor keeps the refresh out of the history for this long after the trigger,
	// as the live service sometimes does.
	HiddenFor time.Duration
	// OnlyRequestID makes the trigger answer with the RequestId header alone, as live
	// standard refreshes were seen to do.
	OnlyRequestID bool
}

// FailedRefreshException is the serviceExceptionJson of a refresh that
// WithFailedRefreshes fails, shaped like the live service's for a data source error.
const FailedRefreshException = `{"errorCode":"ModelRefresh_ShortMessage_ProcessingError","errorDescription":"Data source error: The credentials provided for the SQL source are invalid. (emulated)"}`

// DefaultRefreshRun is how long a refresh runs when its script does not say.
const DefaultRefreshRun = 3 * time.Second

// refreshRun is one refresh of a dataset in the emulator.
type refreshRun struct {
	requestID   string
	seq         int64
	workspaceID string
	datasetID   string
	refreshType string // ViaApi, ViaEnhancedApi, Scheduled, ...
	enhanced    bool
	body        map[string]any
	script      RefreshScript
	created     time.Time
	cancelledAt time.Time
}

// refreshes holds every refresh the emulator knows, per dataset, newest last.
type refreshes struct {
	mu      sync.Mutex
	seq     int64
	byModel map[string][]*refreshRun
	byID    map[string]*refreshRun
	scripts map[string][]RefreshScript // queued scripts per dataset, for the next triggers
	now     func() time.Time
	// dataflows holds the refreshes of dataflows, oldest first.
	dataflows map[string][]*dataflowRun
	// skew is how far the service's clock is off the local one (the ClockSkew quirk).
	skew atomic.Int64
}

func (rf *refreshes) init() {
	if rf.byModel == nil {
		rf.byModel = map[string][]*refreshRun{}
		rf.byID = map[string]*refreshRun{}
		rf.scripts = map[string][]RefreshScript{}
		rf.dataflows = map[string][]*dataflowRun{}
		rf.now = func() time.Time { return time.Now().Add(time.Duration(rf.skew.Load())) }
	}
}

// state returns the run's status, extended status, start and end at time t.
func (run *refreshRun) state(t time.Time) (status, extended string, start, end time.Time) {
	run0 := run.script.Run
	if run0 == 0 {
		run0 = DefaultRefreshRun
	}
	start = run.created.Add(run.script.Queue)
	end = start.Add(run0)
	if !run.cancelledAt.IsZero() && (run.cancelledAt.Before(end)) {
		end = run.cancelledAt
		if t.Before(end) {
			return "Unknown", "InProgress", start, time.Time{}
		}
		return "Cancelled", "Cancelled", start, end
	}
	switch {
	case t.Before(start):
		return "Unknown", "NotStarted", time.Time{}, time.Time{}
	case t.Before(end):
		return "Unknown", "InProgress", start, time.Time{}
	}
	out := run.script.Outcome
	if out == "" {
		out = "Completed"
	}
	switch out {
	case "TimedOut":
		return "Failed", "TimedOut", start, end
	case "Disabled":
		return "Disabled", "Disabled", start, end
	}
	return out, out, start, end
}

func (run *refreshRun) running(t time.Time) bool {
	st, _, _, _ := run.state(t)
	return st == "Unknown"
}

// ScriptRefresh queues a timeline for the next refresh triggered on the dataset; several
// calls queue several refreshes.
func (s *Server) ScriptRefresh(datasetID string, script RefreshScript) {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	s.rf.scripts[datasetID] = append(s.rf.scripts[datasetID], script)
}

// StartRefresh starts a refresh as if the service had (a scheduled refresh, say) and
// returns its request id.
func (s *Server) StartRefresh(workspaceID, datasetID, refreshType string, script RefreshScript) string {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	return s.rf.add(workspaceID, datasetID, refreshType, false, nil, script).requestID
}

// RefreshBody returns the body the emulator received for a refresh (nil for one it
// started itself), for tests.
func (s *Server) RefreshBody(requestID string) map[string]any {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	if run := s.rf.byID[requestID]; run != nil {
		return run.body
	}
	return nil
}

// RefreshCount returns how many refreshes the dataset has had, for tests.
func (s *Server) RefreshCount(datasetID string) int {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	return len(s.rf.byModel[datasetID])
}

// RefreshStatus returns the status the history shows for a refresh now ("" if unknown).
func (s *Server) RefreshStatus(requestID string) string {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	run := s.rf.byID[requestID]
	if run == nil {
		return ""
	}
	st, _, _, _ := run.state(s.rf.now())
	return st
}

func (rf *refreshes) add(ws, ds, typ string, enhanced bool, body map[string]any, sc RefreshScript) *refreshRun {
	rf.seq++
	run := &refreshRun{requestID: newID(), seq: rf.seq, workspaceID: ws, datasetID: ds, refreshType: typ,
		enhanced: enhanced, body: body, script: sc, created: rf.now()}
	rf.byModel[ds] = append(rf.byModel[ds], run)
	rf.byID[run.requestID] = run
	return run
}

// dataflowRun is a dataflow refresh (a transaction) in the emulator.
type dataflowRun struct {
	id         string
	start, end time.Time
}

// StartDataflowRefresh starts a refresh of a dataflow that runs for d, as the service
// would on its schedule.
func (s *Server) StartDataflowRefresh(dataflowID string, d time.Duration) {
	s.rf.mu.Lock()
	defer s.rf.mu.Unlock()
	s.rf.init()
	now := s.rf.now()
	s.rf.dataflows[dataflowID] = append(s.rf.dataflows[dataflowID], &dataflowRun{id: newID(), start: now, end: now.Add(d)})
}

func (s *Server) handleDataflowTransactions(w http.ResponseWriter, r *http.Request) {
	exists := false
	s.read(func(t *snapshot.Snapshot, x *index) {
		ws := s.workspace(w, r, t, x) // answers 404 itself
		if ws == nil {
			return
		}
		for _, df := range ws.Dataflows {
			exists = exists || df.ID == r.PathValue("dataflow")
		}
		if !exists {
			notFound(w, "Dataflow", r.PathValue("dataflow"))
		}
	})
	if !exists {
		return
	}
	s.rf.mu.Lock()
	s.rf.init()
	now := s.rf.now()
	runs := s.rf.dataflows[r.PathValue("dataflow")]
	out := []map[string]any{}
	q := s.currentQuirks()
	for i := len(runs) - 1; i >= 0; i-- {
		run := runs[i]
		e := map[string]any{"id": run.id, "refreshType": q.enum("Scheduled"), "startTime": stamp(run.start), "status": q.enum("Success")}
		if now.Before(run.end) {
			e["status"] = q.enum("InProgress")
		} else {
			e["endTime"] = stamp(run.end)
		}
		out = append(out, e)
	}
	s.rf.mu.Unlock()
	if top, err := strconv.Atoi(r.URL.Query().Get("$top")); err == nil && top >= 0 && top < len(out) {
		out = out[:top]
	}
	writeJSON(w, http.StatusOK, s.odata(r, "Collection(PowerBIAPI.DataflowTransaction)", out))
}

func (s *Server) registerRefresh() {
	s.Handle("GET /groups/{group}/dataflows/{dataflow}/transactions", s.handleDataflowTransactions)
	s.Handle("POST /groups/{group}/datasets/{dataset}/refreshes", s.handleTriggerRefresh)
	s.Handle("GET /groups/{group}/datasets/{dataset}/refreshes", s.handleRefreshHistory)
	s.Handle("GET /groups/{group}/datasets/{dataset}/refreshes/{refresh}", s.handleRefreshDetails)
	s.Handle("DELETE /groups/{group}/datasets/{dataset}/refreshes/{refresh}", s.handleCancelRefresh)
}

// model checks the workspace and dataset of a refresh request and writes a 404 when
// either is unknown.
func (s *Server) model(w http.ResponseWriter, r *http.Request) bool {
	ok := false
	s.read(func(t *snapshot.Snapshot, x *index) {
		if s.workspace(w, r, t, x) == nil {
			return
		}
		pos, found := x.models[r.PathValue("dataset")]
		if !found || t.Workspaces[pos[0]].ID != r.PathValue("group") {
			notFound(w, "Dataset", r.PathValue("dataset"))
			return
		}
		ok = true
	})
	return ok
}

var enhancedFields = []string{"type", "commitMode", "maxParallelism", "retryCount", "objects", "applyRefreshPolicy", "effectiveDate", "timeout"}

func (s *Server) handleTriggerRefresh(w http.ResponseWriter, r *http.Request) {
	if !s.model(w, r) {
		return
	}
	body := map[string]any{}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "The request body is not valid JSON: "+err.Error())
			return
		}
	}
	enhanced := false
	for _, f := range enhancedFields {
		if _, ok := body[f]; ok {
			enhanced = true
		}
	}
	if n, ok := body["notifyOption"].(string); ok && enhanced && n != "NoNotification" {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "notifyOption "+n+" is not supported for enhanced refresh")
		return
	}
	// The service reads its enumerations without regard to case ("full" is Full).
	for field, allowed := range map[string][]string{
		"type":       {"Full", "ClearValues", "Calculate", "DataOnly", "Automatic", "Defragment"},
		"commitMode": {"Transactional", "PartialBatch"},
	} {
		if v, ok := body[field].(string); ok && !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) }) {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", fmt.Sprintf("%s %q is not valid", field, v))
			return
		}
	}
	if p, ok := body["applyRefreshPolicy"].(bool); ok && p && strings.EqualFold(fmt.Sprint(body["commitMode"]), "PartialBatch") {
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "applyRefreshPolicy must be false with commitMode PartialBatch")
		return
	}
	ds, ws := r.PathValue("dataset"), r.PathValue("group")
	s.rf.mu.Lock()
	s.rf.init()
	now := s.rf.now()
	for _, run := range s.rf.byModel[ds] {
		if run.running(now) {
			s.rf.mu.Unlock()
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "Invalid dataset refresh request. Another refresh request is already executing")
			return
		}
	}
	var sc RefreshScript
	if q := s.rf.scripts[ds]; len(q) > 0 {
		sc, s.rf.scripts[ds] = q[0], q[1:]
	} else if s.failRefresh[ds] || s.failRefresh["*"] {
		sc = RefreshScript{Outcome: "Failed", ServiceException: FailedRefreshException}
	}
	typ := "ViaApi"
	if enhanced {
		typ = "ViaEnhancedApi"
	}
	run := s.rf.add(ws, ds, typ, enhanced, body, sc)
	s.rf.mu.Unlock()

	w.Header().Set("RequestId", run.requestID)
	if !sc.OnlyRequestID {
		w.Header().Set("Location", s.URL()+"/groups/"+ws+"/datasets/"+ds+"/refreshes/"+run.requestID)
		w.Header().Set("x-ms-request-id", run.requestID)
	}
	w.WriteHeader(http.StatusAccepted)
}

type jRefresh struct {
	RequestID      string `json:"requestId"`
	ID             int64  `json:"id"`
	RefreshType    string `json:"refreshType"`
	StartTime      string `json:"startTime,omitempty"`
	EndTime        string `json:"endTime,omitempty"`
	Status         string `json:"status"`
	ExtendedStatus string `json:"extendedStatus,omitempty"`
	// ServiceExceptionJSON is a string holding JSON, as documented, or the object
	// itself (the ServiceExceptionObject quirk).
	ServiceExceptionJSON any `json:"serviceExceptionJson,omitempty"`
}

const serviceTimeLayout = "2006-01-02T15:04:05.000Z"

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(serviceTimeLayout)
}

func (s *Server) handleRefreshHistory(w http.ResponseWriter, r *http.Request) {
	if !s.model(w, r) {
		return
	}
	top := 1000
	if v := r.URL.Query().Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			WriteError(w, http.StatusBadRequest, "InvalidRequest", "$top must be a positive number")
			return
		}
		top = n
	}
	ds := r.PathValue("dataset")
	s.rf.mu.Lock()
	s.rf.init()
	now := s.rf.now()
	runs := s.rf.byModel[ds]
	q := s.currentQuirks()
	out := []any{}
	if q.OddHistoryEntry && len(runs) > 0 {
		// An entry of another shape ahead of the rest: an XMLA refresh without a
		// requestId, its id as a string, fields pbisync does not know.
		out = append(out, map[string]any{"id": "7", "refreshType": q.enum("ViaXmlaEndpoint"), "startTime": stamp(runs[0].created.Add(-time.Hour)),
			"endTime": stamp(runs[0].created.Add(-30 * time.Minute)), "status": q.enum("Completed"),
			"refreshAttempts": []map[string]any{{"attemptId": 1, "type": "Data"}}, "serviceExceptionJson": map[string]any{}})
	}
	for i := len(runs) - 1; i >= 0 && len(out) < top; i-- {
		run := runs[i]
		if now.Sub(run.created) < run.script.HiddenFor {
			continue
		}
		st, ext, start, end := run.state(now)
		e := jRefresh{RequestID: run.requestID, ID: run.seq, RefreshType: q.enum(run.refreshType),
			StartTime: stamp(start), EndTime: stamp(end), Status: q.enum(st), ExtendedStatus: q.enum(ext)}
		if e.StartTime == "" {
			e.StartTime = stamp(run.created) // the service lists the request time before it starts
		}
		exc := ""
		if st == "Failed" {
			exc = run.script.ServiceException
			if exc == "" {
				exc = `{"errorCode":"ModelRefreshFailed","errorDescription":"The refresh failed."}`
			}
		}
		switch {
		case q.ServiceExceptionObject && !end.IsZero():
			obj := map[string]any{}
			if json.Unmarshal([]byte(exc), &obj) != nil && exc != "" {
				obj = map[string]any{"errorDescription": exc}
			}
			e.ServiceExceptionJSON = obj
		case exc != "":
			e.ServiceExceptionJSON = exc
		}
		out = append(out, e)
	}
	s.rf.mu.Unlock()
	writeJSON(w, http.StatusOK, s.odata(r, "Collection(PowerBIAPI.Refresh)", out))
}

func (s *Server) runOf(w http.ResponseWriter, r *http.Request) *refreshRun {
	s.rf.init()
	run := s.rf.byID[r.PathValue("refresh")]
	if run == nil || run.datasetID != r.PathValue("dataset") {
		return nil
	}
	return run
}

func (s *Server) handleRefreshDetails(w http.ResponseWriter, r *http.Request) {
	if !s.model(w, r) {
		return
	}
	s.rf.mu.Lock()
	run := s.runOf(w, r)
	if run == nil || !run.enhanced || s.rf.now().Sub(run.created) < run.script.HiddenFor {
		s.rf.mu.Unlock()
		notFound(w, "Refresh", r.PathValue("refresh"))
		return
	}
	now := s.rf.now()
	st, ext, start, end := run.state(now)
	typ, _ := run.body["type"].(string)
	if typ == "" {
		typ = "Full"
	}
	commit, _ := run.body["commitMode"].(string)
	if commit == "" {
		commit = "Transactional"
	}
	objStatus := ext
	if ext == "NotStarted" || ext == "InProgress" {
		objStatus = map[string]string{"NotStarted": "NotStarted", "InProgress": "InProgress"}[ext]
	}
	var objects []map[string]any
	if objs, ok := run.body["objects"].([]any); ok {
		for _, o := range objs {
			if m, ok := o.(map[string]any); ok {
				e := map[string]any{"table": m["table"], "status": objStatus}
				if p, ok := m["partition"]; ok {
					e["partition"] = p
				}
				objects = append(objects, e)
			}
		}
	}
	body := map[string]any{
		"startTime": stamp(start), "type": typ, "commitMode": commit, "status": s.currentQuirks().enum(st), "extendedStatus": s.currentQuirks().enum(ext),
		"currentRefreshType": typ, "numberOfAttempts": 1, "objects": objects,
	}
	if start.IsZero() {
		body["startTime"] = stamp(run.created)
	}
	if !end.IsZero() {
		body["endTime"] = stamp(end)
	}
	if st == "Failed" {
		body["messages"] = []map[string]any{{"code": "ModelRefreshFailed", "message": "The refresh failed.", "type": "Error"}}
		if ext == "TimedOut" {
			body["messages"] = []map[string]any{{"code": "Timeout", "message": "The refresh exceeded its timeout.", "type": "Error"}}
		}
	}
	s.rf.mu.Unlock()
	status := http.StatusAccepted
	if !end.IsZero() {
		status = http.StatusOK
	}
	writeJSON(w, status, body)
}

func (s *Server) handleCancelRefresh(w http.ResponseWriter, r *http.Request) {
	if !s.model(w, r) {
		return
	}
	s.rf.mu.Lock()
	run := s.runOf(w, r)
	if run == nil || !run.enhanced {
		s.rf.mu.Unlock()
		notFound(w, "Refresh", r.PathValue("refresh"))
		return
	}
	now := s.rf.now()
	if !run.running(now) {
		s.rf.mu.Unlock()
		WriteError(w, http.StatusBadRequest, "InvalidRequest", "The refresh is not running")
		return
	}
	run.cancelledAt = now
	s.rf.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

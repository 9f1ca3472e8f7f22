package openlineage

import (
	"crypto/sha1"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// runID derives the run's UUID from the refresh request id (a name-based, version 5
// style UUID), so every event of one refresh, sent again or not, shares it.
func runID(requestID string) string {
	h := sha1.Sum([]byte("pbisync/refresh/" + requestID))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// jobName is <workspace name>/<model name>/refresh, the names the model's datasets use;
// a refresh event that carries only ids takes the names from the model's spec.
func (b *builder) jobName(model spec.Identity) string {
	ws, name := b.workspaceOf(model), nameOf(model)
	if k, ok := b.models[model.ID]; ok {
		if model.WorkspaceName == "" && k.WorkspaceName != "" {
			ws = k.WorkspaceName
		}
		if model.Name == "" && k.Name != "" {
			name = k.Name
		}
	}
	return ws + "/" + name + "/refresh"
}

func (b *builder) refreshEvents(e *event.Event, now time.Time) ([]Event, error) {
	r := e.Refresh
	if r.RequestID == "" {
		return nil, fmt.Errorf("refresh of %s without a request id", r.Model)
	}
	var eventType string
	var when time.Time
	switch r.State {
	case event.RefreshRequested:
		eventType, when = "START", r.RequestedAt
	case event.RefreshStarted:
		// A refresh pbisync requested had its START with the request (in this process
		// or an earlier one); one it did not request starts here.
		eventType, when = "RUNNING", r.StartedAt
		if r.RequestedAt.IsZero() {
			eventType = "START"
		}
	case event.RefreshCompleted:
		eventType, when = "COMPLETE", r.EndedAt
	case event.RefreshFailed, event.RefreshTimedOut:
		eventType, when = "FAIL", r.EndedAt
	case event.RefreshCancelled:
		eventType, when = "ABORT", r.EndedAt
	default:
		return nil, fmt.Errorf("refresh %s: unknown state %q", r.RequestID, r.State)
	}
	if when.IsZero() {
		when = now
	}
	runFacets := map[string]any{}
	rf := map[string]any{"requestId": r.RequestID, "state": string(r.State), "modelId": r.Model.ID}
	if r.RefreshType != "" {
		rf["refreshType"] = r.RefreshType
	}
	if r.Enhanced {
		rf["enhanced"] = true
	}
	if len(r.Tables) > 0 {
		tables := make([]map[string]any, 0, len(r.Tables))
		for _, t := range r.Tables {
			m := map[string]any{"table": t.Table, "status": t.Status}
			if t.Partition != "" {
				m["partition"] = t.Partition
			}
			tables = append(tables, m)
		}
		rf["tables"] = tables
	}
	runFacets[refreshFacetKey] = b.facet(refreshFacetURL, rf)
	if !r.RequestedAt.IsZero() {
		runFacets["nominalTime"] = b.facet(nominalFacetURL, map[string]any{"nominalStartTime": r.RequestedAt.UTC().Format(time.RFC3339Nano)})
	}
	if r.State == event.RefreshFailed || r.State == event.RefreshTimedOut {
		msg := r.Error
		if msg == "" && r.State == event.RefreshTimedOut {
			msg = "pbisync stopped waiting for the refresh (timed out)"
		}
		if msg == "" {
			msg = "the refresh failed"
		}
		runFacets["errorMessage"] = b.facet(errorFacetURL, map[string]any{"message": msg, "programmingLanguage": "PowerQuery M"})
	}
	ev := b.base(runEventURL, when)
	ev["eventType"] = eventType
	ev["run"] = map[string]any{"runId": runID(r.RequestID), "facets": runFacets}
	// The event carries its model's spec (and its related assets): the run's inputs and
	// outputs come from it; without it, from the state file or what this process saw.
	k, known := b.models[r.Model.ID]
	jobModel := r.Model
	if ms := r.ModelSpec; ms != nil && ms.PowerBI.ID == r.Model.ID {
		_, k = b.modelEvents(e, ms, when)
		known = true
		if jobModel.Name == "" {
			jobModel.Name = ms.PowerBI.Name
		}
		if jobModel.WorkspaceName == "" {
			jobModel.WorkspaceName = ms.PowerBI.WorkspaceName
		}
	}
	ev["job"] = map[string]any{"namespace": b.cfg.Namespace, "name": b.jobName(jobModel), "facets": map[string]any{
		"jobType": b.facet(jobTypeFacetURL, map[string]any{"processingType": "BATCH", "integration": "POWERBI", "jobType": "SEMANTIC_MODEL_REFRESH"}),
	}}
	inputs, outputs := []map[string]any{}, []map[string]any{}
	if known {
		for _, d := range k.Inputs {
			inputs = append(inputs, d.ref())
		}
		outputs = append(outputs, k.Outputs...)
	}
	// A model this sink has not seen (no spec in this sync, no state_file) has no known
	// datasets: the run names none rather than one that was never emitted.
	ev["inputs"] = inputs
	ev["outputs"] = outputs
	return []Event{ev}, nil
}

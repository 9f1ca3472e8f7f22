package pipes

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
)

// ExtrasModels is the extras entry in which dagster-pbisync passes the models to refresh:
// an object from semantic model id to the Dagster asset key (escaped) that stands for it,
// so materializations carry Dagster's keys even when a Dagster-side translation changed
// them.
const ExtrasModels = "pbisync_models"

// Refresh metadata names on a materialization.
const (
	MetaRequestID   = "pbisync/refresh_request_id"
	MetaStatus      = "pbisync/refresh_status"
	MetaRefreshType = "pbisync/refresh_type"
	MetaRequestedAt = "pbisync/refresh_requested_at"
	MetaStart       = "pbisync/refresh_start"
	MetaEnd         = "pbisync/refresh_end"
	MetaDuration    = "pbisync/refresh_duration_seconds"
	MetaModelID     = "pbisync/semantic_model_id"
	MetaTables      = "pbisync/refresh_tables"
)

// RefreshReporter turns pbisync's refresh events into Pipes messages: a materialization
// for each model whose refresh completed, log lines as refreshes move, and an error log
// and a custom message for each that did not complete.
type RefreshReporter struct {
	s *Session

	mu       sync.Mutex
	reported map[string]bool // model ids whose end was reported
	failures []string
}

// NewRefreshReporter reports on s.
func NewRefreshReporter(s *Session) *RefreshReporter {
	return &RefreshReporter{s: s, reported: map[string]bool{}}
}

// Models returns what the step asks to refresh: the model ids of the extras, else the
// step's asset keys in pbisync's key form (parts joined by "/"); nil when it names none.
func (r *RefreshReporter) Models() []string {
	if m, ok := r.s.data.Extras[ExtrasModels].(map[string]any); ok && len(m) > 0 {
		ids := make([]string, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return ids
	}
	var keys []string
	for _, k := range r.s.data.AssetKeys {
		keys = append(keys, strings.Join(SplitKey(k), "/"))
	}
	return keys
}

// dagsterKey is the Dagster key (escaped) of the model of ev.
func (r *RefreshReporter) dagsterKey(ev event.Refresh) string {
	if m, ok := r.s.data.Extras[ExtrasModels].(map[string]any); ok {
		if k, ok := m[ev.Model.ID].(string); ok && k != "" {
			return k
		}
	}
	return EscapeKey(ev.Key)
}

// Event reports one refresh event; events of a model after its end are ignored.
func (r *RefreshReporter) Event(ev event.Refresh) error {
	r.mu.Lock()
	if r.reported[ev.Model.ID] {
		r.mu.Unlock()
		return nil
	}
	terminal := ev.State != event.RefreshRequested && ev.State != event.RefreshStarted
	if terminal {
		r.reported[ev.Model.ID] = true
	}
	r.mu.Unlock()
	who := fmt.Sprintf("semantic model %q (%s)", ev.Model.Name, ev.Model.ID)
	switch {
	case !terminal:
		return r.s.Log(Info, fmt.Sprintf("refresh of %s %s (request %s)", who, ev.State, ev.RequestID))
	case ev.State == event.RefreshCompleted && ev.Error == "":
		key := r.dagsterKey(ev)
		if !r.s.InScope(key) {
			return r.s.Log(Warning, fmt.Sprintf("refresh of %s completed, but its key %s is not one of the step's assets; no materialization reported", who, key))
		}
		return r.s.ReportMaterialization(key, RefreshMetadata(ev), "")
	}
	msg := fmt.Sprintf("refresh of %s %s", who, ev.State)
	if ev.Error != "" {
		msg += ": " + ev.Error
	}
	r.mu.Lock()
	r.failures = append(r.failures, msg)
	r.mu.Unlock()
	if err := r.s.Log(Error, msg); err != nil {
		return err
	}
	return r.s.ReportCustomMessage(map[string]any{"pbisync_refresh": map[string]any{
		"model_id": ev.Model.ID, "model_name": ev.Model.Name, "asset_key": r.dagsterKey(ev),
		"request_id": ev.RequestID, "state": string(ev.State), "error": ev.Error,
	}})
}

// Close reports the events a run ended with that were not seen yet, then closes the
// session: with an exception naming every refresh that did not complete, or runErr.
func (r *RefreshReporter) Close(final []event.Refresh, runErr error) error {
	var errs []string
	for _, ev := range final {
		if err := r.Event(ev); err != nil {
			errs = append(errs, err.Error())
		}
	}
	r.mu.Lock()
	failures := append([]string(nil), r.failures...)
	r.mu.Unlock()
	if runErr != nil {
		failures = append(failures, runErr.Error())
	}
	var exc *Exception
	if len(failures) > 0 {
		exc = &Exception{Name: "PbisyncRefreshError", Stack: []string{}, Message: strings.Join(failures, "\n")}
	}
	if err := r.s.Close(exc); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("dagster pipes: %s", strings.Join(errs, "; "))
	}
	return nil
}

// RefreshMetadata is the metadata of a finished refresh's materialization.
func RefreshMetadata(ev event.Refresh) map[string]Metadata {
	md := map[string]Metadata{
		MetaRequestID: {RawValue: ev.RequestID, Type: "text"},
		MetaStatus:    {RawValue: string(ev.State), Type: "text"},
		MetaModelID:   {RawValue: ev.Model.ID, Type: "text"},
	}
	typ := ev.RefreshType
	if typ == "" {
		typ = "ViaApi" // the service's name for a standard refresh triggered through the API
		if ev.Enhanced {
			typ = "ViaEnhancedApi"
		}
	}
	md[MetaRefreshType] = Metadata{RawValue: typ, Type: "text"}
	stamp := func(name string, t time.Time) {
		if !t.IsZero() {
			md[name] = Metadata{RawValue: Float(float64(t.UnixMicro()) / 1e6), Type: "timestamp"}
		}
	}
	stamp(MetaRequestedAt, ev.RequestedAt)
	stamp(MetaStart, ev.StartedAt)
	stamp(MetaEnd, ev.EndedAt)
	if !ev.StartedAt.IsZero() && !ev.EndedAt.IsZero() {
		md[MetaDuration] = Metadata{RawValue: Float(ev.EndedAt.Sub(ev.StartedAt).Seconds()), Type: "float"}
	}
	if len(ev.Tables) > 0 {
		tables := make([]any, len(ev.Tables))
		for i, t := range ev.Tables {
			tables[i] = map[string]any{"table": t.Table, "partition": t.Partition, "status": t.Status}
		}
		md[MetaTables] = Metadata{RawValue: tables, Type: "json"}
	}
	return md
}

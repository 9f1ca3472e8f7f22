package pipes

import (
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestRefreshReporter(t *testing.T) {
	getenv, msgs := env(t, map[string]any{
		"asset_keys": []any{"powerbi/sales", "semantic_model/Ops"},
		"extras":     map[string]any{ExtrasModels: map[string]any{"m1": "powerbi/sales", "m2": "semantic_model/Ops"}},
	})
	s, err := Open(getenv)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRefreshReporter(s)
	if got := r.Models(); strings.Join(got, ",") != "m1,m2" {
		t.Fatalf("Models() = %q", got)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	done := event.Refresh{RequestID: "req-1", State: event.RefreshCompleted, Key: spec.Key{"semantic_model", "Sales"},
		Model: spec.Identity{ID: "m1", Name: "Sales"}, RequestedAt: start, StartedAt: start.Add(time.Second), EndedAt: start.Add(4 * time.Second)}
	failed := event.Refresh{RequestID: "req-2", State: event.RefreshFailed, Key: spec.Key{"semantic_model", "Ops"},
		Model: spec.Identity{ID: "m2", Name: "Ops"}, Error: "ModelRefreshFailed: The refresh failed."}
	for _, ev := range []event.Refresh{{State: event.RefreshStarted, Model: done.Model, RequestID: "req-1"}, done, failed} {
		if err := r.Event(ev); err != nil {
			t.Fatal(err)
		}
	}
	// The final outcomes repeat what was seen: nothing is reported twice.
	if err := r.Close([]event.Refresh{done, failed}, nil); err != nil {
		t.Fatal(err)
	}
	got := readMessages(t, msgs)
	var methods []string
	for _, m := range got {
		methods = append(methods, m["method"].(string))
	}
	want := "opened,log,report_asset_materialization,log,report_custom_message,closed"
	if strings.Join(methods, ",") != want {
		t.Fatalf("methods = %s, want %s", strings.Join(methods, ","), want)
	}
	mat := got[2]["params"].(map[string]any)
	if mat["asset_key"] != "powerbi/sales" {
		t.Errorf("materialized %v, want the Dagster key from the extras", mat["asset_key"])
	}
	md := mat["metadata"].(map[string]any)
	checks := map[string]any{MetaRequestID: "req-1", MetaStatus: "completed", MetaRefreshType: "ViaApi", MetaDuration: 3.0,
		MetaStart: float64(start.Add(time.Second).Unix()), MetaEnd: float64(start.Add(4 * time.Second).Unix())}
	for k, v := range checks {
		if got := md[k].(map[string]any)["raw_value"]; got != v {
			t.Errorf("metadata %s = %v, want %v", k, got, v)
		}
	}
	exc := got[5]["params"].(map[string]any)["exception"].(map[string]any)
	if !strings.Contains(exc["message"].(string), `semantic model "Ops" (m2) failed: ModelRefreshFailed: The refresh failed.`) {
		t.Errorf("closing exception = %v", exc["message"])
	}
}

package refresh_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// env is an emulator with the sample tenant and a client signed in through MSAL.
type env struct {
	srv    *powerbitest.Server
	client *powerbi.Client
	api    refresh.API
	ws, ds string // a model of the sample tenant
	ds2    string // another model of the same workspace
}

func newEnv(t testing.TB, opts ...powerbitest.Option) *env {
	t.Helper()
	tenant := powerbitest.SampleTenant()
	srv, err := powerbitest.NewServer(tenant, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cr := srv.Credentials()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}}
	c, err := powerbi.New(cfg, powerbi.WithAuthorityHTTPClient(srv.TLSClient()))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, client: c, api: refresh.NewAPI(c)}
	for _, w := range tenant.Workspaces {
		if len(w.SemanticModels) >= 2 {
			e.ws, e.ds, e.ds2 = w.ID, w.SemanticModels[0].ID, w.SemanticModels[1].ID
			break
		}
	}
	if e.ds2 == "" {
		t.Fatal("the sample tenant has no workspace with two models")
	}
	return e
}

// fastConfig polls every few milliseconds.
func fastConfig(t testing.TB, yaml string) *refresh.Config {
	t.Helper()
	n, err := config.Parse("r.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	c, err := refresh.Decode(n)
	if err != nil {
		t.Fatal(err)
	}
	c.Poll = refresh.Poll{Initial: 5 * time.Millisecond, Factor: 1.5, Max: 40 * time.Millisecond}
	c.RateLimit = 1000
	return c
}

// recorder keeps the events of every refresh.
type recorder struct {
	mu     sync.Mutex
	events []event.Refresh
}

func (r *recorder) add(e event.Refresh) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) states(requestID string) []event.RefreshState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.RefreshState
	for _, e := range r.events {
		if e.RequestID == requestID || requestID == "" {
			out = append(out, e.State)
		}
	}
	return out
}

func (e *env) refresher(cfg *refresh.Config, rec *recorder) *refresh.Refresher {
	return &refresh.Refresher{API: e.api, Config: cfg, OnEvent: rec.add, Limiter: refresh.NewLimiter(cfg.RateLimit, 10)}
}

func (e *env) target(ds string, body refresh.Body) refresh.Target {
	return refresh.Target{WorkspaceID: e.ws, ModelID: ds, Name: "model-" + ds[:8], Body: body}
}

func TestRefreshTimelines(t *testing.T) {
	enhanced := refresh.Body{Type: "Full", Objects: []refresh.Object{{Table: "Sales"}}}
	tests := []struct {
		name     string
		script   powerbitest.RefreshScript
		body     refresh.Body
		timeout  time.Duration
		want     event.RefreshState
		wantErr  string
		wantEmu  string // status the emulator shows afterwards
		wantSeen []event.RefreshState
	}{
		{name: "standard success", script: powerbitest.RefreshScript{Queue: 20 * time.Millisecond, Run: 80 * time.Millisecond},
			want: event.RefreshCompleted, wantEmu: "Completed",
			wantSeen: []event.RefreshState{event.RefreshRequested, event.RefreshStarted, event.RefreshCompleted}},
		{name: "enhanced success", body: enhanced, script: powerbitest.RefreshScript{Run: 60 * time.Millisecond},
			want: event.RefreshCompleted, wantEmu: "Completed"},
		{name: "failure with exception JSON", script: powerbitest.RefreshScript{Run: 30 * time.Millisecond, Outcome: "Failed",
			ServiceException: `{"errorCode":"ModelRefresh_ShortMessage_ProcessingError","errorDescription":"Column 'Amount' has a value that cannot be converted"}`},
			want: event.RefreshFailed, wantErr: "ModelRefresh_ShortMessage_ProcessingError: Column 'Amount'", wantEmu: "Failed"},
		{name: "enhanced failure", body: enhanced, script: powerbitest.RefreshScript{Run: 30 * time.Millisecond, Outcome: "Failed"},
			want: event.RefreshFailed, wantErr: "ModelRefreshFailed", wantEmu: "Failed"},
		{name: "cancelled in the service", script: powerbitest.RefreshScript{Run: 30 * time.Millisecond, Outcome: "Cancelled"},
			want: event.RefreshCancelled, wantErr: "cancelled", wantEmu: "Cancelled"},
		{name: "disabled", script: powerbitest.RefreshScript{Run: 10 * time.Millisecond, Outcome: "Disabled"},
			want: event.RefreshFailed, wantEmu: "Disabled"},
		{name: "service time-out", body: enhanced, script: powerbitest.RefreshScript{Run: 10 * time.Millisecond, Outcome: "TimedOut"},
			want: event.RefreshTimedOut},
		{name: "our time-out cancels an enhanced refresh", body: enhanced, script: powerbitest.RefreshScript{Run: time.Hour},
			timeout: 150 * time.Millisecond, want: event.RefreshTimedOut, wantErr: "it was cancelled", wantEmu: "Cancelled"},
		{name: "our time-out leaves a standard refresh running", script: powerbitest.RefreshScript{Run: time.Hour},
			timeout: 100 * time.Millisecond, want: event.RefreshTimedOut, wantErr: "cannot be cancelled", wantEmu: "Unknown"},
		{name: "not listed at first", script: powerbitest.RefreshScript{HiddenFor: 80 * time.Millisecond, Run: 20 * time.Millisecond},
			want: event.RefreshCompleted, wantEmu: "Completed"},
		{name: "only a RequestId header", script: powerbitest.RefreshScript{OnlyRequestID: true, Run: 20 * time.Millisecond},
			want: event.RefreshCompleted, wantEmu: "Completed"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := fastConfig(t, "select: [{all: true}]")
			if tt.timeout > 0 {
				cfg.Timeout = tt.timeout
			}
			rec := &recorder{}
			e.srv.ScriptRefresh(e.ds, tt.script)
			o := e.refresher(cfg, rec).Refresh(context.Background(), []refresh.Target{e.target(e.ds, tt.body)})[0]
			if o.Status != tt.want {
				t.Fatalf("status %q, want %q (err %v)", o.Status, tt.want, o.Err)
			}
			if tt.wantErr != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want it to contain %q", o.Err, tt.wantErr)
			}
			if tt.want == event.RefreshCompleted && o.Err != nil {
				t.Errorf("completed with error %v", o.Err)
			}
			if tt.wantEmu != "" {
				if got := e.srv.RefreshStatus(o.RequestID); got != tt.wantEmu {
					t.Errorf("emulator shows %q, want %q", got, tt.wantEmu)
				}
			}
			if tt.wantSeen != nil {
				if got := rec.states(o.RequestID); !slices.Equal(got, tt.wantSeen) {
					t.Errorf("events %v, want %v", got, tt.wantSeen)
				}
			}
			if tt.body.Enhanced() != o.Enhanced {
				t.Errorf("enhanced %v", o.Enhanced)
			}
			// Leave no refresh running for the next case.
			if e.srv.RefreshStatus(o.RequestID) == "Unknown" {
				e.srv.StartRefresh(e.ws, e.ds+"-none", "x", powerbitest.RefreshScript{})
			}
		})
		e = newEnv(t) // a fresh emulator: a standard refresh left running would block the next trigger
	}
}

func TestEnhancedBodyReachesTheService(t *testing.T) {
	e := newEnv(t)
	cfg := fastConfig(t, `select: [{all: true}]
body:
  type: DataOnly
  commit_mode: PartialBatch
  max_parallelism: 2
  retry_count: 3
  apply_refresh_policy: false
  effective_date: 2024-06-30
  service_timeout: 90m
  objects: [{table: Sales, partition: Sales-2024}, {table: Customers}]
`)
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 20 * time.Millisecond})
	rec := &recorder{}
	o := e.refresher(cfg, rec).Refresh(context.Background(), []refresh.Target{e.target(e.ds, cfg.Body)})[0]
	if !o.OK() {
		t.Fatalf("refresh: %v %v", o.Status, o.Err)
	}
	b := e.srv.RefreshBody(o.RequestID)
	for k, want := range map[string]any{"type": "DataOnly", "commitMode": "PartialBatch", "maxParallelism": 2.0, "retryCount": 3.0,
		"applyRefreshPolicy": false, "effectiveDate": "2024-06-30", "timeout": "01:30:00"} {
		if b[k] != want {
			t.Errorf("body %s = %v, want %v (body %v)", k, b[k], want, b)
		}
	}
	if _, ok := b["notifyOption"]; ok {
		t.Errorf("an enhanced refresh sent notifyOption")
	}
	if len(o.Tables) != 2 || o.Tables[0].Table != "Sales" || o.Tables[0].Partition != "Sales-2024" || o.Tables[0].Status != "Completed" {
		t.Errorf("per-table results %+v", o.Tables)
	}
}

func TestStandardBodyAsksForNoMail(t *testing.T) {
	e := newEnv(t)
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 10 * time.Millisecond})
	o := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if b := e.srv.RefreshBody(o.RequestID); b["notifyOption"] != "NoNotification" || len(b) != 1 {
		t.Errorf("body %v", b)
	}
}

// An older refresh that already ended sits on top of the history while ours is not
// listed yet: dagster-powerbi reads the newest entry and reports the old success;
// pbisync follows its own request and reports its failure.
func TestFollowsItsOwnRefreshNotTheNewest(t *testing.T) {
	e := newEnv(t)
	old := e.srv.StartRefresh(e.ws, e.ds, "Scheduled", powerbitest.RefreshScript{Run: time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	if e.srv.RefreshStatus(old) != "Completed" {
		t.Fatal("the scheduled refresh did not complete")
	}
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{HiddenFor: 60 * time.Millisecond, Run: 40 * time.Millisecond, Outcome: "Failed"})
	o := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if o.Status != event.RefreshFailed || o.RequestID == old {
		t.Errorf("status %s of %s, want our own refresh's failure (old %s)", o.Status, o.RequestID, old)
	}
}

func TestAlreadyRunning(t *testing.T) {
	for _, policy := range []string{"wait", "fail"} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(t)
			running := e.srv.StartRefresh(e.ws, e.ds, "Scheduled", powerbitest.RefreshScript{Run: 120 * time.Millisecond})
			cfg := fastConfig(t, "select: [{all: true}]\nwhen_running: "+policy)
			o := e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
			switch policy {
			case "wait":
				if !o.OK() || o.RequestID != running || o.StartedByUs {
					t.Errorf("want the running refresh %s followed to completion, got %s %v %v", running, o.RequestID, o.Status, o.Err)
				}
			case "fail":
				if o.Status != event.RefreshFailed || o.Err == nil || !strings.Contains(o.Err.Error(), "already running") {
					t.Errorf("want a failure saying a refresh is already running, got %v %v", o.Status, o.Err)
				}
			}
		})
	}
}

func TestTokenExpiresDuringLongRefresh(t *testing.T) {
	e := newEnv(t, powerbitest.WithTokenLifetime(150*time.Millisecond))
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 700 * time.Millisecond})
	o := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if !o.OK() {
		t.Fatalf("refresh across token expiry: %v %v", o.Status, o.Err)
	}
}

func TestThrottledWhilePolling(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFault(powerbitest.Fault{Endpoint: "GET /groups/{id}/datasets/{id}/refreshes", Kind: powerbitest.Throttle, Count: 2, RetryAfter: time.Second})
	e.srv.AddFault(powerbitest.Fault{Endpoint: "GET /groups/{id}/datasets/{id}/refreshes", Kind: powerbitest.ServerError, Count: 1, Status: 503})
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 50 * time.Millisecond})
	o := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if !o.OK() {
		t.Fatalf("refresh with 429 and 503 while polling: %v %v", o.Status, o.Err)
	}
	if n := e.client.Requests()["GET /groups/{id}/datasets/{id}/refreshes"]; n < 4 {
		t.Errorf("%d history requests, want the throttled ones retried", n)
	}
}

func TestInterruptCancelsEnhancedRefreshes(t *testing.T) {
	e := newEnv(t)
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: time.Hour})
	e.srv.ScriptRefresh(e.ds2, powerbitest.RefreshScript{Run: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(150*time.Millisecond, cancel)
	rec := &recorder{}
	outs := e.refresher(fastConfig(t, "select: [{all: true}]"), rec).Refresh(ctx, []refresh.Target{
		e.target(e.ds, refresh.Body{Type: "Full"}), // enhanced: cancelled
		e.target(e.ds2, refresh.Body{}),            // standard: cannot be cancelled
	})
	if outs[0].Status != event.RefreshCancelled || e.srv.RefreshStatus(outs[0].RequestID) != "Cancelled" {
		t.Errorf("enhanced: %v %v, emulator %s", outs[0].Status, outs[0].Err, e.srv.RefreshStatus(outs[0].RequestID))
	}
	if outs[1].Err == nil || !strings.Contains(outs[1].Err.Error(), "goes on in the service") || e.srv.RefreshStatus(outs[1].RequestID) != "Unknown" {
		t.Errorf("standard: %v %v", outs[1].Status, outs[1].Err)
	}
}

func TestDependencyOrderAndConcurrency(t *testing.T) {
	e := newEnv(t)
	// ds2 depends on ds; ds fails, so ds2 must not start.
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 30 * time.Millisecond, Outcome: "Failed"})
	a, b := e.target(e.ds, refresh.Body{}), e.target(e.ds2, refresh.Body{})
	b.DependsOn = []string{e.ds}
	outs := e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{b, a})
	if outs[1].Status != event.RefreshFailed || outs[0].RequestID != "" || outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), "depends on") {
		t.Errorf("dependent: %+v", outs[0])
	}
	// Now the upstream completes: the dependent starts only after it ended.
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 60 * time.Millisecond})
	e.srv.ScriptRefresh(e.ds2, powerbitest.RefreshScript{Run: 10 * time.Millisecond})
	outs = e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{b, a})
	if !outs[0].OK() || !outs[1].OK() || outs[0].RequestedAt.Before(outs[1].EndedAt) {
		t.Errorf("order: upstream ended %v, dependent requested %v (%v %v)", outs[1].EndedAt, outs[0].RequestedAt, outs[0].Err, outs[1].Err)
	}
	// A cycle is refused.
	a.DependsOn = []string{e.ds2}
	outs = e.refresher(fastConfig(t, "select: [{all: true}]"), &recorder{}).Refresh(context.Background(), []refresh.Target{b, a})
	if outs[0].Err == nil || !strings.Contains(outs[0].Err.Error(), "cycle") {
		t.Errorf("cycle not refused: %v", outs[0].Err)
	}
}

func TestHooks(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "hooks.log")
	cfg := fastConfig(t, `select: [{all: true}]
hooks:
  before: ["echo before $PBISYNC_MODEL_ID $PBISYNC_HOOK >> `+log+`"]
  after:
    - [sh, -c, "echo after $PBISYNC_REFRESH_STATUS $PBISYNC_REFRESH_REQUEST_ID >> `+log+`"]
`)
	e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 10 * time.Millisecond})
	o := e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if !o.OK() {
		t.Fatal(o.Err)
	}
	b, _ := os.ReadFile(log)
	want := "before " + e.ds + " before\nafter completed " + o.RequestID + "\n"
	if string(b) != want {
		t.Errorf("hooks wrote %q, want %q", b, want)
	}
	// A failing before hook stops the refresh and reports its output.
	cfg.Hooks.Before = []refresh.Command{{Argv: []string{"sh", "-c", "echo warehouse not ready >&2; exit 3"}}}
	cfg.Hooks.After = nil
	o = e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
	if o.RequestID != "" || o.Err == nil || !strings.Contains(o.Err.Error(), "warehouse not ready") || !strings.Contains(o.Err.Error(), "exit status 3") {
		t.Errorf("failing hook: request %q err %v", o.RequestID, o.Err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"select: [{name: a, pattern: b}]", "r.yaml:1:10: a selector needs exactly one"},
		{"select: [{pattern: '('}]", "r.yaml:1:20: pattern: error parsing regexp"},
		{"body: {type: Fast}", "r.yaml:1:14: type must be one of"},
		{"body: {type: Full, notify_option: MailOnFailure}", "r.yaml:1:35: notify_option MailOnFailure is only for standard"},
		{"body: {commit_mode: PartialBatch, apply_refresh_policy: true}", "apply_refresh_policy must be false"},
		{"when_running: queue", "r.yaml:1:15: when_running must be wait or fail"},
		{"poll: {initial: 1m, max: 1s}", "r.yaml:1:7: poll:"},
		{"hooks: {before: [[]]}", "r.yaml:1"},
		{"body: {effective_date: yesterday}", "effective_date must be a date"},
		{"timeout: soon", "r.yaml:1:10: want a duration"},
	}
	for _, tt := range tests {
		n, err := config.Parse("r.yaml", []byte(tt.doc))
		if err == nil {
			_, err = refresh.Decode(n)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// A trigger whose answer is lost after the service started the refresh is not repeated:
// pbisync finds the refresh it started and follows it. A trigger the service failed is
// repeated once.
func TestTriggerIsNotRepeatedBlindly(t *testing.T) {
	for _, tt := range []struct {
		name  string
		fault powerbitest.Fault
	}{
		{"answer lost", powerbitest.Fault{Endpoint: "POST /groups/{id}/datasets/{id}/refreshes", Kind: powerbitest.Lost, Count: 1}},
		{"server error", powerbitest.Fault{Endpoint: "POST /groups/{id}/datasets/{id}/refreshes", Kind: powerbitest.ServerError, Status: 503, Count: 1}},
		{"connection dropped", powerbitest.Fault{Endpoint: "POST /groups/{id}/datasets/{id}/refreshes", Kind: powerbitest.Drop, Count: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.AddFault(tt.fault)
			e.srv.ScriptRefresh(e.ds, powerbitest.RefreshScript{Run: 60 * time.Millisecond})
			cfg := fastConfig(t, "select: [{all: true}]\nwhen_running: fail")
			o := e.refresher(cfg, &recorder{}).Refresh(context.Background(), []refresh.Target{e.target(e.ds, refresh.Body{})})[0]
			if !o.OK() {
				t.Fatalf("refresh: %v %v", o.Status, o.Err)
			}
			if n := e.srv.RefreshCount(e.ds); n != 1 {
				t.Errorf("the model was refreshed %d times, want once", n)
			}
			if e.srv.RefreshStatus(o.RequestID) != "Completed" {
				t.Errorf("followed %s, which is %q", o.RequestID, e.srv.RefreshStatus(o.RequestID))
			}
		})
	}
}

// A model built on a dataflow waits for the dataflow's running refresh before its own.
func TestWaitsForUpstreamDataflow(t *testing.T) {
	// Also with the service's statuses in capitals ("INPROGRESS"), as recorded.
	for _, casing := range []string{"", "upper"} {
		t.Run("casing="+casing, func(t *testing.T) { waitsForUpstreamDataflow(t, casing) })
	}
}

func waitsForUpstreamDataflow(t *testing.T, casing string) {
	tenant := powerbitest.SampleTenant()
	ws := &tenant.Workspaces[0]
	ws.Dataflows = append(ws.Dataflows, snapshot.Dataflow{ID: "df-1", Name: "Customers (dataflow)"})
	srv, err := powerbitest.NewServer(tenant, powerbitest.WithQuirks(powerbitest.Quirks{StatusCasing: casing}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := powerbi.New(powerbi.Config{APIURL: srv.URL(), Credentials: powerbi.Credentials{Token: config.NewSecret(srv.IssueToken(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	model := ws.SemanticModels[0]
	srv.ScriptRefresh(model.ID, powerbitest.RefreshScript{Run: 20 * time.Millisecond})
	dataflowEnds := time.Now().Add(300 * time.Millisecond) // no later than the emulator's end
	srv.StartDataflowRefresh("df-1", 300*time.Millisecond)
	cfg := fastConfig(t, "select: [{all: true}]")
	r := &refresh.Refresher{API: refresh.NewAPI(c), Config: cfg}
	o := r.Refresh(context.Background(), []refresh.Target{{WorkspaceID: ws.ID, ModelID: model.ID, Name: model.Name,
		Dataflows: []refresh.DataflowRef{{ID: "df-1", WorkspaceID: ws.ID}}}})[0]
	if !o.OK() {
		t.Fatalf("refresh: %v %v", o.Status, o.Err)
	}
	// Order, not speed: the model's refresh is asked for after the dataflow's ended.
	if o.RequestedAt.Before(dataflowEnds) {
		t.Errorf("the refresh was requested at %s, before the dataflow's refresh ended at %s", o.RequestedAt, dataflowEnds)
	}
	// An unknown dataflow is an error that names it, and the model is not refreshed.
	o = r.Refresh(context.Background(), []refresh.Target{{WorkspaceID: ws.ID, ModelID: model.ID, Name: model.Name,
		Dataflows: []refresh.DataflowRef{{ID: "df-gone"}}}})[0]
	if o.RequestID != "" || o.Err == nil || !strings.Contains(o.Err.Error(), "df-gone") {
		t.Errorf("unknown dataflow: %q %v", o.RequestID, o.Err)
	}
}

func TestTargetsReadUpstreamDataflows(t *testing.T) {
	cfg := fastConfig(t, "select: [{all: true}]")
	recs := []record.Record{{Spec: spec.AssetSpec{Key: spec.Key{"semantic_model", "M"},
		PowerBI:  spec.Identity{Type: spec.SemanticModel, ID: "m1", WorkspaceID: "w1"},
		Metadata: map[string]spec.Metadata{refresh.UpstreamDataflowsKey: spec.JSON([]map[string]string{{"id": "df-1", "workspaceId": "w2"}})}}}}
	targets, _ := cfg.Targets(recs)
	if len(targets) != 1 || len(targets[0].Dataflows) != 1 || targets[0].Dataflows[0] != (refresh.DataflowRef{ID: "df-1", WorkspaceID: "w2"}) {
		t.Errorf("targets %+v", targets)
	}
}

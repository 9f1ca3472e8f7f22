package serve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/serve"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/core/state"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const token = "s3cret-serve-token"

// fixture is an emulator outside the server, so it outlives a server restart, and a
// pipeline that reads it through MSAL.
type fixture struct {
	emu      *powerbitest.Server
	dir      string
	pipeline *pipeline.Pipeline
	// refreshEvery, when set, is the server's refresh schedule.
	refreshEvery string
	stopLast     func() // stops the server start ran last
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureWith(t, `outputs:
  - name: events
    jsonl: {path: events.jsonl, format: events}
refresh:
  poll: {initial: 30ms, max: 100ms}
`)
}

// newFixtureWith takes the pipeline's outputs and refresh sections.
func newFixtureWith(t *testing.T, outputsAndRefresh string) *fixture {
	t.Helper()
	return newFixtureSource(t, "", outputsAndRefresh)
}

// newFixtureSource also takes more of the source's settings (indented as its keys).
func newFixtureSource(t *testing.T, source, outputsAndRefresh string) *fixture {
	t.Helper()
	emu, err := powerbitest.NewServer(powerbitest.SampleTenant())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, emu.CAPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cr := emu.Credentials()
	t.Setenv("PBISYNC_TEST_SECRET", cr.ClientSecret)
	t.Setenv("PBISYNC_SERVE_TOKEN", token)
	doc := fmt.Sprintf(`version: 1
name: serve-test
state_dir: state
sources:
  - name: tenant
    powerbi:
      api_url: %s
      authority_host: %s
      tenant_id: %s
      ca_file: %s
      credentials:
        client_id: %s
        client_secret: ${env:PBISYNC_TEST_SECRET}
      scanner: {poll_interval: 20ms}
%s%sserve:
  addr: 127.0.0.1:0
  token: ${env:PBISYNC_SERVE_TOKEN}
`, emu.URL(), emu.AuthorityURL(), emu.TenantID, ca, cr.ClientID, source, outputsAndRefresh)
	f := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(f, []byte(doc), 0o644)
	p, err := pipeline.Load(f)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: emu, dir: dir, pipeline: p}
}

// start runs a server until the returned stop is called.
func (f *fixture) start(t *testing.T, syncOnStart bool) (base string, stop func()) {
	t.Helper()
	cfg, err := serve.Decode(f.pipeline.Serve)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SyncOnStart = &syncOnStart
	if f.refreshEvery != "" {
		cfg.Refresh = f.refreshEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := engine.FromPipeline(ctx, f.pipeline, engine.SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve.New(cfg, eng, nil).Run(ctx, func(a string) { ready <- a }) }()
	select {
	case a := <-ready:
		base = "http://" + a
	case err := <-done:
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		eng.Close()
	}
	t.Cleanup(stop)
	f.stopLast = stop
	return base, stop
}

func get(t *testing.T, url string, v any) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v: %s", url, err, b)
		}
	}
	return string(b)
}

func post(t *testing.T, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitUpTo(t, 10*time.Second, what, cond)
}

// waitUpTo polls cond for up to d.
func waitUpTo(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

type refreshes struct {
	Recent  []map[string]any `json:"recent"`
	Running []map[string]any `json:"running"`
}

func TestUpstreamChangeRefreshesDownstreamModels(t *testing.T) {
	f := newFixture(t)
	f.emu.ScriptRefresh(modelID(t, f, "Sales Model"), powerbitest.RefreshScript{Run: 100 * time.Millisecond})
	base, _ := f.start(t, true)
	waitFor(t, "the first sync", func() bool {
		var h map[string]any
		get(t, base+"/healthz", &h)
		return h["models"].(float64) > 0
	})
	if code, _ := post(t, base+"/v1/upstream-changed", "", `{"keys":[["sales_db","public","orders"]]}`); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := post(t, base+"/v1/upstream-changed", "wrong", `{"keys":[]}`); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	if code, out := post(t, base+"/v1/upstream-changed", token, `{"keys":[[""]]}`); code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out), "keys[0]") {
		t.Errorf("bad key: %d %v", code, out)
	}
	code, out := post(t, base+"/v1/upstream-changed", token, `{"keys":[["sales_db","public","orders"], "no/such/table"]}`)
	if code != http.StatusAccepted || fmt.Sprint(out["models"]) != "[Sales Model]" {
		t.Fatalf("trigger: %d %v", code, out)
	}
	waitFor(t, "the refresh to complete", func() bool {
		var r refreshes
		get(t, base+"/v1/refreshes", &r)
		return len(r.Recent) == 1 && r.Recent[0]["state"] == "completed" && r.Recent[0]["trigger"] == "upstream"
	})
	m := get(t, base+"/metrics", nil)
	for _, want := range []string{`pbisync_syncs_total{result="success"} 1`, `pbisync_refreshes_total{state="completed"} 1`,
		`pbisync_upstream_triggers_total 1`, `pbisync_assets{type="semantic_model"} 7`, "# TYPE pbisync_refreshes_running gauge",
		`pbisync_api_requests_total{endpoint="POST /admin/workspaces/getInfo"} 1`,
		// The Prometheus client's standard collectors.
		"# TYPE process_resident_memory_bytes gauge", "# TYPE go_goroutines gauge", "# TYPE go_memstats_heap_alloc_bytes gauge"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	// What a Prometheus server would scrape parses, with every family pbisync has.
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(m))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v", err)
	}
	for _, name := range []string{"pbisync_syncs_total", "pbisync_last_sync_duration_seconds", "pbisync_last_sync_success_timestamp_seconds",
		"pbisync_assets", "pbisync_api_requests_total", "pbisync_refreshes_started_total", "pbisync_refreshes_total",
		"pbisync_refreshes_running", "pbisync_upstream_triggers_total"} {
		if families[name] == nil {
			t.Errorf("no %s family", name)
		}
	}
	if strings.Contains(m, token) || strings.Contains(get(t, base+"/healthz", nil), token) {
		t.Error("the token leaked")
	}
}

// A server stopped in the middle of a refresh leaves it running in the service; the
// next server resumes following it from the state store.
func TestRestartResumesRefresh(t *testing.T) {
	f := newFixture(t)
	f.emu.ScriptRefresh(modelID(t, f, "Sales Model"), powerbitest.RefreshScript{Run: 1500 * time.Millisecond})
	base, stop := f.start(t, true)
	waitFor(t, "the first sync", func() bool {
		var h map[string]any
		get(t, base+"/healthz", &h)
		return h["models"].(float64) > 0
	})
	if code, out := post(t, base+"/v1/upstream-changed", token, `{"keys":["sales_db/public/orders"]}`); code != http.StatusAccepted {
		t.Fatalf("trigger: %d %v", code, out)
	}
	var requestID string
	waitFor(t, "the refresh to start", func() bool {
		var r refreshes
		get(t, base+"/v1/refreshes", &r)
		if len(r.Running) == 1 {
			requestID, _ = r.Running[0]["requestId"].(string)
		}
		return requestID != ""
	})
	stop()
	if st := f.emu.RefreshStatus(requestID); st != "Unknown" {
		t.Fatalf("the shutdown changed the refresh: %s", st)
	}
	st, err := state.Open(context.Background(), filepath.Join(f.dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenRefreshes(context.Background(), "serve-test")
	st.Close()
	if err != nil || len(open) != 1 || open[0].RequestID != requestID || open[0].Source != "tenant" {
		t.Fatalf("journal after shutdown: %v %+v", err, open)
	}

	base, _ = f.start(t, false)
	waitFor(t, "the resumed refresh to complete", func() bool {
		var r refreshes
		get(t, base+"/v1/refreshes", &r)
		return len(r.Recent) == 1 && r.Recent[0]["state"] == "completed" && r.Recent[0]["trigger"] == "resumed" && r.Recent[0]["requestId"] == requestID
	})
	waitFor(t, "the journal to close the refresh", func() bool {
		st, err := state.Open(context.Background(), filepath.Join(f.dir, "state"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		open, _ := st.OpenRefreshes(context.Background(), "serve-test")
		return len(open) == 0
	})
	// The resumed refresh's events reach the outputs too.
	stop2 := f.stopLast
	stop2()
	data, err := os.ReadFile(filepath.Join(f.dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"requestId":"`+requestID+`","state":"completed"`) {
		t.Errorf("events.jsonl lacks the resumed refresh's completion:\n%s", data)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{"serve: {addr: x}", "addr:"},
		{"serve: {}", "a token is required"},
		{"serve: {token: t, sync: 'every day'}", "sync: not a cron schedule"},
		{"serve: {token: t, refresh: '61 * * * *'}", "refresh: not a cron schedule"},
	} {
		p, err := pipeline.Parse("p.yaml", []byte("version: 1\nsources: [{snapshot: x.json}]\n"+tt.doc))
		if err == nil {
			_, err = serve.Decode(p.Serve)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "p.yaml:3") {
			t.Errorf("%s: %v, want %q at p.yaml:3", tt.doc, err, tt.want)
		}
	}
}

func modelID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	id := ""
	f.emu.Tenant(func(s *snapshot.Snapshot) {
		for _, w := range s.Workspaces {
			for _, m := range w.SemanticModels {
				if m.Name == name {
					id = m.ID
				}
			}
		}
	})
	if id == "" {
		t.Fatalf("no model %q", name)
	}
	return id
}

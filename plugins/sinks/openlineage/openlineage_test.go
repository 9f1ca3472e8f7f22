package openlineage

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
)

const apiKey = "ol-key-5ecret"

// marquez is a test OpenLineage backend in the Marquez API shape: a real HTTP server on
// 127.0.0.1 that validates every event against the OpenLineage schema.
type marquez struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events []map[string]any
	errs   []string
}

func newMarquez(t *testing.T) *marquez {
	reg := registry(t)
	m := &marquez{}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(msg string) {
			m.mu.Lock()
			m.errs = append(m.errs, msg)
			m.mu.Unlock()
			http.Error(w, msg, http.StatusBadRequest)
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/lineage" {
			fail("want POST /api/v1/lineage, got " + r.Method + " " + r.URL.Path)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer "+apiKey {
			fail("headers: " + r.Header.Get("Content-Type") + " / " + r.Header.Get("Authorization"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		if err := validateEvent(reg, body); err != nil {
			fail(err.Error() + "\n" + string(body))
			return
		}
		var ev map[string]any
		json.Unmarshal(body, &ev)
		m.mu.Lock()
		m.events = append(m.events, ev)
		m.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestMarquez(t *testing.T) {
	m := newMarquez(t)
	cfg := `{"url":"` + m.srv.URL + `","api_key":"` + apiKey + `","upstream_namespace":"mssql://sql1:1433"}`
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, BatchSize: 3}, sinktest.Sample()); err != nil {
		t.Fatal(err)
	}
	if len(m.errs) > 0 {
		t.Fatalf("backend rejected events:\n%s", strings.Join(m.errs, "\n"))
	}
	var runs, datasets []map[string]any
	for _, ev := range m.events {
		if _, ok := ev["run"]; ok {
			runs = append(runs, ev)
		} else {
			datasets = append(datasets, ev)
		}
	}
	// Sample: 5 specs (data source, 2 models with 3 tables, report, dashboard) and a removed report.
	if len(datasets) != 1+3+1+1+1 {
		t.Fatalf("%d dataset events", len(datasets))
	}
	byName := map[string]map[string]any{}
	for _, d := range datasets {
		ds := d["dataset"].(map[string]any)
		byName[ds["name"].(string)] = ds
	}
	orders := byName["Finance/Sales Model/orders"]
	if orders == nil {
		t.Fatalf("no orders table; have %v", byName)
	}
	facets := orders["facets"].(map[string]any)
	if got := js(facets["schema"].(map[string]any)["fields"]); got != `[{"name":"order_id","type":"Int64"},{"description":"net of tax","name":"amount","type":"Decimal"},{"name":"ordered_at","type":"DateTime"}]` {
		t.Errorf("schema %s", got)
	}
	// The sample's models have no resolved M: with upstream_namespace set, their warehouse
	// dependency keys are named there; data sources are connections, not inputs.
	if got := js(facets["lineage"].(map[string]any)["inputs"]); got != `[{"name":"warehouse.dbo.orders","namespace":"mssql://sql1:1433","transformations":[{"type":"INDIRECT"}],"type":"DATASET"}]` {
		t.Errorf("model lineage %s", got)
	}
	if facets["pbisync_asset"] == nil || facets["powerbi"] != nil {
		t.Errorf("custom facet key: %s", js(facets))
	}
	report := byName["Finance/reports/Sales Overview"]
	if got := js(report["facets"].(map[string]any)["lineage"]); !strings.Contains(got, `"name":"Finance/Sales Model/customers"`) || !strings.Contains(got, `"name":"Finance/Sales Model/orders"`) {
		t.Errorf("report lineage %s", got)
	}
	if got := js(byName["Finance/reports/Old Report"]["facets"].(map[string]any)["lifecycleStateChange"].(map[string]any)["lifecycleStateChange"]); got != `"DROP"` {
		t.Errorf("removed report %s", got)
	}

	// Runs: r-0001 requested, started, completed; r-0002 started, failed. Both were
	// requested by pbisync (requestedAt), so a started event is RUNNING whether or not
	// this stream carried the requested one: the output does not depend on what came before.
	var types []string
	for _, r := range runs {
		types = append(types, r["eventType"].(string))
	}
	if strings.Join(types, ",") != "START,RUNNING,COMPLETE,RUNNING,FAIL" {
		t.Fatalf("run event types %v", types)
	}
	id := func(ev map[string]any) string { return ev["run"].(map[string]any)["runId"].(string) }
	if id(runs[0]) != id(runs[1]) || id(runs[1]) != id(runs[2]) || id(runs[2]) == id(runs[3]) || id(runs[3]) != id(runs[4]) {
		t.Errorf("run ids %s %s %s %s %s", id(runs[0]), id(runs[1]), id(runs[2]), id(runs[3]), id(runs[4]))
	}
	complete := runs[2]
	if got := js(complete["job"].(map[string]any)["name"]); got != `"Finance/Sales Model/refresh"` {
		t.Errorf("job name %s", got)
	}
	outs := complete["outputs"].([]any)
	if len(outs) != 2 || outs[1].(map[string]any)["facets"].(map[string]any)["schema"] == nil {
		t.Errorf("outputs %s", js(outs))
	}
	if got := js(complete["inputs"]); !strings.Contains(got, "warehouse.dbo.orders") {
		t.Errorf("inputs %s", got)
	}
	if complete["eventTime"] != "2026-11-26T06:02:31Z" {
		t.Errorf("eventTime %v", complete["eventTime"])
	}
	fail := runs[4]["run"].(map[string]any)["facets"].(map[string]any)
	if got := js(fail["errorMessage"].(map[string]any)["message"]); got != `"DataSource.Error: login failed for user 'svc'"` {
		t.Errorf("error facet %s", got)
	}
	if got := js(fail["pbisync_refresh"].(map[string]any)["tables"]); got != `[{"partition":"2026","status":"Failed","table":"budget"}]` {
		t.Errorf("table results %s", got)
	}
}

func TestEveryStateAndFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ol", "events.jsonl")
	sample := sinktest.Sample()
	var evs []event.Event
	for _, st := range []event.RefreshState{event.RefreshRequested, event.RefreshStarted, event.RefreshCancelled, event.RefreshTimedOut} {
		r := *sample[7].Refresh
		r.State = st
		r.RequestID = "r-" + string(st)
		evs = append(evs, event.Event{Kind: event.KindRefresh, Refresh: &r})
	}
	cfg := `{"file":"` + path + `","specs":false}`
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, evs); err != nil {
		t.Fatal(err)
	}
	// A crash left half a line: a refresh run cuts it and appends.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"eventTime":"2026-`)
	f.Close()
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg, Kind: sink.RunRefresh}, sample); err != nil {
		t.Fatal(err)
	}
	reg := registry(t)
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var types []string
	for sc.Scan() {
		if err := validateEvent(reg, sc.Bytes()); err != nil {
			t.Fatalf("%v\n%s", err, sc.Text())
		}
		var ev map[string]any
		json.Unmarshal(sc.Bytes(), &ev)
		types = append(types, ev["eventType"].(string))
	}
	// requested: START; started (requested by pbisync, without its requested event here):
	// RUNNING; cancelled: ABORT; timed out: FAIL; then the sample's refreshes (specs: false
	// leaves the dataset events out).
	if strings.Join(types, ",") != "START,RUNNING,ABORT,FAIL,START,RUNNING,COMPLETE,RUNNING,FAIL" {
		t.Fatalf("types %v", types)
	}
}

func TestErrorsKeepTheKeyOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nope", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := `{"url":"` + srv.URL + `","api_key":"` + apiKey + `","retries":1}`
	err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, sinktest.Sample()[:1])
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), apiKey) {
		t.Fatalf("error %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                                 "",
		`{"url":"http://x","file":"y"}`:      "file",
		`{"url":"x"}`:                        "url",
		`{"url":"http://x","endpoint":"v1"}`: "endpoint",
		`{"url":"http://x","producer":"me"}`: "producer",
		`{"url":"http://x","specs":"no"}`:    "specs",
	} {
		err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: in}, nil)
		var ce sinktest.ConfigErrors
		if !errors.As(err, &ce) || strings.Join(ce[0].Path, ".") != want {
			t.Errorf("%s: error %v, want one at %q", in, err, want)
		}
	}
}

func TestRunIDIsAUUID(t *testing.T) {
	a, b := runID("r-1"), runID("r-2")
	if a == b || len(a) != 36 || a[14] != '5' || !strings.ContainsAny(a[19:20], "89ab") || runID("r-1") != a {
		t.Fatalf("%s %s", a, b)
	}
}

// TestStateFile: a refresh event without its model's spec (one a restarted serve followed)
// in a refresh-only run still names the model's inputs and tables, learned by an earlier
// sync.
func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "ol-state.json")
	sample := sinktest.Sample()
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: `{"file":"` + filepath.Join(dir, "1.jsonl") + `","state_file":"` + state + `","upstream_namespace":"mssql://sql1:1433"}`}, sample[:5]); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "2.jsonl")
	bare := sample[8]
	r := *bare.Refresh
	r.ModelSpec, bare.Refresh, bare.Related = nil, &r, nil
	if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: `{"file":"` + out + `","state_file":"` + state + `"}`}, []event.Event{bare}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateEvent(registry(t), data); err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.Contains(s, `"name":"Finance/Sales Model/orders"`) || !strings.Contains(s, `"name":"warehouse.dbo.orders"`) {
		t.Fatalf("run without the state's tables and inputs: %s", s)
	}
}

// TestRemovedModelDropsItsTables: a model removed in a later sync marks the datasets
// emitted for it (its tables, known through state_file) dropped, with the standard
// lifecycleStateChange facet; without state_file nothing is guessed.
func TestRemovedModelDropsItsTables(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "ol-state.json")
	sample := sinktest.Sample()
	model := sample[1].Spec
	gone := []event.Event{{Kind: event.KindRemoved, Removed: &event.Removed{Key: model.Key, PowerBI: model.PowerBI}}}
	for _, tc := range []struct {
		state bool
		want  []string
	}{
		{true, []string{"Finance/Sales Model/customers", "Finance/Sales Model/orders"}},
		{false, nil},
	} {
		cfg := `{"file":"` + filepath.Join(dir, "1.jsonl") + `"`
		if tc.state {
			cfg += `,"state_file":"` + state + `"`
		}
		cfg += "}"
		if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, sample[:5]); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "2.jsonl")
		cfg = strings.Replace(cfg, "1.jsonl", "2.jsonl", 1)
		if err := sinktest.Run(context.Background(), New(), sinktest.Options{Config: cfg}, gone); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(out)
		var got []string
		reg := registry(t)
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			if err := validateEvent(reg, []byte(line)); err != nil {
				t.Fatal(err)
			}
			var ev struct {
				Dataset struct {
					Name   string `json:"name"`
					Facets struct {
						Lifecycle struct {
							State string `json:"lifecycleStateChange"`
						} `json:"lifecycleStateChange"`
					} `json:"facets"`
				} `json:"dataset"`
			}
			json.Unmarshal([]byte(line), &ev)
			if ev.Dataset.Facets.Lifecycle.State != "DROP" {
				t.Errorf("%s: lifecycle %q", ev.Dataset.Name, ev.Dataset.Facets.Lifecycle.State)
			}
			got = append(got, ev.Dataset.Name)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("state %v: dropped %v, want %v", tc.state, got, tc.want)
		}
		os.Remove(out)
	}
}

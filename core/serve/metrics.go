package serve

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/engine"
)

// metrics are the counters and gauges /metrics exposes in Prometheus' text format.
type metrics struct {
	mu               sync.Mutex
	syncs            map[string]int64 // by result
	lastSyncSeconds  float64
	lastSyncSuccess  time.Time
	assets           map[string]int // by type, of the last sync
	requests         map[string]int64
	refreshesStarted int64
	refreshesEnded   map[string]int64 // by state
	running          int64
	triggers         int64
}

func newMetrics() *metrics {
	return &metrics{syncs: map[string]int64{}, assets: map[string]int{}, requests: map[string]int64{}, refreshesEnded: map[string]int64{}}
}

func (m *metrics) sync(ok bool, d time.Duration, res *engine.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	result := "success"
	if !ok {
		result = "failure"
	}
	m.syncs[result]++
	m.lastSyncSeconds = d.Seconds()
	if ok && res != nil {
		m.lastSyncSuccess = res.Summary.EndedAt
		m.assets = res.Summary.Assets
		for k, v := range res.Summary.Requests {
			m.requests[k] += v
		}
	}
}

func (m *metrics) refreshStarted() {
	m.mu.Lock()
	m.refreshesStarted++
	m.running++
	m.mu.Unlock()
}

func (m *metrics) refreshEnded(state string) {
	m.mu.Lock()
	m.refreshesEnded[state]++
	if m.running > 0 {
		m.running--
	}
	m.mu.Unlock()
}

func (m *metrics) trigger() {
	m.mu.Lock()
	m.triggers++
	m.mu.Unlock()
}

func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w)
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	family := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	family("pbisync_syncs_total", "counter", "Syncs run, by result.")
	for _, r := range sortedKeys(m.syncs) {
		fmt.Fprintf(w, "pbisync_syncs_total{result=%q} %d\n", r, m.syncs[r])
	}
	family("pbisync_last_sync_duration_seconds", "gauge", "Duration of the last sync.")
	fmt.Fprintf(w, "pbisync_last_sync_duration_seconds %g\n", m.lastSyncSeconds)
	family("pbisync_last_sync_success_timestamp_seconds", "gauge", "When the last successful sync ended (Unix time).")
	ts := 0.0
	if !m.lastSyncSuccess.IsZero() {
		ts = float64(m.lastSyncSuccess.UnixMilli()) / 1000
	}
	fmt.Fprintf(w, "pbisync_last_sync_success_timestamp_seconds %g\n", ts)
	family("pbisync_assets", "gauge", "Assets of the last successful sync, by type.")
	for _, t := range sortedKeys(m.assets) {
		fmt.Fprintf(w, "pbisync_assets{type=%q} %d\n", t, m.assets[t])
	}
	family("pbisync_api_requests_total", "counter", "Power BI API requests sent by syncs, by endpoint.")
	for _, e := range sortedKeys(m.requests) {
		fmt.Fprintf(w, "pbisync_api_requests_total{endpoint=%q} %d\n", e, m.requests[e])
	}
	family("pbisync_refreshes_started_total", "counter", "Refreshes requested or resumed.")
	fmt.Fprintf(w, "pbisync_refreshes_started_total %d\n", m.refreshesStarted)
	family("pbisync_refreshes_total", "counter", "Refreshes that ended, by state.")
	for _, st := range sortedKeys(m.refreshesEnded) {
		fmt.Fprintf(w, "pbisync_refreshes_total{state=%q} %d\n", st, m.refreshesEnded[st])
	}
	family("pbisync_refreshes_running", "gauge", "Refreshes being followed.")
	fmt.Fprintf(w, "pbisync_refreshes_running %d\n", m.running)
	family("pbisync_upstream_triggers_total", "counter", "Calls of POST /v1/upstream-changed.")
	fmt.Fprintf(w, "pbisync_upstream_triggers_total %d\n", m.triggers)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

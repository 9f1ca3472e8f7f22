package serve

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pbisync/pbisync/core/engine"
)

// metrics are what /metrics exposes, through the Prometheus Go client: pbisync's own
// counters and gauges, and the client's standard process and Go runtime collectors.
// Each Server has its own registry, so two servers in one process (tests) do not mix.
type metrics struct {
	reg              *prometheus.Registry
	syncs            *prometheus.CounterVec
	lastSyncSeconds  prometheus.Gauge
	lastSyncSuccess  prometheus.Gauge
	assets           *prometheus.GaugeVec
	requests         *prometheus.CounterVec
	refreshesStarted prometheus.Counter
	refreshesEnded   *prometheus.CounterVec
	running          prometheus.Gauge
	triggers         prometheus.Counter

	mu       sync.Mutex
	runningN int64 // what running shows; never below zero
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbisync_syncs_total", Help: "Syncs run, by result.",
		}, []string{"result"}),
		lastSyncSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbisync_last_sync_duration_seconds", Help: "Duration of the last sync.",
		}),
		lastSyncSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbisync_last_sync_success_timestamp_seconds", Help: "When the last successful sync ended (Unix time).",
		}),
		assets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pbisync_assets", Help: "Assets of the last successful sync, by type.",
		}, []string{"type"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbisync_api_requests_total", Help: "Power BI API requests sent by syncs, by endpoint.",
		}, []string{"endpoint"}),
		refreshesStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pbisync_refreshes_started_total", Help: "Refreshes requested or resumed.",
		}),
		refreshesEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pbisync_refreshes_total", Help: "Refreshes that ended, by state.",
		}, []string{"state"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pbisync_refreshes_running", Help: "Refreshes being followed.",
		}),
		triggers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pbisync_upstream_triggers_total", Help: "Calls of POST /v1/upstream-changed.",
		}),
	}
	m.reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
		m.syncs, m.lastSyncSeconds, m.lastSyncSuccess, m.assets, m.requests,
		m.refreshesStarted, m.refreshesEnded, m.running, m.triggers,
	)
	return m
}

func (m *metrics) sync(ok bool, d time.Duration, res *engine.Result) {
	result := "success"
	if !ok {
		result = "failure"
	}
	m.syncs.WithLabelValues(result).Inc()
	m.lastSyncSeconds.Set(d.Seconds())
	if ok && res != nil {
		m.lastSyncSuccess.Set(float64(res.Summary.EndedAt.UnixMilli()) / 1000)
		// The last sync's figures replace the previous ones: a type it no longer
		// has disappears rather than keep an old count.
		m.assets.Reset()
		for t, n := range res.Summary.Assets {
			m.assets.WithLabelValues(t).Set(float64(n))
		}
		for k, v := range res.Summary.Requests {
			m.requests.WithLabelValues(k).Add(float64(v))
		}
	}
}

func (m *metrics) refreshStarted() {
	m.refreshesStarted.Inc()
	m.mu.Lock()
	m.runningN++
	m.running.Set(float64(m.runningN))
	m.mu.Unlock()
}

func (m *metrics) refreshEnded(state string) {
	m.refreshesEnded.WithLabelValues(state).Inc()
	m.mu.Lock()
	if m.runningN > 0 {
		m.runningN--
	}
	m.running.Set(float64(m.runningN))
	m.mu.Unlock()
}

func (m *metrics) trigger() { m.triggers.Inc() }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

package refresh_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/internal/heapwatch"
)

// BenchmarkFollow1000Refreshes triggers 1,000 refreshes at once in the emulator, each
// running 3 s, and follows them all to the end with the default backoff shape (scaled
// to a short refresh) under the default rate limit. It reports the requests per refresh,
// the peak request rate the limiter allowed, and the peak heap.
func BenchmarkFollow1000Refreshes(b *testing.B) {
	const models = 1000
	tenant := &snapshot.Snapshot{Version: snapshot.Version}
	for w := range 10 {
		ws := snapshot.Workspace{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", w), Name: fmt.Sprintf("ws%d", w), Type: "Workspace"}
		for m := range models / 10 {
			ws.SemanticModels = append(ws.SemanticModels, snapshot.SemanticModel{ID: fmt.Sprintf("10000000-0000-4000-8000-%06d%06d", w, m), Name: fmt.Sprintf("m%d_%d", w, m)})
		}
		tenant.Workspaces = append(tenant.Workspaces, ws)
	}
	srv, err := powerbitest.NewServer(tenant)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{Token: config.NewSecret(srv.IssueToken(time.Hour))}}
	var peakHeap uint64
	var requests int64
	var elapsed time.Duration
	for b.Loop() {
		client, err := powerbi.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var targets []refresh.Target
		for _, w := range tenant.Workspaces {
			for _, m := range w.SemanticModels {
				srv.ScriptRefresh(m.ID, powerbitest.RefreshScript{Run: 3 * time.Second})
				targets = append(targets, refresh.Target{WorkspaceID: w.ID, ModelID: m.ID, Name: m.Name})
			}
		}
		rc := &refresh.Config{Concurrency: models, Timeout: time.Minute, WhenRunning: "wait", RateLimit: refresh.DefaultRateLimit * 50}
		t := true
		rc.CancelOnTimeout, rc.CancelOnInterrupt = &t, &t
		rc.Poll = refresh.Poll{Initial: 200 * time.Millisecond, Factor: refresh.DefaultPollFactor, Max: 2 * time.Second}
		r := &refresh.Refresher{API: refresh.NewAPI(client), Config: rc, Limiter: refresh.NewLimiter(rc.RateLimit, 50)}
		watch := heapwatch.Start(20 * time.Millisecond)
		start := time.Now()
		outs := r.Refresh(context.Background(), targets)
		elapsed += time.Since(start)
		peakHeap = max(peakHeap, watch.Stop())
		for _, o := range outs {
			if !o.OK() {
				b.Fatalf("%s: %v %v", o.Target.Name, o.Status, o.Err)
			}
		}
		for _, n := range client.Requests() {
			requests += n
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N)/models, "requests/refresh")
	b.ReportMetric(float64(requests)/elapsed.Seconds(), "requests/s")
	b.ReportMetric(heapwatch.MB(peakHeap), "peak-heap-MB")
}

// TestRequestsForTenMinuteRefresh counts the requests the default polling sends for a
// 10-minute standard refresh: the trigger plus the polls of the default backoff.
func TestRequestsForTenMinuteRefresh(t *testing.T) {
	cfg, err := refresh.Decode(config.Node{})
	if err != nil {
		t.Fatal(err)
	}
	polls, waited := 0, time.Duration(0)
	for wait := cfg.Poll.Initial; waited < 10*time.Minute; wait = min(time.Duration(float64(wait)*cfg.Poll.Factor), cfg.Poll.Max) {
		waited += wait
		polls++
	}
	t.Logf("a 10-minute refresh with the default polling (initial %s, factor %g, max %s): 1 trigger + %d polls = %d requests",
		cfg.Poll.Initial, cfg.Poll.Factor, cfg.Poll.Max, polls, polls+1)
	if polls > 30 {
		t.Errorf("%d polls for a 10-minute refresh: the default backoff polls too often", polls)
	}
}

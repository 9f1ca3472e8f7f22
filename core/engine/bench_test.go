package engine

import (
	"context"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/internal/heapwatch"
	"github.com/pbisync/pbisync/sdk/event"
)

// countSink counts what it gets and keeps nothing.
type countSink struct{ specs atomic.Int64 }

func (c *countSink) Name() string { return "count" }
func (c *countSink) Write(_ context.Context, evs []event.Event) error {
	for i := range evs {
		if evs[i].Kind == event.KindSpec {
			c.specs.Add(1)
		}
	}
	return nil
}
func (c *countSink) Close(context.Context) error { return nil }

// BenchmarkSyncLargeTenant runs the whole sync of issue 2's target tenant: 1,000
// workspaces (35,000 assets, 100,000 tables, 1,000,000 columns) from the in-process
// emulator through the scanner path (MSAL sign-in, 10 getInfo, polls, 10 scanResult),
// the default spec builder and the key check, into a sink. The emulator shares the
// process, so peak-heap-MB includes the tenant it serves (tenant-heap-MB).
func BenchmarkSyncLargeTenant(b *testing.B) {
	for _, bc := range []struct {
		name       string
		workspaces int
		batch      int
		estate     bool // keep the estate in a state store, as a pipeline with state_dir does
		modelSpecs bool // keep the models' specs for refresh events, as serve does
	}{
		{"workspaces=1000/batch=100", 1000, 100, false, false},
		{"workspaces=1000/batch=100/estate", 1000, 100, true, false},
		{"workspaces=1000/batch=100/model-specs", 1000, 100, false, true},
		{"workspaces=1000/batch=25", 1000, 25, false, false},
		{"workspaces=250/batch=100", 250, 100, false, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			size := powerbitest.LargeSize()
			size.Workspaces = bc.workspaces
			tenant := powerbitest.Generate(1, size)
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			tenantHeap := ms.HeapInuse
			srv, err := powerbitest.NewServer(tenant, powerbitest.WithScanPolls(2))
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			cr := srv.Credentials()
			var peak uint64
			var requests int64
			var assetsN int64
			var kept int
			cpu0 := cpuTime()
			for b.Loop() {
				cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
					Credentials: powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}}
				cfg.Scanner.BatchSize = bc.batch
				cfg.Scanner.PollInterval = 50 * time.Millisecond
				c, err := powerbi.New(cfg, powerbi.WithAuthorityHTTPClient(srv.TLSClient()))
				if err != nil {
					b.Fatal(err)
				}
				sink := &countSink{}
				e := &Engine{
					Sources:    []Source{&powerbiSource{name: "emulator", client: c}},
					NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) },
					Keys:       assets.NewKeyIndex(),
					Sinks:      []Sink{sink},
				}
				if bc.estate {
					st, err := state.Open(context.Background(), b.TempDir())
					if err != nil {
						b.Fatal(err)
					}
					defer st.Close()
					e.State, e.Pipeline = st, "bench"
					e.Sinks = e.withEstate(e.Sinks)
				}
				watch := heapwatch.Start(10 * time.Millisecond)
				res, err := e.Run(context.Background(), RunOptions{ModelSpecs: bc.modelSpecs})
				peak = max(peak, watch.Stop())
				if err != nil {
					b.Fatal(err)
				}
				requests = 0
				for _, n := range res.Summary.Requests {
					requests += n
				}
				assetsN = sink.specs.Load()
				kept = 0
				for _, m := range res.Models {
					kept += len(m.spec)
				}
			}
			// What the sync keeps of its models so that refresh events carry their specs.
			b.ReportMetric(float64(kept)/(1<<20), "refresh-specs-MB")
			// CPU seconds per sync: on a shared machine, wall time mostly measures the neighbours.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(assetsN), "assets")
			b.ReportMetric(float64(requests), "requests")
			b.ReportMetric(heapwatch.MB(peak), "peak-heap-MB")
			b.ReportMetric(float64(tenantHeap)/(1<<20), "tenant-heap-MB")
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

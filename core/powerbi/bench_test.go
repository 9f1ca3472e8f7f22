package powerbi_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/internal/heapwatch"
)

// BenchmarkSyncGeneratedTenant reads a generated tenant of 1,000 workspaces (35,000
// assets, 100,000 tables, 1,000,000 columns) through the scanner path of the emulator,
// discarding each batch. The emulator runs in the same process, so peak_heap_MB
// includes the tenant it serves (tenant_heap_MB) and its rendering. The sub-benchmarks
// with a smaller batch or tenant show what memory grows with.
func BenchmarkSyncGeneratedTenant(b *testing.B) {
	for _, bc := range []struct {
		name       string
		workspaces int
		batch      int
	}{
		{"workspaces=1000/batch=100", 1000, 100},
		{"workspaces=1000/batch=25", 1000, 25},
		{"workspaces=250/batch=100", 250, 100},
	} {
		b.Run(bc.name, func(b *testing.B) {
			size := powerbitest.LargeSize()
			size.Workspaces = bc.workspaces
			benchSync(b, size, bc.batch)
		})
	}
}

func benchSync(b *testing.B, size powerbitest.Size, batch int) {
	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	tenant := powerbitest.Generate(1, size)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse - min(ms.HeapInuse, ms0.HeapInuse)
	// Closed here rather than in b.Cleanup, so a previous round's tenant is garbage
	// before this round measures.
	srv, err := powerbitest.NewServer(tenant)
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	cfg := baseConfig(srv, withToken)
	cfg.Scanner.PollInterval = 10 * time.Millisecond
	cfg.Scanner.BatchSize = batch
	wantTables := size.Workspaces * size.ModelsPerWorkspace * size.TablesPerModel
	var peak uint64
	var tables, columns int
	var requests int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		c := newClient(b, srv, cfg, nil)
		h := heapwatch.Start(5 * time.Millisecond)
		tables, columns = 0, 0
		st, err := c.Snapshots(context.Background(), func(s *snapshot.Snapshot) error {
			for _, w := range s.Workspaces {
				for _, m := range w.SemanticModels {
					tables += len(m.Tables)
					for _, t := range m.Tables {
						columns += len(t.Columns)
					}
				}
			}
			return nil
		})
		peak = max(peak, h.Stop())
		if err != nil {
			b.Fatal(err)
		}
		if st.Workspaces != size.Workspaces || tables != wantTables || columns != wantTables*size.ColumnsPerTable {
			b.Fatalf("read %d workspaces, %d tables, %d columns", st.Workspaces, tables, columns)
		}
		requests = 0
		for _, n := range c.Requests() {
			requests += n
		}
	}
	b.StopTimer()
	// CPU time says more than wall time on a machine shared with other work.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu_s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(base)/(1<<20), "tenant_heap_MB")
	b.ReportMetric(float64(requests), "requests/op")
}

// cpuTime is the process's user and system CPU time (emulator and client together).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

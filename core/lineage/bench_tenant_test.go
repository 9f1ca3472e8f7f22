package lineage_test

import (
	"testing"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// BenchmarkResolveLargeTenant resolves one full scan batch of the generated large
// tenant: 100 workspaces, 1,000 models, 10,000 tables, 100,000 columns, as the
// engine does for each batch of a full sync.
func BenchmarkResolveLargeTenant(b *testing.B) {
	size := powerbitest.LargeSize()
	size.Workspaces = 100
	tenant := powerbitest.Generate(1, size)
	var r lineage.Resolver
	b.ReportAllocs()
	b.ResetTimer()
	var st lineage.Stats
	for b.Loop() {
		st = r.ResolveSnapshot(tenant)
	}
	if st.Tables != 10_000 {
		b.Fatalf("resolved %d tables, want 10,000", st.Tables)
	}
	b.ReportMetric(float64(st.Tables)*float64(b.N)/b.Elapsed().Seconds(), "tables/s")
}

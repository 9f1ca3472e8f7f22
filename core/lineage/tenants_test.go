package lineage_test

import (
	"testing"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// TestTenantStats resolves the emulator's sample tenant and a generated tenant and
// logs the resolve rate and reason counts (go test -run TenantStats -v): the
// figures the sync summary reports for them.
func TestTenantStats(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap func() lineage.Stats
	}{
		{"sample", func() lineage.Stats { return lineage.ResolveSnapshot(powerbitest.SampleTenant()) }},
		{"generated", func() lineage.Stats { return lineage.ResolveSnapshot(powerbitest.Generate(1, powerbitest.SmallSize())) }},
		{"sample+fabric", func() lineage.Stats {
			return lineage.ResolveSnapshot(powerbitest.AddFabric(powerbitest.SampleTenant()))
		}},
		{"generated+fabric", func() lineage.Stats {
			return lineage.ResolveSnapshot(powerbitest.AddFabric(powerbitest.Generate(1, powerbitest.SmallSize())))
		}},
	} {
		st := tc.snap()
		if st.Tables == 0 {
			t.Fatalf("%s tenant: no tables with M", tc.name)
		}
		t.Logf("%s: %d tables; resolved %d, partial %d, non-table %d, unresolved %d; resolve rate %.1f%%; upstream links %d",
			tc.name, st.Tables, st.Resolved, st.Partial, st.NonTable, st.Unresolved, 100*st.ResolveRate(), st.Upstream)
		for _, r := range st.ReasonCounts() {
			t.Logf("  %-45s %d", r, st.Reasons[r])
		}
	}
}

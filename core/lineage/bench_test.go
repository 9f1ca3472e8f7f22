package lineage

import "testing"

// BenchmarkResolveCorpus resolves every model of the corpus (parse and evaluate)
// and reports tables per second.
func BenchmarkResolveCorpus(b *testing.B) {
	models := readCorpus(b)
	tables := 0
	for _, m := range models {
		tables += len(m.model.Tables)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for i := range models {
			Resolve(&models[i].model)
		}
	}
	b.ReportMetric(float64(tables)*float64(b.N)/b.Elapsed().Seconds(), "tables/s")
}

// BenchmarkResolveDeployedTenant resolves 102 workspaces that are 34 generated ones
// deployed to dev, test and prod (every model's M three times), where models share
// parses.
func BenchmarkResolveDeployedTenant(b *testing.B) {
	tenant := deployedTenant(34)
	var r Resolver
	b.ReportAllocs()
	b.ResetTimer()
	var st Stats
	for b.Loop() {
		st = r.ResolveSnapshot(tenant)
	}
	b.ReportMetric(float64(st.Tables)*float64(b.N)/b.Elapsed().Seconds(), "tables/s")
}

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

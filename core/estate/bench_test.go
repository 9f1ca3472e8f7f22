package estate_test

import (
	"context"
	"testing"

	"github.com/pbisync/pbisync/core/estate"
)

// BenchmarkLargeTenant measures the graph on the generated 1,000-workspace tenant (about
// 37,000 nodes): building it from summaries, search, a 200-node neighbourhood, and the
// impact of an upstream table.
func BenchmarkLargeTenant(b *testing.B) {
	large := largeEstate(b)
	g, _ := large.Graph(context.Background())
	hubKey := hub(g, g.KeysOf(estate.TypeTable), 190)
	b.Run("search-common", func(b *testing.B) {
		for b.Loop() {
			g.Search("report", 12)
		}
	})
	b.Run("search-two-words", func(b *testing.B) {
		for b.Loop() {
			g.Search("model 7", 12)
		}
	})
	b.Run("search-none", func(b *testing.B) {
		for b.Loop() {
			g.Search("zzz-nothing", 12)
		}
	})
	b.Run("neighbourhood-200", func(b *testing.B) {
		for b.Loop() {
			g.Neighbourhood(hubKey, 6, 6, 200)
		}
	})
	b.Run("impact", func(b *testing.B) {
		for b.Loop() {
			g.Impact(estate.ImpactQuery{Names: []string{hubKey}})
		}
	})
}

package estate_test

import (
	"context"
	"testing"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
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

// BenchmarkSink measures what keeping the estate costs a sync of the generated
// 1,000-workspace tenant: every spec through the estate sink into a state store, committed.
func BenchmarkSink(b *testing.B) {
	got := &specSink{}
	e := &engine.Engine{Pipeline: "large", Sources: []engine.Source{&batches{snaps: splitTenant(powerbitest.Generate(1, powerbitest.LargeSize()), 100)}},
		NewBuilder: newBuilder, Sinks: []engine.Sink{got}}
	if _, err := e.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	evs := make([]event.Event, len(got.specs))
	for i := range got.specs {
		evs[i] = event.Event{Kind: event.KindSpec, Spec: &got.specs[i]}
	}
	st, err := state.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		sk := estate.NewSink(st, "large")
		for i := 0; i < len(evs); i += 500 {
			if err := sk.Write(ctx, evs[i:min(i+500, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		sk.Write(ctx, []event.Event{{Kind: event.KindSummary, Summary: &event.Summary{}}})
		if err := sk.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/asset")
}

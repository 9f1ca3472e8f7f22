package estate_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/estate"
	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/state"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
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
// 1,000-workspace tenant with lineage (35,000 assets): every spec through the estate sink
// into a state store, committed. new-store: into a new state store each time (a first
// sync); same-store: again and again into one (a full sync of a tenant that did not
// change). The events' protocol encodings are made before (the outputs' plugins share
// them with the estate in a sync), so what is measured is the estate's own work.
func BenchmarkSink(b *testing.B) {
	got := &specSink{}
	e := &engine.Engine{Pipeline: "large", Sources: []engine.Source{&batches{snaps: splitTenant(powerbitest.Generate(1, powerbitest.LargeSize()), 100)}},
		NewBuilder: newBuilder, Lineage: lineage.ResolveSnapshot, Sinks: []engine.Sink{got}}
	if _, err := e.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	evs := make([]event.Event, len(got.specs))
	for i := range got.specs {
		evs[i] = event.Event{Kind: event.KindSpec, Spec: &got.specs[i], Shared: &event.Shared{}}
		if _, err := sink.EventBytesShared(&evs[i]); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	syncInto := func(b *testing.B, st *state.Store) {
		sk := estate.NewSink(st, "large")
		for i := 0; i < len(evs); i += 500 {
			if err := sk.Write(ctx, evs[i:min(i+500, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := sk.Write(ctx, []event.Event{{Kind: event.KindSummary, Summary: &event.Summary{}}}); err != nil {
			b.Fatal(err)
		}
		if err := sk.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	open := func(b *testing.B) *state.Store {
		st, err := state.Open(ctx, b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	b.Run("new-store", func(b *testing.B) {
		c0 := cpuTime()
		for b.Loop() {
			st := open(b)
			syncInto(b, st)
			st.Close()
		}
		reportSink(b, c0, len(evs))
	})
	b.Run("same-store", func(b *testing.B) {
		st := open(b)
		defer st.Close()
		syncInto(b, st)
		c0 := cpuTime()
		for b.Loop() {
			syncInto(b, st)
		}
		reportSink(b, c0, len(evs))
	})
}

// reportSink reports a sink benchmark's time and CPU time (user and system, which on a
// machine shared with other work says more than the wall clock) per asset.
func reportSink(b *testing.B, c0 time.Duration, assets int) {
	n := float64(b.N * assets)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/asset")
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/n, "cpu-ns/asset")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

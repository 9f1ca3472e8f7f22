package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
	"github.com/pbisync/pbisync/sdk/spec"
)

// benchSpecs returns n distinct spec events made from the sample's.
func benchSpecs(n int) []event.Event {
	var out []event.Event
	for i := 0; len(out) < n; i++ {
		for _, e := range sinktest.Sample() {
			if e.Kind == event.KindSpec && len(out) < n {
				c := *e.Spec
				c.Key = append(spec.Key{strings.Repeat("x", i%7+1), string(rune('a' + i%26)), string(rune('a' + i/26%26))}, c.Key...)
				c.PowerBI.ID += "-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + strings.Repeat("y", i%7)
				out = append(out, event.Event{Kind: event.KindSpec, Spec: &c})
			}
		}
	}
	return out
}

func benchSink(b *testing.B) *Sink {
	s := New()
	if err := s.Configure(context.Background(), sink.Config{Raw: []byte(`{"path":"` + filepath.Join(b.TempDir(), "c.db") + `"}`)}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(context.Background()) })
	return s
}

// BenchmarkWriteBatch: one batch of 500 specs in a stream (committed on its own).
func BenchmarkWriteBatch(b *testing.B) {
	ctx := context.Background()
	s := benchSink(b)
	batch := benchSpecs(500)
	if err := s.Begin(ctx, sink.Run{Kind: sink.RunStream, ID: "bench"}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSync: a whole sync of 2,000 specs in batches of 100, through Commit.
func BenchmarkSync(b *testing.B) {
	ctx := context.Background()
	s := benchSink(b)
	events := benchSpecs(2000)
	n := 0
	for b.Loop() {
		n++
		if err := s.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "bench" + string(rune('a'+n%26))}); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(events); i += 100 {
			if err := s.WriteBatch(ctx, events[i:i+100]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

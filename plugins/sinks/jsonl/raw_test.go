package jsonl

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
	"github.com/pbisync/pbisync/sdk/spec"
)

// rawTestEvents are the sample events and specs of every metadata kind, as the raw
// path and WriteBatch both write them.
func rawTestEvents() []event.Event {
	evs := sinktest.Sample()
	cols := make([]spec.TableColumn, 50)
	for i := range cols {
		cols[i] = spec.TableColumn{Name: fmt.Sprintf("col <%d>", i), Type: "string"}
		if i%3 == 0 {
			cols[i].Description = "about & more"
		}
	}
	for i, md := range []map[string]spec.Metadata{
		{"schema": spec.Schema(spec.TableSchema{Columns: cols}), "n": spec.Int(7), "f": spec.Float(0.25), "b": spec.Bool(true),
			"u": spec.URL("https://x/?a=1&b=2"), "t": spec.Text("line\nbreak"), "j": spec.JSON(map[string]any{"k": []any{"v", 1.5, nil}})},
		{"big": spec.Float(math.MaxFloat64), "neg": spec.Int(math.MinInt64)},
		{"html": spec.JSON(map[string]any{"<": ">"})},
	} {
		evs = append(evs, event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
			Key: spec.Key{"m", fmt.Sprint(i)}, Deps: []spec.Key{{"a"}}, Metadata: md, Tags: map[string]string{"t": "<v>"},
			PowerBI: spec.Identity{Type: spec.SemanticModel, ID: fmt.Sprint(i)}}})
	}
	return evs
}

// TestRawBatchMatchesDecoded: the file the raw path writes (sink.RawBatchWriter) is the
// one WriteBatch writes for the decoded events, in both formats.
func TestRawBatchMatchesDecoded(t *testing.T) {
	ctx := context.Background()
	evs := rawTestEvents()
	write := func(t *testing.T, format string, raw, canonical bool) []byte {
		path := filepath.Join(t.TempDir(), "out.jsonl")
		s := New()
		if err := s.Configure(ctx, sink.Config{Raw: []byte(`{"path":"` + path + `","format":"` + format + `"}`)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "r"}); err != nil {
			t.Fatal(err)
		}
		var err error
		if raw {
			batch := make([]sink.RawEvent, len(evs))
			for i := range evs {
				b, err := sink.EventBytes(&evs[i])
				if err != nil {
					t.Fatal(err)
				}
				batch[i] = sink.NewRawEvent(b, true)
				if canonical {
					batch[i] = sink.NewCanonicalRawEvent(b, true)
				}
			}
			err = Raw{s}.WriteRawBatch(ctx, batch)
		} else {
			// The events as the kit decodes them for this sink (json values raw).
			batch := make([]event.Event, len(evs))
			for i := range evs {
				b, err := sink.EventBytes(&evs[i])
				if err != nil {
					t.Fatal(err)
				}
				if batch[i], err = sink.NewRawEvent(b, true).Decode(); err != nil {
					t.Fatal(err)
				}
			}
			err = s.WriteBatch(ctx, batch)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, format := range []string{"specs", "events"} {
		t.Run(format, func(t *testing.T) {
			want, got, copied := write(t, format, false, false), write(t, format, true, false), write(t, format, true, true)
			if string(got) != string(want) {
				t.Fatalf("the raw path wrote\n%s\nWriteBatch\n%s", got, want)
			}
			if string(copied) != string(want) {
				t.Fatalf("the raw path, its json values copied unchecked, wrote\n%s\nWriteBatch\n%s", copied, want)
			}
			if len(want) == 0 {
				t.Fatal("nothing written")
			}
		})
	}
}

// BenchmarkPluginBatch writes, in the specs format, a batch of 50 model specs of 100
// columns each (a table schema and a lineage-sized json value) as the plugin receives it:
// decoded and written (WriteBatch), and written from its bytes (Raw).
func BenchmarkPluginBatch(b *testing.B) {
	ctx := context.Background()
	var evs [][]byte
	size := 0
	for i := range 50 {
		cols := make([]spec.TableColumn, 100)
		var lineage []any
		for j := range cols {
			cols[j] = spec.TableColumn{Name: fmt.Sprintf("Column_%d", j), Type: "String"}
			lineage = append(lineage, map[string]any{"column": cols[j].Name, "upstream": []any{map[string]any{
				"platform": "snowflake", "database": "DB", "schema": "S", "table": fmt.Sprintf("T%d", i), "column": cols[j].Name}}})
		}
		e := event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
			Key: spec.Key{"model", fmt.Sprint(i)}, Kinds: []string{"powerbi"},
			Metadata: map[string]spec.Metadata{"schema": spec.Schema(spec.TableSchema{Columns: cols}), "lineage": spec.JSON(lineage), "id": spec.Text(fmt.Sprint(i))},
			PowerBI:  spec.Identity{Type: spec.SemanticModel, ID: fmt.Sprint(i)}}}
		bs, err := sink.EventBytes(&e)
		if err != nil {
			b.Fatal(err)
		}
		evs, size = append(evs, bs), size+len(bs)
	}
	open := func(b *testing.B) *Sink {
		s := New()
		if err := s.Configure(ctx, sink.Config{Raw: []byte(`{"path":"-","format":"specs"}`)}); err != nil {
			b.Fatal(err)
		}
		if err := s.Begin(ctx, sink.Run{Kind: sink.RunSync, ID: "bench"}); err != nil {
			b.Fatal(err)
		}
		return s
	}
	b.Run("decoded", func(b *testing.B) {
		s := open(b)
		b.SetBytes(int64(size))
		for b.Loop() {
			batch := make([]event.Event, len(evs))
			for i, bs := range evs {
				var err error
				if batch[i], err = sink.NewRawEvent(bs, true).Decode(); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.WriteBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		raw  func([]byte, bool) sink.RawEvent
	}{{"raw", sink.NewRawEvent}, {"raw-canonical", sink.NewCanonicalRawEvent}} {
		b.Run(c.name, func(b *testing.B) {
			s := Raw{open(b)}
			b.SetBytes(int64(size))
			batch := make([]sink.RawEvent, len(evs))
			for b.Loop() {
				for i, bs := range evs {
					batch[i] = c.raw(bs, true)
				}
				if err := s.WriteRawBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

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
	write := func(t *testing.T, format string, raw bool) []byte {
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
			want, got := write(t, format, false), write(t, format, true)
			if string(got) != string(want) {
				t.Fatalf("the raw path wrote\n%s\nWriteBatch\n%s", got, want)
			}
			if len(want) == 0 {
				t.Fatal("nothing written")
			}
		})
	}
}

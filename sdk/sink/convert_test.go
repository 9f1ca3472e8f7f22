package sink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
	"google.golang.org/protobuf/proto"
)

func benchSpec(i int) event.Event {
	name := fmt.Sprintf("Model_%06d", i)
	return event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
		Key:         spec.Key{"semantic_model", name},
		Deps:        []spec.Key{{"sales_db"}, {"warehouse", "dbo", "orders"}},
		Description: "Sales figures per region and month, refreshed nightly.",
		Metadata: map[string]spec.Metadata{
			"dagster-powerbi/web_url": spec.URL("https://app.powerbi.com/groups/0f1e/datasets/" + name),
			"dagster-powerbi/id":      spec.Text(fmt.Sprintf("8c3e61d2-%06d", i)),
			"dagster/column_schema": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{
				{Name: "region", Type: "String"}, {Name: "amount", Type: "Decimal", Description: "net"},
			}}),
			"rows":  spec.Int(int64(i)),
			"ratio": spec.Float(0.25),
			"live":  spec.Bool(true),
			"extra": spec.JSON(map[string]any{"a": []any{json.Number("1"), "x"}}),
		},
		Tags:    map[string]string{"dagster-powerbi/asset_type": "semantic_model"},
		Kinds:   []string{"powerbi", "semantic_model"},
		Owners:  []string{"owner@example.com"},
		Group:   "finance",
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: fmt.Sprintf("8c3e61d2-%06d", i), Name: name, WorkspaceID: "0f1e", WorkspaceName: "Finance"},
	}}
}

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 26, 6, 0, 4, 500, time.UTC)
	events := []event.Event{
		benchSpec(1),
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"bare"}}},
		{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"report", "Old"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r1"}}},
		{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "q", State: event.RefreshFailed, Model: spec.Identity{Type: spec.SemanticModel, ID: "m"},
			Key: spec.Key{"m"}, RefreshType: "Full", Enhanced: true, RequestedAt: at, StartedAt: at, EndedAt: at.Add(time.Minute), Error: "boom",
			Tables: []event.TableRefresh{{Table: "t", Partition: "p", Status: "Failed"}}}},
		// Self-contained events: what the host resolved travels with them.
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"report", "R"}, Deps: []spec.Key{{"semantic_model", "M"}}},
			Related: []event.Related{{Key: spec.Key{"semantic_model", "M"}, PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m", Name: "M", WorkspaceID: "w2"},
				WebURL: "https://app.powerbi.com/groups/w2/datasets/m", Tables: []string{"a", "b"}, TableNames: []string{"A", "b"}}}},
		{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "q2", State: event.RefreshStarted, Model: spec.Identity{Type: spec.SemanticModel, ID: "m"},
			ModelSpec: benchSpec(2).Spec}, Related: []event.Related{{Key: spec.Key{"ds"}, PowerBI: spec.Identity{Type: spec.DataSource, ID: "d"}}}},
		{Kind: event.KindSummary, Summary: &event.Summary{StartedAt: at, EndedAt: at, Workspaces: 2, Assets: map[string]int{"report": 3},
			Dropped: 1, Removed: 2, Problems: []string{"x"}, Requests: map[string]int64{"GET /groups": 4}}},
	}
	for i := range events {
		p, err := EventToProto(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		data, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		var back sinkpb.Event
		if err := proto.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		got, err := EventFromProto(&back)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(&events[i])
		have, _ := json.Marshal(&got)
		if string(want) != string(have) {
			t.Errorf("event %d changed:\n got %s\nwant %s", i, have, want)
		}
	}
	for _, bad := range []event.Event{
		{Kind: event.KindSpec},
		{Kind: "future"},
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"x"}, Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeInt, Value: "7"}}}},
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"x"}, Metadata: map[string]spec.Metadata{"m": spec.JSON(func() {})}}},
	} {
		if _, err := EventToProto(&bad); err == nil {
			t.Errorf("%+v converted", bad)
		}
	}
}

// BenchmarkHostSide is what pbisync spends per event: conversion and marshalling.
func BenchmarkHostSide(b *testing.B) {
	events := make([]event.Event, 500)
	for i := range events {
		events[i] = benchSpec(i)
	}
	for b.Loop() {
		batch := &sinkpb.Batch{Seq: 1}
		for i := range events {
			p, err := EventToProto(&events[i])
			if err != nil {
				b.Fatal(err)
			}
			batch.Events = append(batch.Events, p)
		}
		if _, err := proto.Marshal(&sinkpb.WriteRequest{Batch: batch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPluginSide is what a plugin spends per event before its sink sees it.
func BenchmarkPluginSide(b *testing.B) {
	batch := &sinkpb.Batch{Seq: 1}
	for i := range 500 {
		e := benchSpec(i)
		p, _ := EventToProto(&e)
		batch.Events = append(batch.Events, p)
	}
	data, _ := proto.Marshal(&sinkpb.WriteRequest{Batch: batch})
	for b.Loop() {
		var req sinkpb.WriteRequest
		if err := proto.Unmarshal(data, &req); err != nil {
			b.Fatal(err)
		}
		for _, pe := range req.Batch.Events {
			if _, err := EventFromProto(pe); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// TestRawJSONMetadata: a sink that takes json values raw gets the host's bytes, which
// encode as the decoded values do, in a refresh's model spec too; bad JSON is refused.
func TestRawJSONMetadata(t *testing.T) {
	for _, ev := range []event.Event{benchSpec(3), {Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "q", ModelSpec: benchSpec(4).Spec}}} {
		p, err := EventToProto(&ev)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := EventFromProtoRawJSON(p)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := EventFromProto(p)
		if err != nil {
			t.Fatal(err)
		}
		s := raw.Spec
		if s == nil {
			s = raw.Refresh.ModelSpec
		}
		if v, ok := s.Metadata["extra"].Value.(json.RawMessage); !ok || string(v) != `{"a":[1,"x"]}` {
			t.Errorf("json value %#v, want the host's bytes", s.Metadata["extra"].Value)
		}
		a, _ := json.Marshal(&raw)
		b, _ := json.Marshal(&decoded)
		if string(a) != string(b) {
			t.Errorf("raw and decoded events encode differently:\n%s\n%s", a, b)
		}
	}
	bad := &sinkpb.Event{Kind: &sinkpb.Event_Spec{Spec: &sinkpb.AssetSpec{Key: &sinkpb.Key{Parts: []string{"k"}},
		Metadata: map[string]*sinkpb.Metadata{"x": {Value: &sinkpb.Metadata_Json{Json: []byte(`{"a":`)}}}}}}
	e, err := EventFromProtoRawJSON(bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := json.Marshal(&e); err == nil {
		t.Error("an event with invalid raw JSON encodes")
	}
}

// FuzzRawJSONMetadata: whatever bytes a json metadata value holds, a sink that takes it
// raw can write it only when it is JSON, and then writes the value a decoding sink gets.
func FuzzRawJSONMetadata(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x"]}`, `[{"name":"t","columns":[{"n":"c"}]}]`, `"<&>"`, `1e400`, `{"a":1} x`, `nul`, ` [ ] `, `{"a":{"a":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &sinkpb.Event{Kind: &sinkpb.Event_Spec{Spec: &sinkpb.AssetSpec{Key: &sinkpb.Key{Parts: []string{"k"}},
			Metadata: map[string]*sinkpb.Metadata{"x": {Value: &sinkpb.Metadata_Json{Json: b}}}}}}
		raw, err := EventFromProtoRawJSON(p)
		if err != nil {
			t.Fatal(err)
		}
		var a, d any
		ra, err := json.Marshal(raw.Spec.Metadata["x"].Value)
		if err != nil {
			if json.Valid(b) {
				t.Fatalf("valid raw value %q does not encode: %v", b, err)
			}
			return
		}
		decoded, err := EventFromProto(p)
		if err != nil {
			t.Fatalf("raw %q encodes, decoding refused it: %v", b, err)
		}
		rd, err := json.Marshal(decoded.Spec.Metadata["x"].Value)
		if err != nil {
			t.Fatalf("decoded value %q does not encode: %v", b, err)
		}
		if numbers(ra, &a) != nil || numbers(rd, &d) != nil || !reflect.DeepEqual(a, d) {
			t.Fatalf("%q: raw encodes as %s, decoded as %s", b, ra, rd)
		}
	})
}

func numbers(b []byte, v *any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// TestEventToProtoShared: outputs that share an event share one conversion of it, even
// when they ask at once; an event without Shared is converted each time.
func TestEventToProtoShared(t *testing.T) {
	ev := benchSpec(5)
	ev.Shared = &event.Shared{}
	want, err := EventToProto(&ev)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]*sinkpb.Event, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			p, err := EventToProtoShared(&ev)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	wg.Wait()
	for i, p := range got {
		if p != got[0] {
			t.Fatalf("output %d got a conversion of its own", i)
		}
	}
	if !proto.Equal(got[0], want) {
		t.Error("the shared conversion differs from EventToProto's")
	}
	ev.Shared = nil
	a, _ := EventToProtoShared(&ev)
	b, _ := EventToProtoShared(&ev)
	if a == b || !proto.Equal(a, want) {
		t.Error("an event without Shared was not converted anew")
	}
}

// benchModel is a semantic model's spec of a large tenant: 8 tables of 30 columns (a
// column schema each), its tables and lineage as json values, text and counts.
func benchModel(i int) event.Event {
	e := benchSpec(i)
	var tables, lineage []any
	for t := range 8 {
		name := fmt.Sprintf("Table %d", t)
		var cols []spec.TableColumn
		var info, colLineage []any
		for c := range 30 {
			col := fmt.Sprintf("Column %d", c)
			cols = append(cols, spec.TableColumn{Name: col, Type: "string"})
			info = append(info, map[string]any{"name": col, "dataType": "string"})
			colLineage = append(colLineage, map[string]any{"column": col, "upstream": []any{map[string]any{"platform": "snowflake", "table": "T", "column": col}}})
		}
		e.Spec.Metadata[name+"_column_schema"] = spec.Schema(spec.TableSchema{Columns: cols})
		tables = append(tables, map[string]any{"name": name, "columns": info})
		lineage = append(lineage, map[string]any{"table": name, "upstream": []any{map[string]any{"platform": "snowflake", "table": "T"}}, "columns": colLineage})
	}
	e.Spec.Metadata["powerbi/tables"] = spec.JSON(tables)
	e.Spec.Metadata["powerbi/table_lineage"] = spec.JSON(lineage)
	return e
}

// BenchmarkHostSideModels is BenchmarkHostSide for batches of 50 model specs.
func BenchmarkHostSideModels(b *testing.B) {
	events := make([]event.Event, 50)
	for i := range events {
		events[i] = benchModel(i)
	}
	b.ReportAllocs()
	for b.Loop() {
		batch := &sinkpb.Batch{Seq: 1}
		for i := range events {
			p, err := EventToProto(&events[i])
			if err != nil {
				b.Fatal(err)
			}
			batch.Events = append(batch.Events, p)
		}
		if _, err := proto.Marshal(&sinkpb.WriteRequest{Batch: batch}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

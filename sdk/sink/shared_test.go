package sink

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"github.com/pbisync/pbisync/sdk/spec"
)

func TestBatchEventsField(t *testing.T) {
	fd := (&sinkpb.Batch{}).ProtoReflect().Descriptor().Fields().ByName("events")
	if fd == nil || fd.Number() != batchEventsField || fd.Kind() != protoreflect.MessageKind || !fd.IsList() {
		t.Fatalf("sinkpb.Batch.events is not field %d, a repeated message: %v", batchEventsField, fd)
	}
}

// TestEncodedBatch: a batch of events encoded once reads, on the plugin's side, as the
// batch of their messages does; the encoding is made once per shared event.
func TestEncodedBatch(t *testing.T) {
	events := []event.Event{
		benchSpec(1), benchModel(2), benchSpec(3),
		{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"report", "Old"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r1"}}},
		{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "q", State: event.RefreshCompleted, ModelSpec: benchModel(4).Spec}},
		{Kind: event.KindSummary, Summary: &event.Summary{Workspaces: 3, Assets: map[string]int{"report": 2}}},
	}
	for i := range events {
		if i%2 == 0 {
			events[i].Shared = &event.Shared{}
		}
	}
	plain := &sinkpb.Batch{Seq: 7}
	var enc []byte
	for i := range events {
		p, err := EventToProto(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		plain.Events = append(plain.Events, p)
		wire, err := MarshalEventShared(&events[i])
		if err != nil {
			t.Fatal(err)
		}
		n := len(enc)
		if enc = AppendBatchEvent(enc, wire); len(enc)-n != BatchEventSize(wire) {
			t.Fatalf("event %d: BatchEventSize %d, appended %d", i, BatchEventSize(wire), len(enc)-n)
		}
	}
	b := EncodedBatch(enc)
	b.Seq = 7
	if len(b.Events) != 0 {
		t.Fatalf("encoded batch holds %d messages", len(b.Events))
	}
	var got, want sinkpb.WriteRequest
	for _, c := range []struct {
		b  *sinkpb.Batch
		to *sinkpb.WriteRequest
	}{{b, &got}, {plain, &want}} {
		data, err := proto.Marshal(&sinkpb.WriteRequest{Batch: c.b})
		if err != nil {
			t.Fatal(err)
		}
		if err := proto.Unmarshal(data, c.to); err != nil {
			t.Fatal(err)
		}
	}
	if !proto.Equal(&got, &want) {
		t.Fatalf("encoded batch reads as\n%v\nwant\n%v", &got, &want)
	}
	for i := range events {
		e := &events[i]
		w1, err1 := MarshalEventShared(e)
		w2, err2 := MarshalEventShared(e)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if shared := e.Shared != nil; shared != (&w1[0] == &w2[0]) {
			t.Errorf("event %d (shared %v): encoded twice or shared without Shared", i, shared)
		}
		var p sinkpb.Event
		if err := proto.Unmarshal(w1, &p); err != nil || !proto.Equal(&p, plain.Events[i]) {
			t.Errorf("event %d: encoding reads as %v (%v)", i, &p, err)
		}
	}
	bad := event.Event{Kind: event.KindSpec, Shared: &event.Shared{}, Spec: &spec.AssetSpec{Key: spec.Key{"x"},
		Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeInt, Value: "7"}}}}
	if _, err := MarshalEventShared(&bad); err == nil {
		t.Error("bad event encoded")
	}
	if _, err := EventToProtoShared(&bad); err == nil {
		t.Error("bad event converted")
	}
}

// BenchmarkSharedEncoding is what the host spends on a batch of 50 model specs that go
// to the estate (which keeps each event encoded) and to one sink plugin: the event
// messages encoded twice (once for the estate, once in the plugin's batch) before,
// once now (MarshalEventShared, EncodedBatch).
func BenchmarkSharedEncoding(b *testing.B) {
	events := make([]event.Event, 50)
	for i := range events {
		events[i] = benchModel(i)
		// The json values pre-encoded, so that what is compared is the encoding of the
		// messages (the builder's own types append themselves about as fast).
		for name, m := range events[i].Spec.Metadata {
			if m.Type == spec.TypeJSON {
				raw, err := json.Marshal(m.Value)
				if err != nil {
					b.Fatal(err)
				}
				events[i].Spec.Metadata[name] = spec.JSON(json.RawMessage(raw))
			}
		}
	}
	fresh := func() {
		for i := range events {
			events[i].Shared = &event.Shared{}
		}
	}
	b.Run("encoded-twice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fresh()
			batch := &sinkpb.Batch{Seq: 1}
			for i := range events {
				p, err := EventToProtoShared(&events[i])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := proto.Marshal(p); err != nil { // the estate's copy
					b.Fatal(err)
				}
				batch.Events = append(batch.Events, p)
			}
			if _, err := proto.Marshal(&sinkpb.WriteRequest{Batch: batch}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoded-once", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			fresh()
			wires := make([][]byte, len(events))
			size := 0
			for i := range events {
				w, err := MarshalEventShared(&events[i]) // the estate's copy too
				if err != nil {
					b.Fatal(err)
				}
				wires[i], size = w, size+BatchEventSize(w)
			}
			enc := make([]byte, 0, size)
			for _, w := range wires {
				enc = AppendBatchEvent(enc, w)
			}
			if _, err := proto.Marshal(&sinkpb.WriteRequest{Batch: EncodedBatch(enc)}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

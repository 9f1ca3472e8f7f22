package estate

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
)

func keptEvent() event.Event {
	s := &spec.AssetSpec{
		Key: spec.Key{"powerbi", "semantic_model", "Sales"}, Deps: []spec.Key{{"warehouse", "sales"}},
		Description: "Sales model", Owners: []string{"ann@contoso.com"}, Tags: map[string]string{"team": "finance"},
		Kinds:    []string{"powerbi", "semantic model"},
		Metadata: map[string]spec.Metadata{"dagster-powerbi/web_url": {Type: spec.TypeURL, Value: "https://app.powerbi.com/x"}, "rows": {Type: spec.TypeInt, Value: int64(12)}},
		PowerBI:  spec.Identity{Type: spec.SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
	}
	return event.Event{Kind: event.KindSpec, Spec: s, Related: []event.Related{{Key: spec.Key{"warehouse", "sales"},
		PowerBI: spec.Identity{Type: spec.DataSource, ID: "d1"}, Tables: []string{"a", "b"}}}}
}

// TestKeptEventRoundTrip: what the estate keeps of an event is what the outputs were sent.
func TestKeptEventRoundTrip(t *testing.T) {
	ev := keptEvent()
	b, err := EncodeEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("kept event changed:\n got %+v\nwant %+v", got.Spec, ev.Spec)
	}
	rel := RelatedOf(ev.Spec)
	rb, err := EncodeRelated(rel)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := DecodeRelated(rb); err != nil || !reflect.DeepEqual(back, rel) {
		t.Errorf("kept related: %+v, %v; want %+v", back, err, rel)
	}
}

// TestDecodeEventRefuses: damaged or foreign blobs are errors, not panics or empty events.
func TestDecodeEventRefuses(t *testing.T) {
	rm := event.Event{Kind: event.KindRemoved, Removed: &event.Removed{PowerBI: spec.Identity{Type: spec.Report, ID: "r"}}}
	removed, err := EncodeEvent(&rm)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":         nil,
		"not s2":        []byte("{\"kind\":\"spec\"}"),
		"not a message": s2.Encode(nil, []byte{0xff, 0xff, 0xff}),
		"not a spec":    removed,
	} {
		if _, err := DecodeEvent(b); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	ev := keptEvent()
	b, _ := EncodeEvent(&ev)
	f.Add(b)
	f.Add([]byte{})
	rel, _ := EncodeRelated(RelatedOf(ev.Spec))
	f.Add(rel)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ev, err := DecodeEvent(b); err == nil {
			if ev.Spec == nil {
				t.Fatal("decoded a spec event without a spec")
			}
			if _, err := EncodeEvent(&ev); err != nil {
				t.Fatalf("a decoded event does not encode: %v", err)
			}
		}
		_, _ = DecodeRelated(b)
	})
}

// A kept event reads back as the bytes it was kept from, and what is not a whole spec
// event is refused.
func TestDecodeEventBytes(t *testing.T) {
	ev := event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"a"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r"}}}
	kept, err := EncodeEvent(&ev)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := DecodeEventBytes(kept)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sink.EventBytes(&ev)
	if err != nil || !bytes.Equal(raw, want) {
		t.Fatalf("got %x, want %x (%v)", raw, want, err)
	}
	removed, _ := sink.EventBytes(&event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"a"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r"}}})
	for name, b := range map[string][]byte{
		"not s2":    []byte("\xff\xff\xff"),
		"truncated": s2.Encode(nil, want[:len(want)-1]),
		"removed":   s2.Encode(nil, removed),
	} {
		if _, err := DecodeEventBytes(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

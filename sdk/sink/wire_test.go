package sink

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// protoBytes is what the sink protocol's generated code writes of an event: the
// reference appendSpecEvent must match byte for byte.
func protoBytes(e *event.Event) ([]byte, error) {
	p, err := EventToProto(e)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(p)
}

func sameAsProto(t testing.TB, e *event.Event) {
	t.Helper()
	want, wantErr := protoBytes(e)
	got, gotErr := appendSpecEvent(nil, e)
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("proto.Marshal: %v; appendSpecEvent: %v", wantErr, gotErr)
	}
	if wantErr != nil {
		return
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		from := max(0, i-16)
		t.Fatalf("appendSpecEvent wrote %d bytes, proto.Marshal %d; from byte %d:\n got %x\nwant %x",
			len(got), len(want), from, got[from:min(len(got), i+32)], want[from:min(len(want), i+32)])
	}
}

// TestSpecEventWireMatchesProto: the direct encoding of a spec event is the generated
// code's, for every field and metadata type, empty values, lengths that need one, two
// and three varint bytes, and the errors (wrong Go type, invalid UTF-8, a json value
// that does not encode).
func TestSpecEventWireMatchesProto(t *testing.T) {
	long := strings.Repeat("x", 200)
	huge := strings.Repeat("é", 40000)
	cols := make([]spec.TableColumn, 3000)
	for i := range cols {
		cols[i] = spec.TableColumn{Name: "c" + strings.Repeat("n", i%7), Type: "string"}
		if i%3 == 0 {
			cols[i].Description = "about " + long[:i%100]
		}
	}
	full := spec.AssetSpec{
		Key:         spec.Key{"ws", "model", long},
		Deps:        []spec.Key{{"a"}, {}, {"b", "c"}},
		Description: huge,
		Tags:        map[string]string{"z": "", "a": "1", "": "empty key", long: long},
		Kinds:       []string{"powerbi", "", "semantic_model"},
		Owners:      []string{"a@b.c"},
		Group:       "g",
		PowerBI:     spec.Identity{Type: spec.SemanticModel, ID: "id", Name: "n", WorkspaceID: "w", WorkspaceName: "W"},
		Metadata: map[string]spec.Metadata{
			"text": spec.Text(""), "url": spec.URL("https://x"), "int0": spec.Int(0), "intneg": spec.Int(-5),
			"int32": {Type: spec.TypeInt, Value: int32(7)}, "int64": {Type: spec.TypeInt, Value: int64(math.MaxInt64)},
			"intf": {Type: spec.TypeInt, Value: 3.9}, "float0": spec.Float(0), "floatneg": spec.Float(-1.5),
			"floati": {Type: spec.TypeFloat, Value: 2}, "floati64": {Type: spec.TypeFloat, Value: int64(-2)},
			"nan": spec.Float(math.NaN()), "boolf": spec.Bool(false), "boolt": spec.Bool(true),
			"json":    spec.JSON(map[string]any{"b": []any{1, "<x>", nil, true}, "a": json.Number("1.5e3")}),
			"jsonraw": spec.JSON(json.RawMessage(`{"k": [1, 2]}`)), "jsonnull": spec.JSON(nil),
			"jsonbig": spec.JSON(strings.Repeat("y", 70000)),
			"schema":  spec.Schema(spec.TableSchema{Columns: cols}), "schema0": spec.Schema(spec.TableSchema{}),
			"schema1": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{}}}),
		},
	}
	rel := []event.Related{
		{Key: spec.Key{"m"}, PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m"}, WebURL: "u", Tables: []string{"t", ""}, TableNames: []string{"T"}},
		{},
	}
	for name, e := range map[string]event.Event{
		"empty":   {Kind: event.KindSpec, Spec: &spec.AssetSpec{}},
		"key":     {Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"a"}}},
		"full":    {Kind: event.KindSpec, Spec: &full},
		"related": {Kind: event.KindSpec, Spec: &full, Related: rel},
	} {
		t.Run(name, func(t *testing.T) { sameAsProto(t, &e) })
	}
	bad := map[string]spec.AssetSpec{
		"text of a number":   {Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeText, Value: 1}}},
		"int of a string":    {Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeInt, Value: "1"}}},
		"float of a bool":    {Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeFloat, Value: true}}},
		"bool of a string":   {Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeBool, Value: "true"}}},
		"schema of a map":    {Metadata: map[string]spec.Metadata{"m": {Type: spec.TypeTableSchema, Value: map[string]any{}}}},
		"unknown type":       {Metadata: map[string]spec.Metadata{"m": {Type: "colour", Value: "red"}}},
		"json of a channel":  {Metadata: map[string]spec.Metadata{"m": spec.JSON(make(chan int))}},
		"json of bad raw":    {Metadata: map[string]spec.Metadata{"m": spec.JSON(json.RawMessage(`{`))}},
		"bad utf-8 key part": {Key: spec.Key{"a\xff"}},
		"bad utf-8 tag":      {Tags: map[string]string{"t": "\xc3"}},
		"bad utf-8 meta key": {Metadata: map[string]spec.Metadata{"\xff": spec.Int(1)}},
		"bad utf-8 text":     {Metadata: map[string]spec.Metadata{"m": spec.Text("\xff")}},
		"bad utf-8 column":   {Metadata: map[string]spec.Metadata{"m": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "\xff"}}})}},
		"bad utf-8 identity": {PowerBI: spec.Identity{Name: "\xff"}},
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			e := event.Event{Kind: event.KindSpec, Spec: &s}
			sameAsProto(t, &e)
			if _, err := appendSpecEvent(nil, &e); err == nil {
				t.Fatal("no error")
			}
		})
	}
	// Invalid UTF-8 in a json value is encoding/json's to replace, not an error.
	e := event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Metadata: map[string]spec.Metadata{"m": spec.JSON("\xff")}}}
	sameAsProto(t, &e)
}

// FuzzSpecEventWire builds spec events from the input's strings and numbers and checks
// the direct encoding against the generated code's.
func FuzzSpecEventWire(f *testing.F) {
	f.Add("key", "a\xffb", "text", strings.Repeat("long", 40), int64(-1), 0.5, true)
	f.Add("", "", "", "", int64(0), 0.0, false)
	f.Fuzz(func(t *testing.T, a, b, c, d string, n int64, x float64, flag bool) {
		cols := []spec.TableColumn{{Name: a, Type: b, Description: c}, {}, {Name: d}}
		s := spec.AssetSpec{
			Key: spec.Key{a, b}, Deps: []spec.Key{{c}, {d, a}}, Description: d,
			Tags: map[string]string{a: b, c: d}, Kinds: []string{c}, Owners: []string{d, a}, Group: b,
			PowerBI: spec.Identity{Type: spec.ContentType(a), ID: b, Name: c, WorkspaceID: d},
			Metadata: map[string]spec.Metadata{
				a: spec.Text(b), c: spec.URL(d), "n" + a: spec.Int(n), "x" + b: spec.Float(x), "f" + c: spec.Bool(flag),
				"j" + d: spec.JSON(map[string]any{a: []any{b, n, x, flag}, c: json.RawMessage(d)}),
				"s" + a: spec.Schema(spec.TableSchema{Columns: cols}),
			},
		}
		e := event.Event{Kind: event.KindSpec, Spec: &s, Related: []event.Related{{Key: spec.Key{d}, WebURL: a, Tables: []string{b, c}}}}
		sameAsProto(t, &e)
	})
}

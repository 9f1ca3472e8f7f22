package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// specJSON is the reference for AppendSpecJSON: json.Marshal of the spec with
// escapeHTML, else an Encoder without HTML escaping on its fields (AssetSpec's own
// MarshalJSON escapes whatever the encoder says).
func specJSON(t testing.TB, s *spec.AssetSpec, escapeHTML bool) string {
	t.Helper()
	if escapeHTML {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	type plain spec.AssetSpec
	p := plain(s.EmptyForNil())
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// sameSpecJSON checks AppendSpecJSON on an Event message: where it writes the spec, the
// event decodes to a spec event whose JSON is what it wrote, after what dst held.
func sameSpecJSON(t testing.TB, b []byte) (written bool) {
	t.Helper()
	for _, esc := range []bool{false, true} {
		got, ok := RawEvent{b: b, rawJSON: true}.AppendSpecJSON([]byte("prefix"), esc)
		if !ok {
			if string(got) != "prefix" {
				t.Fatalf("escapeHTML %v: refused, but changed dst to %q", esc, got)
			}
			continue
		}
		written = true
		e, err := decodeEvent(b, true)
		if err != nil || e.Kind != event.KindSpec || e.Spec == nil {
			t.Fatalf("escapeHTML %v: written as a spec, but decodes to %v, %v", esc, e.Kind, err)
		}
		if want := "prefix" + specJSON(t, e.Spec, esc); string(got) != want {
			t.Fatalf("escapeHTML %v: wrote\n%s\nwant\n%s", esc, got, want)
		}
	}
	return written
}

// TestAppendSpecJSON: a spec event as the host writes it is written straight from its
// bytes, as encoding/json writes the decoded spec, with and without HTML escapes;
// what it leaves (another kind of event, forms the host does not write, values encoding/
// json would write otherwise) it leaves to Decode, with dst as it was.
func TestAppendSpecJSON(t *testing.T) {
	cols := []spec.TableColumn{{Name: "a<b>", Type: "string", Description: "d&e"}, {}, {Name: "b\u2028"}}
	full := spec.AssetSpec{
		Key: spec.Key{"ws", "m<"}, Deps: []spec.Key{{"a"}, {}, {"b", "c"}}, Description: "about <html> & \u2029",
		Tags: map[string]string{"z": "", "a": "1", "": "e", "<": ">"}, Kinds: []string{"powerbi", ""}, Owners: []string{"o"}, Group: "g",
		PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "id", Name: "n", WorkspaceID: "w", WorkspaceName: "W"},
		Metadata: map[string]spec.Metadata{
			"text": spec.Text(""), "url": spec.URL("u&"), "int": spec.Int(-5), "float": spec.Float(1.5), "big": spec.Float(1e21), "small": spec.Float(-1e-7),
			"bool": spec.Bool(true), "json": spec.JSON(map[string]any{"b": []any{1, "<x>", nil}}), "schema": spec.Schema(spec.TableSchema{Columns: cols}),
			"schema0": spec.Schema(spec.TableSchema{}), "max": spec.Int(math.MinInt64),
		},
	}
	nan := full
	nan.Metadata = map[string]spec.Metadata{"nan": spec.Float(math.NaN())}
	for _, c := range []struct {
		name string
		e    event.Event
		fast bool // written from its bytes
	}{
		{"empty spec", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{}}, true},
		{"full spec", event.Event{Kind: event.KindSpec, Spec: &full}, true},
		{"with related", event.Event{Kind: event.KindSpec, Spec: &full, Related: []event.Related{{Key: spec.Key{"m"}, WebURL: "u", Tables: []string{"t", ""}}, {}}}, true},
		{"a NaN", event.Event{Kind: event.KindSpec, Spec: &nan}, false},
		{"removed", event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"r"}}}, false},
		{"summary", event.Event{Kind: event.KindSummary, Summary: &event.Summary{Workspaces: 3}}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := EventBytes(&c.e)
			if err != nil {
				t.Fatal(err)
			}
			if got := sameSpecJSON(t, b); got != c.fast {
				t.Errorf("written from its bytes: %v, want %v", got, c.fast)
			}
			// A sink that has json values decoded is given them so: left to Decode.
			if _, ok := (RawEvent{b: b}).AppendSpecJSON(nil, false); ok {
				t.Error("written for a sink without RawJSONMetadata")
			}
		})
	}
	for name, c := range map[string]struct {
		b    []byte
		fast bool
	}{
		"metadata out of order": {pbMsg(nil, 1, append(pbMeta("b", pbStr(nil, 1, "x")), pbMeta("a", pbStr(nil, 1, "y"))...)), false},
		"metadata twice":        {pbMsg(nil, 1, append(pbMeta("m", pbStr(nil, 1, "a")), pbMeta("m", pbStr(nil, 2, "b"))...)), false},
		"tags out of order":     {pbMsg(nil, 1, append(pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "1")), pbMsg(nil, 5, pbStr(pbStr(nil, 1, "j"), 2, "2"))...)), false},
		"tag twice":             {pbMsg(nil, 1, append(pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "1")), pbMsg(nil, 5, pbStr(pbStr(nil, 1, "k"), 2, "2"))...)), false},
		"json not JSON":         {pbMsg(nil, 1, pbMeta("m", pbStr(nil, 6, "{"))), false},
		"json not compact":      {pbMsg(nil, 1, pbMeta("m", pbStr(nil, 6, `{ "a" : 1 }`))), true},
		"invalid utf-8":         {pbMsg(nil, 1, pbStr(nil, 3, "\xff")), false},
		"invalid utf-8 column":  {pbMsg(nil, 1, pbMeta("m", pbMsg(nil, 7, pbMsg(nil, 1, pbStr(nil, 1, "\xc3"))))), false},
		"fields out of order":   {pbMsg(nil, 1, append(pbStr(nil, 8, "g"), pbStr(nil, 3, "d")...)), true},
		"unknown fields":        {pbMsg(nil, 1, append(pbStr(nil, 3, "a"), protowire.AppendVarint(pbTag(nil, 40, protowire.VarintType), 7)...)), true},
		"wrong wire type":       {pbMsg(nil, 1, protowire.AppendVarint(pbTag(nil, 3, protowire.VarintType), 1)), false},
		"bool 2":                {pbMsg(nil, 1, pbMeta("m", protowire.AppendVarint(pbTag(nil, 5, protowire.VarintType), 2))), true},
		"metadata no value":     {pbMsg(nil, 1, pbMeta("m", nil)), false},
		"spec then removed":     {pbMsg(pbMsg(nil, 1, nil), 2, nil), false},
		"bad related":           {pbMsg(pbMsg(nil, 1, nil), 5, pbStr(nil, 3, "\xff")), false},
		"related key twice":     {pbMsg(pbMsg(nil, 1, nil), 5, pbMsg(pbMsg(nil, 1, nil), 1, nil)), false},
		"related fine":          {pbMsg(pbMsg(nil, 1, nil), 5, pbMsg(pbStr(pbStr(nil, 4, "t"), 3, "u"), 1, pbStr(nil, 1, "k"))), true},
	} {
		t.Run(name, func(t *testing.T) {
			if got := sameSpecJSON(t, c.b); got != c.fast {
				t.Errorf("written from its bytes: %v, want %v", got, c.fast)
			}
		})
	}
}

// FuzzAppendSpecJSON: whatever AppendSpecJSON writes of any bytes is the JSON of the
// spec they decode to.
func FuzzAppendSpecJSON(f *testing.F) {
	for _, b := range encodedSpecEvents(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameSpecJSON(t, b)
		// The related check that spares the strings agrees with the reader's.
		var rel event.Related
		if got, want := validRelated(b), readRelated(b, &rel); got != want {
			t.Fatalf("validRelated %v, readRelated %v", got, want)
		}
	})
}

// rawKeeper is a RawBatchWriter that keeps the events it is sent, decoded.
type rawKeeper struct {
	keeper
	raw, canonical int
}

func (k *rawKeeper) WriteRawBatch(_ context.Context, evs []RawEvent) error {
	for _, e := range evs {
		if e.b != nil {
			k.raw++
		}
		if e.canonical {
			k.canonical++
		}
		d, err := e.Decode()
		if err != nil {
			return err
		}
		k.events = append(k.events, d)
	}
	return nil
}

// hostJSONIsCanonical checks what ConfigureRequest.json_canonical promises of the host's
// encoding: each json value EventBytes writes for s is one JSON value that encoding/json
// would copy as it is, HTML escapes and all, so the spec is written the same whether
// its json values are copied unchecked or checked. It returns false when s cannot be
// encoded.
func hostJSONIsCanonical(t testing.TB, s *spec.AssetSpec) bool {
	t.Helper()
	b, err := EventBytes(&event.Event{Kind: event.KindSpec, Spec: s})
	if err != nil {
		return false
	}
	e, err := decodeEvent(b, true)
	if err != nil {
		t.Fatalf("decoding what EventBytes wrote: %v", err)
	}
	for name, m := range e.Spec.Metadata {
		if m.Type != spec.TypeJSON {
			continue
		}
		raw, ok := m.Value.(json.RawMessage)
		if !ok {
			t.Fatalf("json value %q decoded as %T", name, m.Value)
		}
		if got, ok := jsonenc.AppendRaw(nil, raw, true); !ok || !bytes.Equal(got, raw) {
			t.Fatalf("json value %q is not as json.Marshal writes it: %q", name, raw)
		}
	}
	for _, esc := range []bool{false, true} {
		checked, ok1 := RawEvent{b: b, rawJSON: true}.AppendSpecJSON(nil, esc)
		copied, ok2 := RawEvent{b: b, rawJSON: true, canonical: true}.AppendSpecJSON(nil, esc)
		if ok1 != ok2 || !bytes.Equal(checked, copied) {
			t.Fatalf("escapeHTML %v: checked (%v)\n%s\ncopied (%v)\n%s", esc, ok1, checked, ok2, copied)
		}
	}
	return true
}

// TestHostJSONIsCanonical: json values as translators and the builder give them (raw
// JSON with spaces and HTML, Go values, the builder's typed lists) reach the wire in
// json.Marshal's form.
func TestHostJSONIsCanonical(t *testing.T) {
	values := []any{
		json.RawMessage(` { "a" : [1, 2.50, "<b>&\u2028"] , "c":null } `),
		json.RawMessage(`"x\u003cy"`),
		json.RawMessage(`1e400`), // not a float64: json.Marshal copies the number as written
		map[string]any{"<": []any{1.5, "&", nil, true}, "z": map[string]any{}},
		[]string{"a<b", "\u2029"},
		"plain <text> & more",
		3.25,
	}
	for i, v := range values {
		s := &spec.AssetSpec{Key: spec.Key{"k"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r"},
			Metadata: map[string]spec.Metadata{"v": spec.JSON(v)}}
		if !hostJSONIsCanonical(t, s) {
			t.Fatalf("value %d (%T) could not be encoded", i, v)
		}
	}
}

// FuzzHostJSONIsCanonical: any JSON text, as a translator's raw value or decoded into
// Go values, reaches the wire in json.Marshal's form.
func FuzzHostJSONIsCanonical(f *testing.F) {
	for _, seed := range []string{`{"a": [1, "<>"]}`, ` "\u2028" `, `[1e400, -0, 0.1]`, `{"":{"":[]}}`, `"\ud800"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if !json.Valid(text) {
			return
		}
		meta := map[string]spec.Metadata{"raw": spec.JSON(json.RawMessage(text))}
		var decoded any
		if json.Unmarshal(text, &decoded) == nil { // not for a number past float64
			meta["decoded"] = spec.JSON(decoded)
		}
		d := json.NewDecoder(bytes.NewReader(text))
		d.UseNumber()
		var numbers any
		if d.Decode(&numbers) == nil {
			meta["numbers"] = spec.JSON(numbers)
		}
		s := &spec.AssetSpec{Key: spec.Key{"k"}, PowerBI: spec.Identity{Type: spec.Report, ID: "r"}, Metadata: meta}
		if !hostJSONIsCanonical(t, s) {
			t.Fatalf("valid JSON %q could not be encoded", text)
		}
	})
}

package jsonl

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinktest"
	"github.com/pbisync/pbisync/sdk/spec"
)

// encodingJSONLine is the line as the sink wrote every one before appendLine: an
// Encoder without HTML escaping of toLine's value.
func encodingJSONLine(e *event.Event, specsOnly bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	var ls lineSpec
	le := toLine(e, &ls)
	var v any = &le
	if specsOnly {
		v = le.Spec
	}
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// sameLine checks appendLine against encoding/json in both formats; fast says that
// appendLine must write the line itself.
func sameLine(t *testing.T, e *event.Event, fast bool) {
	t.Helper()
	for _, specsOnly := range []bool{false, true} {
		want, err := encodingJSONLine(e, specsOnly)
		got, ok := appendLine([]byte("x"), e, specsOnly)
		switch {
		case string(got[:1]) != "x":
			t.Fatalf("specs %v: prefix lost", specsOnly)
		case ok && err != nil:
			t.Fatalf("specs %v: encoding/json fails (%v), appendLine wrote %q", specsOnly, err, got[1:])
		case ok && !bytes.Equal(got[1:], want):
			t.Fatalf("specs %v:\n got %s\nwant %s", specsOnly, got[1:], want)
		case !ok && len(got) != 1:
			t.Fatalf("specs %v: refused but appended %q", specsOnly, got[1:])
		case !ok && fast && err == nil && (specsOnly || e.Summary == nil):
			t.Fatalf("specs %v: left to encoding/json, which writes %s", specsOnly, want)
		}
	}
}

// raw is the sample as the plugin gets it: through the sink protocol, json values raw.
func rawSample(t testing.TB) []event.Event {
	var out []event.Event
	for _, e := range sinktest.Sample() {
		p, err := sink.EventToProto(&e)
		if err != nil {
			t.Fatal(err)
		}
		r, err := sink.EventFromProtoRawJSON(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestAppendLineMatchesEncodingJSON(t *testing.T) {
	for i, e := range append(sinktest.Sample(), rawSample(t)...) {
		sameLine(t, &e, e.Kind != event.KindSummary)
		if t.Failed() {
			t.Fatalf("sample event %d", i)
		}
	}
	id := spec.Identity{Type: spec.Report, ID: "r<1>", Name: "a&b\u2028", WorkspaceID: "w", WorkspaceName: "\xff"}
	tests := []struct {
		name string
		e    event.Event
		fast bool
	}{
		{"empty spec", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{}}, true},
		{"nil spec", event.Event{Kind: event.KindSpec}, true},
		{"everything", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
			Key: spec.Key{"a<b", "c&d"}, Deps: []spec.Key{nil, {}, {"x\ny"}}, Description: "<html> \u2029 \x01",
			Metadata: map[string]spec.Metadata{
				"z": spec.Text("t"), "a": spec.URL("http://x?a=1&b=<2>"), "i": spec.Int(-7), "f": spec.Float(1e-7),
				"f2": spec.Float(123.5), "b": spec.Bool(true), "nil": {Type: spec.TypeJSON},
				"s":  spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "c", Type: "int"}, {Name: "d", Type: "s", Description: "<d>"}}}),
				"s0": spec.Schema(spec.TableSchema{}), "s1": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{}}),
				"j":  spec.JSON(json.RawMessage(`{"a":["<b>",1.5e3,null,true]}`)),
				"js": spec.JSON(json.RawMessage(" [ 1 ,\n2 ] ")),
				"jv": spec.JSON(map[string]any{"k": []any{"v", json.Number("2"), 3.0}}),
				"jl": spec.JSON([]string{"p", "q"}),
				"":   spec.Text("empty name"), "É": spec.Text("é"),
			},
			Tags: map[string]string{"b": "<2>", "a": "1"}, Kinds: []string{"powerbi"}, Owners: []string{},
			Group: "g&h", PowerBI: id,
		}, Related: []event.Related{{Key: nil, PowerBI: id}, {Key: spec.Key{"k"}, WebURL: "u", Tables: []string{"t"}, TableNames: []string{"T"}}, {Tables: []string{}}}}, true},
		{"removed", event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{"gone"}, PowerBI: id}}, true},
		{"removed nil key", event.Event{Kind: event.KindRemoved, Removed: &event.Removed{}}, true},
		{"refresh", event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: "q", State: event.RefreshCompleted}}, true},
		{"refresh everything", event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{
			RequestID: "q<1>", State: event.RefreshFailed, Model: id, Key: spec.Key{"m&m"}, RefreshType: "Full", Enhanced: true,
			RequestedAt: time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC), StartedAt: time.Date(2026, 11, 30, 6, 0, 1, 500, time.FixedZone("x", 3600)),
			EndedAt: time.Date(2026, 11, 30, 6, 5, 0, 0, time.Local), Error: "failed <badly> & \u2028 \xff",
			Tables: []event.TableRefresh{{Table: "T<1>", Status: "Completed"}, {Table: "U", Partition: "P&", Status: "Failed"}},
			ModelSpec: &spec.AssetSpec{Key: spec.Key{"m<&>"}, Description: "<d>", Tags: map[string]string{"<": ">"},
				Metadata: map[string]spec.Metadata{"t": spec.Text("a<b>&c"), "j": spec.JSON(json.RawMessage(`{"a":"\u003c"}`)),
					"s": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: "<c>", Type: "&"}}})}, PowerBI: id},
		}, Related: []event.Related{{Key: spec.Key{"k<"}, PowerBI: id}}}, true},
		{"refresh empty key", event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{Key: spec.Key{}, Tables: []event.TableRefresh{}}}, true},
		{"refresh model spec raw with html", event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{ModelSpec: &spec.AssetSpec{
			Metadata: map[string]spec.Metadata{"j": spec.JSON(json.RawMessage(`"<b>"`))}}}}, false}, // escaping changes it
		{"refresh year 10000", event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{EndedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}}, false},
		{"summary", event.Event{Kind: event.KindSummary, Summary: &event.Summary{Workspaces: 3}}, false},
		{"bad raw json", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Metadata: map[string]spec.Metadata{"j": spec.JSON(json.RawMessage(`{"a":`))}}}, false},
		{"NaN", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Metadata: map[string]spec.Metadata{"f": spec.Float(math.NaN())}}}, false},
		{"other type", event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{Metadata: map[string]spec.Metadata{"j": spec.JSON(struct{ A string }{"<a>"})}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { sameLine(t, &tt.e, tt.fast) })
	}
}

// TestWriteBatchBadValue: a json value that is not JSON fails the batch with
// encoding/json's error, naming the event and the asset; nothing of the batch is written.
func TestWriteBatchBadValue(t *testing.T) {
	var out bytes.Buffer
	evs := []event.Event{
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"good"}}},
		{Kind: event.KindSpec, Spec: &spec.AssetSpec{Key: spec.Key{"bad"}, Metadata: map[string]spec.Metadata{"j": spec.JSON(json.RawMessage(`{"a":`))}}},
	}
	s := New()
	if err := s.Configure(t.Context(), sink.Config{Raw: []byte(`{}`), Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if err := s.Begin(t.Context(), sink.Run{Kind: sink.RunSync, ID: "r"}); err != nil {
		t.Fatal(err)
	}
	err := s.WriteBatch(t.Context(), evs)
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("event 1 (asset bad)")) || !bytes.Contains([]byte(err.Error()), []byte("unexpected end of JSON input")) {
		t.Fatalf("error %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("wrote %q", out.String())
	}
}

// FuzzAppendLine builds events from the fuzzer's strings and bytes (as names, keys,
// tags, text, raw json metadata and the value it decodes to) and checks appendLine
// against encoding/json.
func FuzzAppendLine(f *testing.F) {
	f.Add("name", "<tag>&\u2028", []byte(`{"a":[1,"x"]}`), 1.5, int64(3))
	f.Add("\xff\x00", "", []byte(" [ 1 ] "), 1e-9, int64(-1))
	f.Add("", "é", []byte(`"\u00e9<"`), 1e21, int64(0))
	f.Fuzz(func(t *testing.T, s1, s2 string, raw []byte, x float64, n int64) {
		var decoded any
		_ = json.Unmarshal(raw, &decoded)
		id := spec.Identity{Type: spec.ContentType(s1), ID: s2, Name: s1, WorkspaceName: s2}
		e := event.Event{Kind: event.Kind(s1), Spec: &spec.AssetSpec{
			Key: spec.Key{s1, s2}, Deps: []spec.Key{{s2}}, Description: s2,
			Metadata: map[string]spec.Metadata{
				s1: spec.Text(s2), s2: spec.JSON(json.RawMessage(raw)), "decoded": spec.JSON(decoded),
				"f": spec.Float(x), "i": spec.Int(n), "s": spec.Schema(spec.TableSchema{Columns: []spec.TableColumn{{Name: s1, Type: s2, Description: s1}}}),
			},
			Tags: map[string]string{s1: s2, s2: s1}, Kinds: []string{s1}, Group: s2, PowerBI: id,
		}, Related: []event.Related{{Key: spec.Key{s2}, PowerBI: id, WebURL: s1, Tables: []string{s2}}}}
		sameLine(t, &e, false)
		if json.Valid(raw) && !math.IsNaN(x) && !math.IsInf(x, 0) {
			sameLine(t, &e, true)
		}
		rm := event.Event{Kind: event.KindRemoved, Removed: &event.Removed{Key: spec.Key{s1}, PowerBI: id}}
		sameLine(t, &rm, true)
		rf := event.Event{Kind: event.KindRefresh, Refresh: &event.Refresh{RequestID: s1, State: event.RefreshState(s2), Model: id,
			Key: spec.Key{s2}, RefreshType: s1, Error: s2, StartedAt: time.Unix(n, int64(x)).UTC(),
			Tables: []event.TableRefresh{{Table: s1, Partition: s2, Status: s1}}, ModelSpec: e.Spec}, Related: e.Related}
		sameLine(t, &rf, false)
	})
}

// benchModels are spec events shaped like a large tenant's semantic models as the
// plugin gets them: json metadata values raw (tables, measures, table lineage), column
// schemas, text and counts.
func benchModels(n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		var tables, lineage, measures []any
		md := map[string]spec.Metadata{}
		for t := range 8 {
			name := "Table " + string(rune('A'+t))
			var cols, colLineage []any
			var schema []spec.TableColumn
			for c := range 30 {
				col := "Column " + string(rune('a'+c%26)) + string(rune('0'+c/26))
				cols = append(cols, map[string]any{"name": col, "dataType": "string"})
				colLineage = append(colLineage, map[string]any{"column": col, "upstream": []any{map[string]any{"platform": "snowflake", "database": "SALES", "schema": "PUBLIC", "table": "T", "column": col}}})
				schema = append(schema, spec.TableColumn{Name: col, Type: "string"})
			}
			tables = append(tables, map[string]any{"name": name, "source": "let\n    Source = Snowflake.Databases(\"acme\"),\n    T = Source{[Name=\"SALES\"]}[Data]\nin\n    T", "columns": cols})
			lineage = append(lineage, map[string]any{"table": name, "upstream": []any{map[string]any{"platform": "snowflake", "server": "acme", "database": "SALES", "schema": "PUBLIC", "table": "T"}}, "columns": colLineage})
			measures = append(measures, map[string]any{"table": name, "name": "Total", "expression": "SUM('" + name + "'[Column a0])", "references": []any{"'" + name + "'[Column a0]"}})
			md[name+"_column_schema"] = spec.Schema(spec.TableSchema{Columns: schema})
		}
		for name, v := range map[string]any{"powerbi/tables": tables, "powerbi/table_lineage": lineage, "powerbi/measures": measures} {
			b, _ := json.Marshal(v)
			md[name] = spec.JSON(json.RawMessage(b))
		}
		md["dagster-powerbi/web_url"] = spec.URL("https://app.powerbi.com/groups/w/datasets/m")
		md["powerbi/table_count"] = spec.Int(8)
		md["powerbi/name"] = spec.Text("Model")
		evs[i] = event.Event{Kind: event.KindSpec, Spec: &spec.AssetSpec{
			Key: spec.Key{"semantic_model", "Model"}, Deps: []spec.Key{{"snowflake", "sales", "public", "t"}},
			Metadata: md, Tags: map[string]string{"dagster/storage_kind": "powerbi"}, Kinds: []string{"powerbi", "semantic model"}, Owners: []string{"a@b.c"},
			PowerBI: spec.Identity{Type: spec.SemanticModel, ID: "m", Name: "Model", WorkspaceID: "w", WorkspaceName: "Finance"},
		}}
	}
	return evs
}

// BenchmarkLines compares the line writer with the encoding/json line it replaced, on
// model specs in the specs format (what pbisync sync --snapshot writes).
func BenchmarkLines(b *testing.B) {
	evs := benchModels(100)
	var size int
	for i := range evs {
		l, _ := appendLine(nil, &evs[i], true)
		size += len(l)
	}
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.SetBytes(int64(size))
		for b.Loop() {
			buf.Reset()
			for i := range evs {
				var ls lineSpec
				le := toLine(&evs[i], &ls)
				if err := enc.Encode(le.Spec); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("appendLine", func(b *testing.B) {
		var line []byte
		b.SetBytes(int64(size))
		for b.Loop() {
			line = line[:0]
			for i := range evs {
				var ok bool
				if line, ok = appendLine(line, &evs[i], true); !ok {
					b.Fatal("left to encoding/json")
				}
			}
		}
	})
}

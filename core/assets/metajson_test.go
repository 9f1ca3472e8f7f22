package assets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// sameAsMarshal checks that jsonenc writes v as json.Marshal does, itself (without
// falling back to encoding/json) when fast.
func sameAsMarshal(t *testing.T, what string, v any, fast bool) {
	t.Helper()
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, err := jsonenc.Marshal(v)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s (%T):\n got %s (%v)\nwant %s", what, v, got, err, want)
	}
	if _, ok := jsonenc.Append(nil, v, true); fast && !ok {
		t.Fatalf("%s: a %T is left to encoding/json", what, v)
	}
}

// TestBuiltJSONMetadata: every json metadata value the builder makes, from the golden
// cases and a synthetic tenant with lineage, encodes as json.Marshal does, and the
// large ones (table lineage, tables, measures, lists of names) without encoding/json.
func TestBuiltJSONMetadata(t *testing.T) {
	var snaps []*snapshot.Snapshot
	dirs, _ := filepath.Glob("testdata/*")
	for _, dir := range dirs {
		if m, _ := filepath.Glob(filepath.Join(dir, "batch-*.json")); len(m) > 0 {
			_, s := loadBatches(t, dir)
			snaps = append(snaps, s...)
		}
	}
	synthetic := syntheticTenant(2, 1)
	sm := &synthetic[0].Workspaces[0].SemanticModels[0]
	sm.Tables[0].Measures = []snapshot.Measure{{Name: "Total <&>", Expression: "SUM('Table 0'[Column1])", Description: "d"}}
	sm.Tables[1].IsHidden, sm.Tables[1].Columns[0].IsHidden = true, true
	sm.Lineage = &snapshot.Lineage{Tables: []snapshot.TableLineage{
		{Table: "Table 0", Upstream: []snapshot.UpstreamTable{{Platform: "snowflake", Server: "acme", Database: "EDW", Schema: "S", Table: "T"}},
			Columns: []snapshot.ColumnLineage{{Column: "Column1", Upstream: []snapshot.UpstreamColumn{{UpstreamTable: snapshot.UpstreamTable{Platform: "snowflake", Table: "T", Unknown: "server"}, Column: "C1"}}}, {Column: "Computed"}}},
		{Table: "Table 1", Unresolved: []string{"a <reason>"}},
		{Table: "Table 2", Upstream: []snapshot.UpstreamTable{{Platform: "mssql", Table: "dbo.x"}}, Unresolved: []string{"partly"}},
	}}
	snaps = append(snaps, synthetic...)

	types := map[string]string{}
	b := NewBuilder(Options{})
	check := func(recs []*spec.AssetSpec) {
		for _, s := range recs {
			for name, m := range s.Metadata {
				if m.Type != spec.TypeJSON {
					continue
				}
				types[name] = fmt.Sprintf("%T", m.Value)
				_, own := m.Value.(jsonenc.Appender)
				sameAsMarshal(t, s.PowerBI.String()+" "+name, m.Value, own || name == "powerbi/data_source_ids" || name == "powerbi/page_names")
			}
		}
	}
	for _, s := range snaps {
		recs, _ := b.Add(s)
		check(specsOf(recs))
	}
	recs, _ := b.Flush()
	check(specsOf(recs))
	for name, want := range map[string]string{
		"powerbi/table_lineage": "assets.TableLineages", "powerbi/tables": "assets.TableInfos", "powerbi/measures": "assets.MeasureInfos",
	} {
		if types[name] != want {
			t.Errorf("%s is a %s, want %s", name, types[name], want)
		}
	}
	t.Logf("json metadata value types: %v", types)
}

func specsOf(recs []record.Record) []*spec.AssetSpec {
	out := make([]*spec.AssetSpec, len(recs))
	for i := range recs {
		out[i] = &recs[i].Spec
	}
	return out
}

func TestMetadataAppendersEdgeCases(t *testing.T) {
	for i, v := range []any{
		TableLineages(nil), TableLineages{}, TableLineages{{}}, TableLineages{{Table: "\xff\u2028", Upstream: []snapshot.UpstreamTable{}, Columns: []snapshot.ColumnLineage{{Upstream: []snapshot.UpstreamColumn{}}}}},
		TableInfos(nil), TableInfos{{}}, TableInfos{{Name: "n", Columns: []ColumnInfo{}, Measures: []TableMeasure{}}}, TableInfos{{Columns: []ColumnInfo{{}, {Name: "<c>", DataType: "x", Hidden: true}}, Measures: []TableMeasure{{Name: "m", Expression: "e", Description: "&"}}}},
		MeasureInfos(nil), MeasureInfos{{}}, MeasureInfos{{Table: "t", Name: "n", References: []string{}}, {References: []string{"'T'[c]", "\x00"}}},
	} {
		sameAsMarshal(t, fmt.Sprint("value ", i), v, true)
	}
}

// FuzzMetadataAppenders puts the fuzzer's strings in every field of the three types.
func FuzzMetadataAppenders(f *testing.F) {
	f.Add("Sales <&>", "snowflake", "\u2028", false)
	f.Add("", "\xff", "é", true)
	f.Fuzz(func(t *testing.T, a, b, c string, hidden bool) {
		u := snapshot.UpstreamTable{Platform: a, Server: b, Database: c, Schema: a, Table: b, Unknown: c}
		sameAsMarshal(t, "lineage", TableLineages{{Table: a, Upstream: []snapshot.UpstreamTable{u}, Unresolved: []string{b, c},
			Columns: []snapshot.ColumnLineage{{Column: c, Upstream: []snapshot.UpstreamColumn{{UpstreamTable: u, Column: a}}}}}}, true)
		sameAsMarshal(t, "tables", TableInfos{{Name: a, Description: b, Hidden: hidden, Source: c,
			Columns: []ColumnInfo{{Name: b, DataType: c, Hidden: !hidden}}, Measures: []TableMeasure{{Name: c, Expression: a, Description: b}}}}, true)
		sameAsMarshal(t, "measures", MeasureInfos{{Table: a, Name: b, Expression: c, Description: a, References: []string{b}}}, true)
	})
}

// BenchmarkMetadataJSON encodes the json metadata values of 100 workspaces' specs (10
// models of 10 tables of 10 columns each, with table and column lineage and measures)
// as the sink protocol does: json.Marshal before, jsonenc.Marshal now.
func BenchmarkMetadataJSON(b *testing.B) {
	batches := syntheticTenant(100, 10)
	for _, s := range batches {
		for w := range s.Workspaces {
			for m := range s.Workspaces[w].SemanticModels {
				sm := &s.Workspaces[w].SemanticModels[m]
				sm.Lineage = &snapshot.Lineage{}
				for ti := range sm.Tables {
					t := &sm.Tables[ti]
					t.Measures = []snapshot.Measure{{Name: "Total", Expression: "SUM('" + t.Name + "'[Column1])"}}
					up := snapshot.UpstreamTable{Platform: "snowflake", Server: "acme", Database: "EDW", Schema: "S", Table: "T" + t.Name}
					tl := snapshot.TableLineage{Table: t.Name, Upstream: []snapshot.UpstreamTable{up}}
					for _, c := range t.Columns {
						tl.Columns = append(tl.Columns, snapshot.ColumnLineage{Column: c.Name, Upstream: []snapshot.UpstreamColumn{{UpstreamTable: up, Column: c.Name}}})
					}
					sm.Lineage.Tables = append(sm.Lineage.Tables, tl)
				}
			}
		}
	}
	var values []any
	bl := NewBuilder(Options{})
	for _, s := range batches {
		recs, _ := bl.Add(s)
		more, _ := bl.Flush()
		for _, r := range append(recs, more...) {
			for _, m := range r.Spec.Metadata {
				if m.Type == spec.TypeJSON {
					values = append(values, m.Value)
				}
			}
		}
	}
	var size int64
	for _, v := range values {
		j, _ := json.Marshal(v)
		size += int64(len(j))
	}
	for _, enc := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{{"json.Marshal", json.Marshal}, {"jsonenc.Marshal", jsonenc.Marshal}} {
		b.Run(enc.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, v := range values {
					if _, err := enc.marshal(v); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

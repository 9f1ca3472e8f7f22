package spec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func sample() AssetSpec {
	return AssetSpec{
		Key:         Key{"semantic_model", "Sales"},
		Deps:        []Key{{"sales_db", "public", "orders"}},
		Description: "Sales",
		Metadata: map[string]Metadata{
			"t": Text("x"), "u": URL("https://app.powerbi.com"), "i": Int(3), "f": Float(1.5), "b": Bool(true),
			"j":  JSON(map[string]any{"a": []any{1.0, "b"}}),
			"ts": Schema(TableSchema{Columns: []TableColumn{{Name: "id", Type: "Int64"}}}),
		},
		Tags:    map[string]string{"dagster-powerbi/asset_type": "semantic_model"},
		Kinds:   []string{"powerbi", "semantic model"},
		Owners:  []string{"ana@contoso.com"},
		Group:   "finance",
		PowerBI: Identity{Type: SemanticModel, ID: "m1", Name: "Sales", WorkspaceID: "w1", WorkspaceName: "Finance"},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := sample()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back AssetSpec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("round trip changed the spec:\n%s\n%s", b, b2)
	}
	if back.Metadata["i"].Value != int64(3) || back.Metadata["f"].Value != 1.5 {
		t.Errorf("typed values: %#v %#v", back.Metadata["i"].Value, back.Metadata["f"].Value)
	}
	if _, ok := back.Metadata["ts"].Value.(TableSchema); !ok {
		t.Errorf("table schema decoded as %T", back.Metadata["ts"].Value)
	}
	if err := back.Validate(); err != nil {
		t.Error(err)
	}
}

func TestEmptyCollectionsMarshalEmpty(t *testing.T) {
	b, _ := json.Marshal(AssetSpec{Key: Key{"a"}, PowerBI: Identity{Type: Report, ID: "r"}})
	for _, want := range []string{`"deps":[]`, `"metadata":{}`, `"tags":{}`, `"kinds":[]`, `"owners":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		edit func(*AssetSpec)
		want string
	}{
		{func(s *AssetSpec) { s.Key = nil }, "key is empty"},
		{func(s *AssetSpec) { s.Key = Key{"a", ""} }, "part 1 is empty"},
		{func(s *AssetSpec) { s.Deps = []Key{{}} }, "dep 0: key is empty"},
		{func(s *AssetSpec) { s.Metadata["x"] = Metadata{Type: TypeInt, Value: "3"} }, `metadata "x": int value must be a number`},
		{func(s *AssetSpec) { s.Metadata["x"] = Metadata{Type: TypeInt, Value: 2.5} }, "whole number"},
		{func(s *AssetSpec) { s.Metadata["x"] = Metadata{Type: "color", Value: 1} }, `unknown metadata type "color"`},
		{func(s *AssetSpec) { s.Metadata[""] = Text("x") }, "empty name"},
		{func(s *AssetSpec) { s.Tags[""] = "x" }, "tag with an empty name"},
	}
	for _, tt := range tests {
		s := sample()
		tt.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("error %v, want %q", err, tt.want)
		}
	}
}

func TestCloneIsDeep(t *testing.T) {
	s := sample()
	c := s.Clone()
	c.Key[0] = "x"
	c.Deps[0][0] = "x"
	c.Tags["n"] = "v"
	c.Metadata["n"] = Text("v")
	c.Kinds[0] = "x"
	c.Owners[0] = "x"
	if !reflect.DeepEqual(s, sample()) {
		t.Errorf("editing the clone changed the original: %+v", s)
	}
}

// FuzzMetadata feeds the metadata decoder arbitrary JSON: it decodes or errs, and what
// it decodes validates and encodes again.
func FuzzMetadata(f *testing.F) {
	for _, s := range []string{`{"type":"int","value":3}`, `{"type":"json","value":{"a":[1,2]}}`, `{"type":"table_schema","value":{"columns":[{"name":"a","type":"b"}]}}`,
		`{"type":"text"}`, `{"type":"float","value":1e400}`, `{"type":"url","value":null}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m Metadata
		if err := json.Unmarshal(data, &m); err != nil {
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("decoded %#v does not validate: %v", m, err)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("decoded %#v does not encode: %v", m, err)
		}
	})
}

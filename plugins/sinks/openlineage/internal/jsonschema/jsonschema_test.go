package jsonschema

import (
	"strings"
	"testing"
)

const testSchema = `{
  "$id": "https://example.test/s.json",
  "$defs": {
    "Pet": {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"enum": ["cat", "dog"]}, "born": {"type": "string", "format": "date-time"}},
      "required": ["name"], "additionalProperties": false},
    "Id": {"type": "string", "format": "uuid"}
  },
  "type": "object",
  "properties": {
    "pets": {"type": "array", "items": {"$ref": "#/$defs/Pet"}},
    "id": {"$ref": "#/$defs/Id"},
    "home": {"type": "string", "format": "uri"},
    "n": {"type": "integer"},
    "x": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "y": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
    "z": {"allOf": [{"type": "object"}, {"not": {"required": ["bad"]}}]}
  },
  "additionalProperties": {"type": "string"}
}`

func TestValidate(t *testing.T) {
	r := NewRegistry()
	if _, err := r.Add([]byte(testSchema)); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ doc, err string }{
		{`{"pets":[{"name":"a","kind":"cat","born":"2020-01-02T03:04:05Z"}],"id":"3f6c1e0a-8d2b-5c4e-9f1a-2b3c4d5e6f70","home":"https://x","n":3,"x":1.5,"y":null,"z":{},"extra":"s"}`, ""},
		{`{"pets":[{"kind":"cat"}]}`, `.pets[0]: missing required "name"`},
		{`{"pets":[{"name":"a","kind":"cow"}]}`, `.pets[0].kind: cow is not one of`},
		{`{"pets":[{"name":"a","age":3}]}`, `.pets[0].age: property is not allowed`},
		{`{"pets":[{"name":"a","born":"monday"}]}`, `is not an RFC 3339 date-time`},
		{`{"id":"nope"}`, `.id: "nope" is not a UUID`},
		{`{"home":"relative/path"}`, `is not an absolute URI`},
		{`{"n":1.5}`, `.n: want type integer, got number`},
		{`{"x":true}`, `matches 0 of oneOf`},
		{`{"y":"s"}`, `matches none of anyOf`},
		{`{"z":{"bad":1}}`, `must not match`},
		{`{"extra":1}`, `.extra: want type string`},
		{`[]`, `want type object, got array`},
	}
	for _, tc := range tests {
		err := r.ValidateJSON("https://example.test/s.json", []byte(tc.doc))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: got %v, want %q", tc.doc, err, tc.err)
		}
	}
	if err := r.Validate("https://example.test/other.json", nil); err == nil {
		t.Error("an unknown schema validated")
	}
}

func FuzzValidate(f *testing.F) {
	f.Add(testSchema, `{"pets":[{"name":"a"}]}`)
	f.Add(`{"$id":"https://example.test/s.json","$ref":"#/$defs/a","$defs":{"a":{"items":{"$ref":"#"}}}}`, `[[1]]`)
	f.Fuzz(func(t *testing.T, schema, doc string) {
		r := NewRegistry()
		id, err := r.Add([]byte(schema))
		if err != nil {
			return
		}
		_ = r.ValidateJSON(id, []byte(doc))
	})
}

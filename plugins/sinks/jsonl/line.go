package jsonl

import (
	"slices"
	"strconv"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// appendLine appends the event's line, newline included: exactly what an Encoder with
// SetEscapeHTML(false) writes for toLine's lineEvent (or its spec, in the specs
// format), without encoding/json's reflection and without re-compacting the json
// metadata values the host encoded (they are checked in one pass and copied). It
// returns false, with nothing appended, for what it leaves to encoding/json: refresh
// and summary events, values of other types and values encoding/json refuses (so an
// error comes from encoding/json, naming the fault).
func appendLine(dst []byte, e *event.Event, specsOnly bool) ([]byte, bool) {
	out, ok := appendEvent(dst, e, specsOnly)
	if !ok {
		return dst, false
	}
	return append(out, '\n'), true
}

func appendEvent(dst []byte, e *event.Event, specsOnly bool) ([]byte, bool) {
	if specsOnly {
		if e.Spec == nil {
			return append(dst, "null"...), true
		}
		return appendSpec(dst, e.Spec)
	}
	if e.Refresh != nil || e.Summary != nil {
		return dst, false
	}
	dst = append(dst, `{"kind":`...)
	dst = jsonenc.AppendString(dst, string(e.Kind), false)
	if e.Spec != nil {
		dst = append(dst, `,"spec":`...)
		var ok bool
		if dst, ok = appendSpec(dst, e.Spec); !ok {
			return dst, false
		}
	}
	if r := e.Removed; r != nil {
		dst = append(dst, `,"removed":{"key":`...)
		dst = jsonenc.AppendStrings(dst, r.Key, false)
		dst = append(dst, `,"powerbi":`...)
		dst = appendIdentity(dst, &r.PowerBI)
		dst = append(dst, '}')
	}
	if len(e.Related) > 0 {
		dst = append(dst, `,"related":[`...)
		for i := range e.Related {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendRelated(dst, &e.Related[i])
		}
		dst = append(dst, ']')
	}
	return append(dst, '}'), true
}

// appendSpec writes a spec as lineSpec encodes: nil collections as empty ones.
func appendSpec(dst []byte, s *spec.AssetSpec) ([]byte, bool) {
	dst = append(dst, `{"key":`...)
	dst = appendList(dst, s.Key)
	dst = append(dst, `,"deps":[`...)
	for i, d := range s.Deps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendStrings(dst, d, false)
	}
	dst = append(dst, ']')
	if s.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = jsonenc.AppendString(dst, s.Description, false)
	}
	dst = append(dst, `,"metadata":{`...)
	for i, name := range sortedKeys(s.Metadata) {
		if i > 0 {
			dst = append(dst, ',')
		}
		m := s.Metadata[name]
		dst = jsonenc.AppendString(dst, name, false)
		dst = append(dst, `:{"type":`...)
		dst = jsonenc.AppendString(dst, string(m.Type), false)
		dst = append(dst, `,"value":`...)
		var ok bool
		if dst, ok = appendMetadataValue(dst, m.Value); !ok {
			return dst, false
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `},"tags":{`...)
	for i, k := range sortedKeys(s.Tags) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendString(dst, k, false)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, s.Tags[k], false)
	}
	dst = append(dst, `},"kinds":`...)
	dst = appendList(dst, s.Kinds)
	dst = append(dst, `,"owners":`...)
	dst = appendList(dst, s.Owners)
	if s.Group != "" {
		dst = append(dst, `,"group":`...)
		dst = jsonenc.AppendString(dst, s.Group, false)
	}
	dst = append(dst, `,"powerbi":`...)
	dst = appendIdentity(dst, &s.PowerBI)
	return append(dst, '}'), true
}

// appendList writes a list that lineSpec makes empty when nil.
func appendList(dst []byte, l []string) []byte {
	if l == nil {
		return append(dst, "[]"...)
	}
	return jsonenc.AppendStrings(dst, l, false)
}

func appendMetadataValue(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int64: // the sink protocol's int and float values
		return strconv.AppendInt(dst, x, 10), true
	case float64:
		return jsonenc.AppendFloat(dst, x)
	case spec.TableSchema:
		if x.Columns == nil {
			return append(dst, `{"columns":null}`...), true
		}
		dst = append(dst, `{"columns":[`...)
		for i := range x.Columns {
			c := &x.Columns[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"name":`...)
			dst = jsonenc.AppendString(dst, c.Name, false)
			dst = append(dst, `,"type":`...)
			dst = jsonenc.AppendString(dst, c.Type, false)
			if c.Description != "" {
				dst = append(dst, `,"description":`...)
				dst = jsonenc.AppendString(dst, c.Description, false)
			}
			dst = append(dst, '}')
		}
		return append(dst, "]}"...), true
	}
	return jsonenc.Append(dst, v, false)
}

func appendIdentity(dst []byte, id *spec.Identity) []byte {
	dst = append(dst, `{"type":`...)
	dst = jsonenc.AppendString(dst, string(id.Type), false)
	dst = append(dst, `,"id":`...)
	dst = jsonenc.AppendString(dst, id.ID, false)
	if id.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = jsonenc.AppendString(dst, id.Name, false)
	}
	if id.WorkspaceID != "" {
		dst = append(dst, `,"workspaceId":`...)
		dst = jsonenc.AppendString(dst, id.WorkspaceID, false)
	}
	if id.WorkspaceName != "" {
		dst = append(dst, `,"workspaceName":`...)
		dst = jsonenc.AppendString(dst, id.WorkspaceName, false)
	}
	return append(dst, '}')
}

func appendRelated(dst []byte, r *event.Related) []byte {
	dst = append(dst, `{"key":`...)
	dst = jsonenc.AppendStrings(dst, r.Key, false)
	dst = append(dst, `,"powerbi":`...)
	dst = appendIdentity(dst, &r.PowerBI)
	if r.WebURL != "" {
		dst = append(dst, `,"webUrl":`...)
		dst = jsonenc.AppendString(dst, r.WebURL, false)
	}
	if len(r.Tables) > 0 {
		dst = append(dst, `,"tables":`...)
		dst = jsonenc.AppendStrings(dst, r.Tables, false)
	}
	if len(r.TableNames) > 0 {
		dst = append(dst, `,"tableNames":`...)
		dst = jsonenc.AppendStrings(dst, r.TableNames, false)
	}
	return append(dst, '}')
}

// sortedKeys returns a map's keys in the order encoding/json writes them.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

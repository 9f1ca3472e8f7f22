package jsonl

import (
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	"github.com/pbisync/pbisync/sdk/spec/jsonenc"
)

// appendLine appends the event's line, newline included: exactly what an Encoder with
// SetEscapeHTML(false) writes for toLine's lineEvent (or its spec, in the specs
// format), without encoding/json's reflection and without re-compacting the json
// metadata values the host encoded (they are checked in one pass and copied). It
// returns false, with nothing appended, for what it leaves to encoding/json: summary
// events, values of other types and values encoding/json refuses (so an error comes
// from encoding/json, naming the fault).
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
		return appendSpec(dst, e.Spec, false)
	}
	if e.Summary != nil {
		return dst, false
	}
	dst = append(dst, `{"kind":`...)
	dst = jsonenc.AppendString(dst, string(e.Kind), false)
	if e.Spec != nil {
		dst = append(dst, `,"spec":`...)
		var ok bool
		if dst, ok = appendSpec(dst, e.Spec, false); !ok {
			return dst, false
		}
	}
	if r := e.Removed; r != nil {
		dst = append(dst, `,"removed":{"key":`...)
		dst = jsonenc.AppendStrings(dst, r.Key, false)
		dst = append(dst, `,"powerbi":`...)
		dst = appendIdentity(dst, &r.PowerBI, false)
		dst = append(dst, '}')
	}
	if r := e.Refresh; r != nil {
		dst = append(dst, `,"refresh":`...)
		var ok bool
		if dst, ok = appendRefresh(dst, r); !ok {
			return dst, false
		}
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

// appendSpec writes a spec as lineSpec encodes: nil collections as empty ones; esc
// escapes HTML in it, as json.Marshal does.
func appendSpec(dst []byte, s *spec.AssetSpec, esc bool) ([]byte, bool) {
	dst = append(dst, `{"key":`...)
	dst = appendList(dst, s.Key, esc)
	dst = append(dst, `,"deps":`...)
	dst = jsonenc.AppendLists(dst, s.Deps, esc)
	if s.Description != "" {
		dst = append(dst, `,"description":`...)
		dst = jsonenc.AppendString(dst, s.Description, esc)
	}
	dst = append(dst, `,"metadata":{`...)
	for i, name := range slices.Sorted(maps.Keys(s.Metadata)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		m := s.Metadata[name]
		dst = jsonenc.AppendString(dst, name, esc)
		dst = append(dst, `:{"type":`...)
		dst = jsonenc.AppendString(dst, string(m.Type), esc)
		dst = append(dst, `,"value":`...)
		var ok bool
		if dst, ok = appendMetadataValue(dst, m.Value, esc); !ok {
			return dst, false
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `},"tags":{`...)
	for i, k := range slices.Sorted(maps.Keys(s.Tags)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonenc.AppendString(dst, k, esc)
		dst = append(dst, ':')
		dst = jsonenc.AppendString(dst, s.Tags[k], esc)
	}
	dst = append(dst, `},"kinds":`...)
	dst = appendList(dst, s.Kinds, esc)
	dst = append(dst, `,"owners":`...)
	dst = appendList(dst, s.Owners, esc)
	if s.Group != "" {
		dst = append(dst, `,"group":`...)
		dst = jsonenc.AppendString(dst, s.Group, esc)
	}
	dst = append(dst, `,"powerbi":`...)
	dst = appendIdentity(dst, &s.PowerBI, esc)
	return append(dst, '}'), true
}

// appendRefresh writes an event.Refresh as encoding/json does: its model spec as
// AssetSpec.MarshalJSON writes it (lineSpec's fields, HTML escaped), times as
// time.Time writes them.
func appendRefresh(dst []byte, r *event.Refresh) ([]byte, bool) {
	dst = append(dst, `{"requestId":`...)
	dst = jsonenc.AppendString(dst, r.RequestID, false)
	dst = append(dst, `,"state":`...)
	dst = jsonenc.AppendString(dst, string(r.State), false)
	dst = append(dst, `,"model":`...)
	dst = appendIdentity(dst, &r.Model, false)
	if len(r.Key) > 0 {
		dst = append(dst, `,"key":`...)
		dst = jsonenc.AppendStrings(dst, r.Key, false)
	}
	if r.RefreshType != "" {
		dst = append(dst, `,"refreshType":`...)
		dst = jsonenc.AppendString(dst, r.RefreshType, false)
	}
	if r.Enhanced {
		dst = append(dst, `,"enhanced":true`...)
	}
	for _, t := range []struct {
		name string
		at   time.Time
	}{{`,"requestedAt":`, r.RequestedAt}, {`,"startedAt":`, r.StartedAt}, {`,"endedAt":`, r.EndedAt}} {
		if t.at.IsZero() {
			continue
		}
		b, err := t.at.MarshalJSON()
		if err != nil { // a year encoding/json refuses: its error names it
			return dst, false
		}
		dst = append(append(dst, t.name...), b...)
	}
	if r.Error != "" {
		dst = append(dst, `,"error":`...)
		dst = jsonenc.AppendString(dst, r.Error, false)
	}
	if len(r.Tables) > 0 {
		dst = append(dst, `,"tables":[`...)
		for i := range r.Tables {
			t := &r.Tables[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"table":`...)
			dst = jsonenc.AppendString(dst, t.Table, false)
			if t.Partition != "" {
				dst = append(dst, `,"partition":`...)
				dst = jsonenc.AppendString(dst, t.Partition, false)
			}
			dst = append(dst, `,"status":`...)
			dst = jsonenc.AppendString(dst, t.Status, false)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if r.ModelSpec != nil {
		dst = append(dst, `,"modelSpec":`...)
		var ok bool
		// AssetSpec.MarshalJSON's json.Marshal escapes HTML, and the compaction of its
		// bytes keeps the escapes.
		if dst, ok = appendSpec(dst, r.ModelSpec, true); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendList writes a list that lineSpec makes empty when nil.
func appendList(dst []byte, l []string, esc bool) []byte {
	if l == nil {
		return append(dst, "[]"...)
	}
	return jsonenc.AppendStrings(dst, l, esc)
}

func appendMetadataValue(dst []byte, v any, esc bool) ([]byte, bool) {
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
			dst = jsonenc.AppendString(dst, c.Name, esc)
			dst = append(dst, `,"type":`...)
			dst = jsonenc.AppendString(dst, c.Type, esc)
			if c.Description != "" {
				dst = append(dst, `,"description":`...)
				dst = jsonenc.AppendString(dst, c.Description, esc)
			}
			dst = append(dst, '}')
		}
		return append(dst, "]}"...), true
	}
	return jsonenc.Append(dst, v, esc)
}

func appendIdentity(dst []byte, id *spec.Identity, esc bool) []byte {
	dst = append(dst, `{"type":`...)
	dst = jsonenc.AppendString(dst, string(id.Type), esc)
	dst = append(dst, `,"id":`...)
	dst = jsonenc.AppendString(dst, id.ID, esc)
	if id.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = jsonenc.AppendString(dst, id.Name, esc)
	}
	if id.WorkspaceID != "" {
		dst = append(dst, `,"workspaceId":`...)
		dst = jsonenc.AppendString(dst, id.WorkspaceID, esc)
	}
	if id.WorkspaceName != "" {
		dst = append(dst, `,"workspaceName":`...)
		dst = jsonenc.AppendString(dst, id.WorkspaceName, esc)
	}
	return append(dst, '}')
}

func appendRelated(dst []byte, r *event.Related) []byte {
	dst = append(dst, `{"key":`...)
	dst = jsonenc.AppendStrings(dst, r.Key, false)
	dst = append(dst, `,"powerbi":`...)
	dst = appendIdentity(dst, &r.PowerBI, false)
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

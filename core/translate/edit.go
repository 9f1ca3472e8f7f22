package translate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pbisync/pbisync/sdk/spec"
)

// The editing host functions. Each checks that there is a current asset, counts the
// bytes against max_output, validates the value and fails the asset on bad input.

func (b *batch) begin(op string, field int32, n int) int32 {
	if !b.current() {
		return statusNoCurrent
	}
	if !b.charge(op, field, n) {
		return statusTooLarge
	}
	return statusOK
}

func (b *batch) set(field int32, v string) int32 {
	if st := b.begin("set", field, len(v)); st != statusOK {
		return st
	}
	if !utf8.ValidString(v) {
		return b.reject(statusInvalid, "set(%s): value is not valid UTF-8", fieldLabel(field))
	}
	switch field {
	case fieldDescription:
		b.edit(field, true).Description = v
	case fieldGroup:
		b.edit(field, true).Group = v
	case fieldKey:
		b.edit(field, true).Key = splitNUL(v)
	case fieldKinds:
		b.edit(field, true).Kinds = splitNUL(v)
	case fieldOwners:
		b.edit(field, true).Owners = splitNUL(v)
	default:
		return b.reject(statusInvalid, "set(%s): not a text or text-list field (use set_json)", fieldLabel(field))
	}
	return statusOK
}

func splitNUL(v string) []string {
	if v == "" {
		return []string{}
	}
	return strings.Split(v, "\x00")
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the JSON value")
	}
	return nil
}

func (b *batch) setJSON(field int32, data []byte) int32 {
	if st := b.begin("set_json", field, len(data)); st != statusOK {
		return st
	}
	bad := func(err error) int32 {
		return b.reject(statusInvalid, "set_json(%s): %v", fieldLabel(field), err)
	}
	switch field {
	case fieldSpec:
		var s spec.AssetSpec
		if err := decodeStrict(data, &s); err != nil {
			return bad(err)
		}
		s.PowerBI = b.recs[b.cur].Spec.PowerBI // the identity survives every translator
		b.edit(field, true)
		b.res[b.cur].owned = ^uint32(0) // every field is new
		*b.res[b.cur].spec = s
	case fieldKey, fieldKinds, fieldOwners:
		var l []string
		if err := decodeStrict(data, &l); err != nil {
			return bad(err)
		}
		if l == nil {
			l = []string{}
		}
		switch field {
		case fieldKey:
			b.edit(field, true).Key = l
		case fieldKinds:
			b.edit(field, true).Kinds = l
		default:
			b.edit(field, true).Owners = l
		}
	case fieldDeps:
		var d []spec.Key
		if err := decodeStrict(data, &d); err != nil {
			return bad(err)
		}
		b.edit(field, true).Deps = d
	case fieldDescription, fieldGroup:
		var s string
		if err := decodeStrict(data, &s); err != nil {
			return bad(err)
		}
		if field == fieldDescription {
			b.edit(field, true).Description = s
		} else {
			b.edit(field, true).Group = s
		}
	case fieldTags:
		var m map[string]string
		if err := decodeStrict(data, &m); err != nil {
			return bad(err)
		}
		b.edit(field, true).Tags = m
	case fieldMetadata:
		var m map[string]spec.Metadata
		if err := decodeStrict(data, &m); err != nil {
			return bad(err)
		}
		b.edit(field, true).Metadata = m
	default:
		return b.reject(statusInvalid, "set_json(%s): not a spec field", fieldLabel(field))
	}
	return statusOK
}

// insertAt returns list with v inserted before index (-1 or past the end appends).
func insertAt[T any](list []T, index int32, v T) []T {
	if index < 0 || int(index) >= len(list) {
		return append(list, v)
	}
	return slices.Insert(list, int(index), v)
}

func (b *batch) insert(field, index int32, v string) int32 {
	if st := b.begin("insert", field, len(v)); st != statusOK {
		return st
	}
	if !utf8.ValidString(v) {
		return b.reject(statusInvalid, "insert(%s): value is not valid UTF-8", fieldLabel(field))
	}
	switch field {
	case fieldKey:
		s := b.edit(field, false)
		s.Key = insertAt(s.Key, index, v)
	case fieldKinds:
		s := b.edit(field, false)
		s.Kinds = insertAt(s.Kinds, index, v)
	case fieldOwners:
		s := b.edit(field, false)
		s.Owners = insertAt(s.Owners, index, v)
	case fieldDeps:
		s := b.edit(field, false)
		s.Deps = insertAt(s.Deps, index, spec.Key(strings.Split(v, "\x00")))
	default:
		return b.reject(statusInvalid, "insert(%s): not a list field", fieldLabel(field))
	}
	return statusOK
}

func removeAt[T any](list []T, index int32) ([]T, bool) {
	if index < 0 || int(index) >= len(list) {
		return list, false
	}
	return slices.Delete(list, int(index), int(index)+1), true
}

func (b *batch) remove(field, index int32) int32 {
	if st := b.begin("remove", field, 0); st != statusOK {
		return st
	}
	var ok bool
	switch field {
	case fieldKey:
		s := b.edit(field, false)
		s.Key, ok = removeAt(s.Key, index)
	case fieldKinds:
		s := b.edit(field, false)
		s.Kinds, ok = removeAt(s.Kinds, index)
	case fieldOwners:
		s := b.edit(field, false)
		s.Owners, ok = removeAt(s.Owners, index)
	case fieldDeps:
		s := b.edit(field, false)
		s.Deps, ok = removeAt(s.Deps, index)
	default:
		return b.reject(statusInvalid, "remove(%s): not a list field", fieldLabel(field))
	}
	if !ok {
		return b.reject(statusInvalid, "remove(%s): index %d out of range", fieldLabel(field), index)
	}
	return statusOK
}

func (b *batch) put(field int32, k string, v []byte) int32 {
	if st := b.begin("put", field, len(k)+len(v)); st != statusOK {
		return st
	}
	if k == "" || !utf8.ValidString(k) {
		return b.reject(statusInvalid, "put(%s): the name must be non-empty UTF-8", fieldLabel(field))
	}
	switch field {
	case fieldTags:
		if !utf8.Valid(v) {
			return b.reject(statusInvalid, "put(%s, %q): value is not valid UTF-8", fieldLabel(field), k)
		}
		s := b.edit(field, false)
		if s.Tags == nil {
			s.Tags = map[string]string{}
		}
		s.Tags[k] = string(v)
	case fieldMetadata:
		var m spec.Metadata
		if err := decodeStrict(v, &m); err != nil {
			return b.reject(statusInvalid, "put(%s, %q): %v", fieldLabel(field), k, err)
		}
		if err := m.Validate(); err != nil {
			return b.reject(statusInvalid, "put(%s, %q): %v", fieldLabel(field), k, err)
		}
		s := b.edit(field, false)
		if s.Metadata == nil {
			s.Metadata = map[string]spec.Metadata{}
		}
		s.Metadata[k] = m
	default:
		return b.reject(statusInvalid, "put(%s): not a map field", fieldLabel(field))
	}
	return statusOK
}

func (b *batch) del(field int32, k string) int32 {
	if st := b.begin("delete", field, len(k)); st != statusOK {
		return st
	}
	switch field {
	case fieldTags:
		if _, ok := b.spec().Tags[k]; ok {
			delete(b.edit(field, false).Tags, k)
		}
	case fieldMetadata:
		if _, ok := b.spec().Metadata[k]; ok {
			delete(b.edit(field, false).Metadata, k)
		}
	default:
		return b.reject(statusInvalid, "delete(%s): not a map field", fieldLabel(field))
	}
	return statusOK
}

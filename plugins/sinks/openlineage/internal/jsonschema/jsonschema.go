// Package jsonschema validates JSON documents against the subset of JSON Schema
// (draft 2020-12) that the OpenLineage specification and its facets use: type,
// properties, required, additionalProperties, items, enum, const, format (uri,
// date-time, uuid), $ref to $defs and across documents by $id, allOf, anyOf, oneOf
// and not. Unknown keywords are ignored, as annotations.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxDepth bounds nested schema applications, so a $ref cycle ends in an error.
const maxDepth = 256

// Registry holds schema documents by their $id.
type Registry struct {
	docs map[string]any
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{docs: map[string]any{}} }

// Add parses a schema document and registers it under its $id.
func (r *Registry) Add(data []byte) (string, error) {
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return "", fmt.Errorf("a schema document must be an object")
	}
	id, _ := m["$id"].(string)
	if id == "" {
		return "", fmt.Errorf("schema document without $id")
	}
	r.docs[strings.TrimSuffix(id, "#")] = doc
	return id, nil
}

// Validate checks the JSON value v (decoded with UseNumber) against the schema at ref,
// an absolute URL with an optional JSON pointer fragment.
func (r *Registry) Validate(ref string, v any) error {
	s, base, err := r.resolve(ref, "")
	if err != nil {
		return err
	}
	return r.validate(s, base, v, "", 0)
}

// ValidateJSON decodes data and validates it.
func (r *Registry) ValidateJSON(ref string, data []byte) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	return r.Validate(ref, v)
}

// resolve finds the schema ref points at, relative to the document base.
func (r *Registry) resolve(ref, base string) (any, string, error) {
	docURL, frag, _ := strings.Cut(ref, "#")
	if docURL == "" {
		docURL = base
	}
	doc, ok := r.docs[docURL]
	if !ok {
		return nil, "", fmt.Errorf("unknown schema %q", docURL)
	}
	cur := doc
	if frag != "" {
		for _, p := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
			p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, "", fmt.Errorf("%s: pointer does not resolve", ref)
			}
			if cur, ok = m[p]; !ok {
				return nil, "", fmt.Errorf("%s: no %q", ref, p)
			}
		}
	}
	return cur, docURL, nil
}

// Error is a validation failure at a place in the document.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func errAt(path, format string, args ...any) error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func typeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMatches(want, got string) bool {
	return want == got || (want == "number" && got == "integer")
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func checkFormat(format, s string) error {
	switch format {
	case "uri":
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
	case "date-time":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%q is not an RFC 3339 date-time", s)
		}
	case "uuid":
		if !uuidRE.MatchString(s) {
			return fmt.Errorf("%q is not a UUID", s)
		}
	}
	return nil
}

func (r *Registry) validate(schema any, base string, v any, path string, depth int) error {
	if depth > maxDepth {
		return errAt(path, "schema references nest deeper than %d (a $ref cycle?)", maxDepth)
	}
	switch s := schema.(type) {
	case bool:
		if !s {
			return errAt(path, "no value is allowed here")
		}
		return nil
	case map[string]any:
		return r.validateObject(s, base, v, path, depth)
	}
	return errAt(path, "schema is neither an object nor a boolean")
}

func (r *Registry) validateObject(s map[string]any, base string, v any, path string, depth int) error {
	if id, ok := s["$id"].(string); ok && strings.Contains(id, "://") {
		base = strings.TrimSuffix(id, "#")
	}
	if ref, ok := s["$ref"].(string); ok {
		target, tbase, err := r.resolve(ref, base)
		if err != nil {
			return errAt(path, "%v", err)
		}
		if err := r.validate(target, tbase, v, path, depth+1); err != nil {
			return err
		}
	}
	if t, ok := s["type"]; ok {
		got := typeOf(v)
		var ok bool
		switch tt := t.(type) {
		case string:
			ok = typeMatches(tt, got)
		case []any:
			for _, x := range tt {
				if xs, _ := x.(string); typeMatches(xs, got) {
					ok = true
				}
			}
		}
		if !ok {
			return errAt(path, "want type %v, got %s", t, got)
		}
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			if equal(x, v) {
				found = true
			}
		}
		if !found {
			return errAt(path, "%v is not one of %v", v, e)
		}
	}
	if c, ok := s["const"]; ok && !equal(c, v) {
		return errAt(path, "want %v, got %v", c, v)
	}
	if f, ok := s["format"].(string); ok {
		if str, ok := v.(string); ok {
			if err := checkFormat(f, str); err != nil {
				return errAt(path, "%v", err)
			}
		}
	}
	if obj, ok := v.(map[string]any); ok {
		if err := r.validateProperties(s, base, obj, path, depth); err != nil {
			return err
		}
	}
	if arr, ok := v.([]any); ok {
		if items, ok := s["items"]; ok {
			for i, x := range arr {
				if err := r.validate(items, base, x, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, sub := range all {
			if err := r.validate(sub, base, v, path, depth+1); err != nil {
				return err
			}
		}
	}
	if any_, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, sub := range any_ {
			err := r.validate(sub, base, v, path, depth+1)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return errAt(path, "matches none of anyOf: %s", strings.Join(errs, "; "))
		}
	}
	if one, ok := s["oneOf"].([]any); ok {
		matched := 0
		var errs []string
		for _, sub := range one {
			if err := r.validate(sub, base, v, path, depth+1); err == nil {
				matched++
			} else {
				errs = append(errs, err.Error())
			}
		}
		if matched != 1 {
			return errAt(path, "matches %d of oneOf, want exactly 1 (%s)", matched, strings.Join(errs, "; "))
		}
	}
	if not, ok := s["not"]; ok {
		if err := r.validate(not, base, v, path, depth+1); err == nil {
			return errAt(path, "matches a schema it must not match")
		}
	}
	return nil
}

func (r *Registry) validateProperties(s map[string]any, base string, obj map[string]any, path string, depth int) error {
	if req, ok := s["required"].([]any); ok {
		for _, x := range req {
			name, _ := x.(string)
			if _, ok := obj[name]; !ok {
				return errAt(path, "missing required %q", name)
			}
		}
	}
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := path + "." + k
		if ps, ok := props[k]; ok {
			if err := r.validate(ps, base, obj[k], sub, depth+1); err != nil {
				return err
			}
			continue
		}
		if ap, ok := s["additionalProperties"]; ok {
			if err := r.validate(ap, base, obj[k], sub, depth+1); err != nil {
				if b, isBool := ap.(bool); isBool && !b {
					return errAt(sub, "property is not allowed")
				}
				return err
			}
		}
	}
	return nil
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// Package config decodes pbisync's YAML strictly: unknown keys, wrong types and missing
// fields are errors that name the file, line and column. Each component (a source, a
// translator, a sink) declares its own config struct and decodes its part of the
// pipeline with Decode, so the rules live in one place.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Pos is a place in a YAML file.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is a problem at a place in a YAML file.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Errorf returns an *Error at the node's position.
func Errorf(n Node, format string, args ...any) error {
	return &Error{Pos: n.Pos(), Msg: fmt.Sprintf(format, args...)}
}

// Node is a YAML node with the file it came from.
type Node struct {
	*yaml.Node
	File string
}

// Pos returns the node's position.
func (n Node) Pos() Pos {
	if n.Node == nil {
		return Pos{File: n.File}
	}
	return Pos{File: n.File, Line: n.Line, Col: n.Column}
}

// Child returns the value of key in a mapping node, or a zero Node.
func (n Node) Child(key string) Node {
	if n.Node == nil || n.Kind != yaml.MappingNode {
		return Node{File: n.File}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return Node{Node: n.Content[i+1], File: n.File}
		}
	}
	return Node{File: n.File}
}

// Item returns the i-th element of a sequence node; past its end, or when n is not a
// sequence, the node itself, so an error still points near the problem.
func (n Node) Item(i int) Node {
	if n.Node == nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
		return n
	}
	return Node{Node: n.Content[i], File: n.File}
}

// Parse reads a YAML document. An empty document gives an empty mapping.
func Parse(file string, data []byte) (Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Node{}, yamlSyntaxError(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return Node{Node: &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}, File: file}, nil
	}
	root := doc.Content[0]
	if err := checkAliases(file, root, 0); err != nil {
		return Node{}, err
	}
	return Node{Node: root, File: file}, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func yamlSyntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Pos: Pos{File: file, Line: line, Col: 1}, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "YAML syntax: " + strings.TrimPrefix(msg, "yaml: ")}
}

// checkAliases refuses alias chains deep enough to blow up on decode.
func checkAliases(file string, n *yaml.Node, depth int) error {
	if depth > 64 {
		return &Error{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Msg: "YAML nested too deeply"}
	}
	if n.Kind == yaml.AliasNode {
		return &Error{Pos: Pos{File: file, Line: n.Line, Col: n.Column}, Msg: "YAML aliases (*name) are not supported in a pipeline"}
	}
	for _, c := range n.Content {
		if err := checkAliases(file, c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// Decode decodes n into v (a pointer to a struct, usually) strictly: every key must be a
// field of the target, every scalar must fit its field's type, and every field tagged
// `required:"true"` must be present. Environment references are expanded first.
func Decode(n Node, v any) error {
	if n.Node == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config.Decode needs a non-nil pointer, got %T", v)
	}
	if err := ExpandEnv(n); err != nil {
		return err
	}
	if err := check(n, rv.Type().Elem()); err != nil {
		return err
	}
	if err := n.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return &Error{Pos: n.Pos(), Msg: strings.Join(te.Errors, "; ")}
		}
		return &Error{Pos: n.Pos(), Msg: err.Error()}
	}
	return nil
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	nodeType        = reflect.TypeFor[yaml.Node]()
	configNodeType  = reflect.TypeFor[Node]()
	durationType    = reflect.TypeFor[time.Duration]()
	secretType      = reflect.TypeFor[Secret]()
)

func check(n Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if t == secretType && n.Kind != yaml.ScalarNode {
		return Errorf(n, "want a string (a secret, best given as ${env:NAME}), got %s", kindName(n))
	}
	if t == nodeType || t == configNodeType || reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
		return nil
	}
	if t == durationType {
		if n.Kind != yaml.ScalarNode {
			return Errorf(n, "want a duration such as 30s or 5m, got %s", kindName(n))
		}
		if _, err := time.ParseDuration(n.Value); err != nil {
			return Errorf(n, "want a duration such as 30s or 5m, got %q", n.Value)
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return Errorf(n, "want a mapping, got %s", kindName(n))
		}
		fields := structFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := Node{Node: n.Content[i], File: n.File}
			val := Node{Node: n.Content[i+1], File: n.File}
			f, ok := fields[k.Value]
			if !ok {
				return Errorf(k, "unknown key %q (valid keys: %s)", k.Value, strings.Join(sortedKeys(fields), ", "))
			}
			if seen[k.Value] {
				return Errorf(k, "key %q appears twice", k.Value)
			}
			seen[k.Value] = true
			if err := check(val, f.Type); err != nil {
				return err
			}
		}
		for name, f := range fields {
			if f.Tag.Get("required") == "true" && !seen[name] {
				return Errorf(n, "missing required key %q", name)
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return Errorf(n, "want a mapping, got %s", kindName(n))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := check(Node{Node: n.Content[i+1], File: n.File}, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return Errorf(n, "want a list, got %s", kindName(n))
		}
		for _, c := range n.Content {
			if err := check(Node{Node: c, File: n.File}, t.Elem()); err != nil {
				return err
			}
		}
		return nil
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			return Errorf(n, "want a string, got %s", kindName(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return Errorf(n, "want true or false, got %s", kindName(n))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return Errorf(n, "want a whole number, got %s", kindName(n))
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
			return Errorf(n, "want a number, got %s", kindName(n))
		}
	}
	return nil
}

func kindName(n Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func structFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			for k, v := range structFields(ft) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var envRef = regexp.MustCompile(`\$\{env:([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// ExpandEnv replaces ${env:NAME} (or ${env:NAME:-default}) in every scalar under n with
// the variable's value. A variable that is not set and has no default is an error.
func ExpandEnv(n Node) error {
	if n.Node == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${env:") {
		var missing []string
		out := envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			sub := envRef.FindStringSubmatch(m)
			if v, ok := os.LookupEnv(sub[1]); ok {
				return v
			}
			if sub[2] != "" {
				return sub[3]
			}
			missing = append(missing, sub[1])
			return ""
		})
		if len(missing) > 0 {
			return Errorf(n, "environment variable %s is not set", strings.Join(missing, ", "))
		}
		// A value that came from the environment is a string, whatever it looks like.
		if out != n.Value && n.Tag != "!!str" {
			n.Tag = "!!str"
			n.Style = yaml.DoubleQuotedStyle
		}
		n.Value = out
		return nil
	}
	for _, c := range n.Content {
		if err := ExpandEnv(Node{Node: c, File: n.File}); err != nil {
			return err
		}
	}
	return nil
}

package sink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is what a sink learns when it is configured.
type Config struct {
	// Name is the output's name in the pipeline.
	Name string
	// Raw is the sink's config section as JSON (the YAML the user wrote, env references expanded).
	Raw json.RawMessage
	// Resume is set when the host restarted the sink within one sync: keep what was
	// written before (the host sends the unacknowledged batches again).
	Resume bool
	// Stdout is pbisync's standard output, for sinks that write there.
	Stdout io.Writer
	// Logger writes into pbisync's logs.
	Logger *slog.Logger
}

// Decode decodes the config section into v (a pointer to a struct) strictly: unknown
// keys, values of the wrong type and missing fields tagged `required:"true"` are
// *ConfigError values whose path the host maps to the YAML line.
func (c Config) Decode(v any) error {
	return DecodeStrict(c.Raw, v)
}

// ConfigError is a problem with one value of a sink's config. Path holds the keys (and
// list indices, as decimal strings) from the section's root to the value.
type ConfigError struct {
	Path []string
	Msg  string
}

func (e *ConfigError) Error() string {
	if len(e.Path) == 0 {
		return e.Msg
	}
	return strings.Join(e.Path, ".") + ": " + e.Msg
}

// ConfigErrorf returns a *ConfigError about the value at path (keys separated by dots,
// e.g. "server.url" or "tables.0.name").
func ConfigErrorf(path, format string, args ...any) error {
	var p []string
	if path != "" {
		p = strings.Split(path, ".")
	}
	return &ConfigError{Path: p, Msg: fmt.Sprintf(format, args...)}
}

// Secret is a credential in a sink's config. It prints, logs and marshals as
// "[redacted]"; Reveal gives the value at the point of use.
type Secret struct{ v string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

func (s Secret) String() string   { return "[redacted]" }
func (s Secret) GoString() string { return "[redacted]" }

// LogValue keeps the value out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON keeps the value out of JSON output.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// UnmarshalJSON reads a string.
func (s *Secret) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &s.v); err != nil {
		return fmt.Errorf("a secret must be a string")
	}
	return nil
}

// Duration is a time.Duration written as "30s" or "5m" in the config.
type Duration time.Duration

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as 30s or 5m")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 30s or 5m, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// DecodeStrict decodes JSON into v like Config.Decode. An empty or null document
// decodes as an empty object.
func DecodeStrict(raw []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("sink: Decode needs a non-nil pointer, got %T", v)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return &ConfigError{Msg: "config is not valid JSON: " + err.Error()}
	}
	if err := checkValue(tree, rv.Type().Elem(), nil); err != nil {
		return err
	}
	dec = json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &ConfigError{Path: strings.Split(te.Field, "."), Msg: fmt.Sprintf("want %s, got %s", te.Type, te.Value)}
		}
		return &ConfigError{Msg: err.Error()}
	}
	return nil
}

// checkValue walks the decoded tree against the target type, so errors carry a path.
func checkValue(x any, t reflect.Type, path []string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if x == nil {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		var raw []byte
		raw, _ = json.Marshal(x)
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return &ConfigError{Path: slices.Clone(path), Msg: err.Error()}
		}
		return nil
	}
	errAt := func(format string, args ...any) error {
		return &ConfigError{Path: slices.Clone(path), Msg: fmt.Sprintf(format, args...)}
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return errAt("want a mapping, got %s", jsonKind(x))
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := fields[k]
			if !ok {
				names := make([]string, 0, len(fields))
				for n := range fields {
					names = append(names, n)
				}
				slices.Sort(names)
				return &ConfigError{Path: append(slices.Clone(path), k), Msg: fmt.Sprintf("unknown key %q (valid keys: %s)", k, strings.Join(names, ", "))}
			}
			if err := checkValue(m[k], f.Type, append(path, k)); err != nil {
				return err
			}
		}
		for name, f := range fields {
			if f.Tag.Get("required") == "true" {
				if _, ok := m[name]; !ok {
					return errAt("missing required key %q", name)
				}
			}
		}
	case reflect.Map:
		m, ok := x.(map[string]any)
		if !ok {
			return errAt("want a mapping, got %s", jsonKind(x))
		}
		for k, v := range m {
			if err := checkValue(v, t.Elem(), append(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		l, ok := x.([]any)
		if !ok {
			return errAt("want a list, got %s", jsonKind(x))
		}
		for i, v := range l {
			if err := checkValue(v, t.Elem(), append(path, strconv.Itoa(i))); err != nil {
				return err
			}
		}
	case reflect.String:
		if _, ok := x.(string); !ok {
			return errAt("want a string, got %s", jsonKind(x))
		}
	case reflect.Bool:
		if _, ok := x.(bool); !ok {
			return errAt("want true or false, got %s", jsonKind(x))
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := x.(json.Number)
		if !ok {
			return errAt("want a whole number, got %s", jsonKind(x))
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return errAt("want a whole number, got %s", n)
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := x.(json.Number); !ok {
			return errAt("want a number, got %s", jsonKind(x))
		}
	}
	return nil
}

func jsonKind(x any) string {
	switch v := x.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return strconv.Quote(v)
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return "nothing"
}

func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

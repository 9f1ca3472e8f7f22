package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// MetadataType is the type of one metadata value.
type MetadataType string

// Metadata value types. They mirror Dagster's metadata kinds that dagster-powerbi emits.
const (
	TypeText        MetadataType = "text"
	TypeURL         MetadataType = "url"
	TypeInt         MetadataType = "int"
	TypeFloat       MetadataType = "float"
	TypeBool        MetadataType = "bool"
	TypeJSON        MetadataType = "json"
	TypeTableSchema MetadataType = "table_schema"
)

// Metadata is a typed metadata value. Its JSON form is {"type": "...", "value": ...}.
type Metadata struct {
	Type  MetadataType `json:"type"`
	Value any          `json:"value"`
}

// TableSchema describes the columns of a table, as Dagster's TableSchema does.
type TableSchema struct {
	Columns []TableColumn `json:"columns"`
}

// TableColumn is one column of a TableSchema.
type TableColumn struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

// Text returns a text metadata value.
func Text(s string) Metadata { return Metadata{Type: TypeText, Value: s} }

// URL returns a url metadata value.
func URL(s string) Metadata { return Metadata{Type: TypeURL, Value: s} }

// Int returns an int metadata value.
func Int(n int64) Metadata { return Metadata{Type: TypeInt, Value: n} }

// Float returns a float metadata value.
func Float(f float64) Metadata { return Metadata{Type: TypeFloat, Value: f} }

// Bool returns a bool metadata value.
func Bool(b bool) Metadata { return Metadata{Type: TypeBool, Value: b} }

// JSON returns a json metadata value holding any JSON-encodable value.
func JSON(v any) Metadata { return Metadata{Type: TypeJSON, Value: v} }

// Schema returns a table_schema metadata value.
func Schema(t TableSchema) Metadata { return Metadata{Type: TypeTableSchema, Value: t} }

// Validate checks that the value fits the declared type.
func (m Metadata) Validate() error {
	switch m.Type {
	case TypeText, TypeURL:
		if _, ok := m.Value.(string); !ok {
			return fmt.Errorf("%s value must be a string, got %T", m.Type, m.Value)
		}
	case TypeInt:
		switch v := m.Value.(type) {
		case int, int32, int64:
		case float64:
			if v != math.Trunc(v) || math.IsInf(v, 0) {
				return fmt.Errorf("int value must be a whole number, got %v", v)
			}
		default:
			return fmt.Errorf("int value must be a number, got %T", m.Value)
		}
	case TypeFloat:
		switch v := m.Value.(type) {
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("float value must be finite")
			}
		case int, int64:
		default:
			return fmt.Errorf("float value must be a number, got %T", m.Value)
		}
	case TypeBool:
		if _, ok := m.Value.(bool); !ok {
			return fmt.Errorf("bool value must be true or false, got %T", m.Value)
		}
	case TypeJSON:
	case TypeTableSchema:
		if _, ok := m.Value.(TableSchema); !ok {
			return fmt.Errorf("table_schema value must be a table schema, got %T", m.Value)
		}
	default:
		return fmt.Errorf("unknown metadata type %q (want text, url, int, float, bool, json or table_schema)", m.Type)
	}
	return nil
}

// UnmarshalJSON decodes {"type","value"}, giving the value its Go type: int64 for int,
// float64 for float, TableSchema for table_schema.
func (m *Metadata) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type  MetadataType    `json:"type"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Type = raw.Type
	if len(raw.Value) == 0 {
		return fmt.Errorf("metadata value is missing")
	}
	var err error
	switch raw.Type {
	case TypeText, TypeURL:
		var s string
		err = json.Unmarshal(raw.Value, &s)
		m.Value = s
	case TypeInt:
		var n int64
		err = json.Unmarshal(raw.Value, &n)
		m.Value = n
	case TypeFloat:
		var f float64
		err = json.Unmarshal(raw.Value, &f)
		m.Value = f
	case TypeBool:
		var v bool
		err = json.Unmarshal(raw.Value, &v)
		m.Value = v
	case TypeTableSchema:
		var t TableSchema
		dec := json.NewDecoder(bytes.NewReader(raw.Value))
		dec.DisallowUnknownFields()
		err = dec.Decode(&t)
		m.Value = t
	case TypeJSON:
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw.Value))
		dec.UseNumber()
		err = dec.Decode(&v)
		m.Value = v
	default:
		return fmt.Errorf("unknown metadata type %q", raw.Type)
	}
	if err != nil {
		return fmt.Errorf("metadata of type %s: %w", raw.Type, err)
	}
	return nil
}

package jsonenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// benchRaw is a table lineage value of the shape pbisync sends, as json.Marshal makes it.
func benchRaw() []byte {
	var tables []any
	for i := range 40 {
		var cols []any
		for j := range 20 {
			cols = append(cols, map[string]any{"column": fmt.Sprintf("Column %d", j), "upstream": []any{map[string]any{
				"platform": "snowflake", "database": "SALES", "schema": "PUBLIC", "table": fmt.Sprintf("T%d", i), "column": fmt.Sprintf("C_%d", j)}}})
		}
		tables = append(tables, map[string]any{"table": fmt.Sprintf("Table %d", i), "upstream": []any{map[string]any{
			"platform": "snowflake", "server": "acme.snowflakecomputing.com", "database": "SALES", "schema": "PUBLIC", "table": fmt.Sprintf("T%d", i)}}, "columns": cols})
	}
	b, _ := json.Marshal(tables)
	return b
}

// BenchmarkRaw compares writing host-made raw JSON as the jsonl sink did (an Encoder
// compacting it) with AppendRaw.
func BenchmarkRaw(b *testing.B) {
	raw := benchRaw()
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(json.RawMessage(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if !json.Valid(raw) {
				b.Fatal("invalid")
			}
		}
	})
	for _, esc := range []bool{false, true} {
		b.Run(fmt.Sprintf("AppendRaw/escapeHTML=%v", esc), func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				var ok bool
				if dst, ok = AppendRaw(dst[:0], raw, esc); !ok {
					b.Fatal("refused")
				}
			}
		})
	}
}

// BenchmarkValue compares json.Marshal of a decoded value with Append.
func BenchmarkValue(b *testing.B) {
	var v any
	if err := json.Unmarshal(benchRaw(), &v); err != nil {
		b.Fatal(err)
	}
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Append", func(b *testing.B) {
		var dst []byte
		for b.Loop() {
			var ok bool
			if dst, ok = Append(dst[:0], v, true); !ok {
				b.Fatal("refused")
			}
		}
	})
}

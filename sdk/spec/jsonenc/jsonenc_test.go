package jsonenc

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
)

// encodeStd is what encoding/json writes for v: json.Marshal with escapeHTML, an
// Encoder with SetEscapeHTML(false) without (less its newline).
func encodeStd(v any, escapeHTML bool) ([]byte, error) {
	if escapeHTML {
		return json.Marshal(v)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// same checks that Append gives encoding/json's bytes for v in both escapings, or says
// it cannot; wantFast says it must not have to.
func same(t *testing.T, v any, wantFast bool) {
	t.Helper()
	for _, esc := range []bool{true, false} {
		want, err := encodeStd(v, esc)
		got, ok := Append([]byte("prefix"), v, esc)
		if !bytes.HasPrefix(got, []byte("prefix")) {
			t.Fatalf("%#v (escapeHTML %v): prefix lost: %q", v, esc, got)
		}
		got = got[len("prefix"):]
		switch {
		case ok && err != nil:
			t.Fatalf("%#v (escapeHTML %v): encoding/json fails (%v), Append gave %q", v, esc, err, got)
		case ok && !bytes.Equal(got, want):
			t.Fatalf("%#v (escapeHTML %v):\n got %q\nwant %q", v, esc, got, want)
		case !ok && len(got) != 0:
			t.Fatalf("%#v (escapeHTML %v): failed but appended %q", v, esc, got)
		case !ok && wantFast && err == nil:
			t.Fatalf("%#v (escapeHTML %v): not encoded, encoding/json gives %q", v, esc, want)
		}
	}
}

type appenderOnly struct{}

func (appenderOnly) AppendJSON(dst []byte) []byte { return append(dst, `{}`...) }

type appenderPtr struct{ A int }

func (p *appenderPtr) AppendJSON(dst []byte) []byte {
	return append(strconv.AppendInt(append(dst, `{"A":`...), int64(p.A), 10), '}')
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		v    any
		fast bool // Append must encode it itself
	}{
		{"nil", nil, true},
		{"string", "plain", true},
		{"escapes", "q\"b\\s/\b\f\n\r\t\x00\x01\x1f\x7f", true},
		{"html", "<a href='x'>&amp;</a>", true},
		{"separators", "a\u2028b\u2029c\u2027", true},
		{"invalid utf-8", "a\xffb\xc3(c\xed\xa0\x80d\xe2\x80", true},
		{"multibyte", "Ümlaut 日本 🎉", true},
		{"bool", true, true},
		{"ints", []any{int(-3), int64(math.MinInt64), int32(7), uint64(math.MaxUint64), uint(4)}, true},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.0, -1.5, 1e-7, 1e-6, 123456789.125, 1e20, 1e21, 5e-324, math.MaxFloat64, 1e-10}, true},
		{"NaN", math.NaN(), false},
		{"Inf", []any{math.Inf(1)}, false},
		{"numbers", []any{json.Number("12"), json.Number("-0.5e+7"), json.Number(""), json.Number("1E3")}, true},
		{"bad number", json.Number("01"), false},
		{"bad number 2", json.Number("1."), false},
		{"raw", json.RawMessage(`{"a":[1,2,{"b":null}],"c":"<&>"}`), false}, // escapeHTML changes it
		{"raw compact", json.RawMessage(`{"a":[1,2.5e3,{"b":null,"t":true,"f":false}],"c":"x\"\\\u00e9"}`), true},
		{"raw spaced", json.RawMessage(" [ 1 , {\"a\" : \"b\"} ]\n"), false},
		{"raw bad", json.RawMessage(`{"a":}`), false},
		{"raw nil", json.RawMessage(nil), true},
		{"nested", map[string]any{"z": 1.0, "a": []any{"x", map[string]any{"k": nil}}, "é": "v", "A": []string{"p"}}, true},
		{"nil slices", []any{[]any(nil), map[string]any(nil), []string(nil), map[string]string(nil)}, true},
		{"string map", map[string]string{"b": "2", "a": "<1>"}, true},
		{"appender", []any{appenderOnly{}}, false}, // not without escapeHTML
		{"nil pointer appender", []any{(*appenderPtr)(nil)}, false},
		{"unknown type", struct{ A int }{1}, false},
		{"cycle", cyclic, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { same(t, tt.v, tt.fast) })
	}
	if b, ok := Append(nil, []any{appenderOnly{}}, true); !ok || string(b) != "[{}]" {
		t.Errorf("appender: %q %v", b, ok)
	}
	if b, ok := Append(nil, []any{(*appenderPtr)(nil)}, true); !ok || string(b) != "[null]" {
		t.Errorf("nil appender: %q %v", b, ok)
	}
}

func TestMarshal(t *testing.T) {
	for _, v := range []any{map[string]any{"a": []any{"<b>"}}, struct{ A string }{"x"}} {
		got, err := Marshal(v)
		want, _ := json.Marshal(v)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Marshal(%#v) = %q, %v; want %q", v, got, err, want)
		}
	}
	if _, err := Marshal(math.NaN()); err == nil {
		t.Error("NaN marshalled")
	}
}

func TestValid(t *testing.T) {
	for _, s := range []string{
		``, ` `, `1`, `-`, `-0`, `01`, `1.`, `1.5e`, `1e+5`, `"`, `"\`, `"\u12"`, `"\u12G4"`, `"\x"`, "\"\x1f\"",
		`[`, `[1,]`, `[,1]`, `{"a"}`, `{"a":1,}`, `{1:2}`, `{"a":1 "b":2}`, `tru`, `nulls`, `1 2`, ` {"a" : [ true , false , null ] } `,
		`[[[]]]`, `{"":{}}`, "\"\xff\xfe\"", `[1]]`, `{]`, `[}`,
		strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting),
		strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1),
	} {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid says %v", s, got, want)
		}
	}
}

func FuzzRaw(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"<&>"}`, ` [1, "\u2028x"] `, `"\ud800"`, "\"\xe2\x80\xa8\"", `{"a":-0.5E+3}`, `[]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
		same(t, json.RawMessage(b), false)
		// Without HTML escaping every valid value is encoded here, not by encoding/json.
		if json.Valid(b) {
			if _, ok := AppendRaw(nil, b, false); !ok {
				t.Fatalf("AppendRaw(%q) refused a valid value", b)
			}
		}
	})
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\u2028\u2029", "\xff", "\x00\n\"\\", "é日"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { same(t, s, true) })
}

func FuzzFloat(f *testing.F) {
	for _, x := range []float64{0, 1, -1e-7, 1e21, 123.456, 5e-324} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		same(t, x, !math.IsNaN(x) && !math.IsInf(x, 0))
	})
}

// FuzzValue decodes the input as encoding/json does (with and without UseNumber) and
// checks that Append encodes the decoded value as encoding/json does.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`{"b":[1,"x",{"a":null}],"a":true}`, `[1e400]`, `"<\u2028>"`, `{"\u00e9":1,"e":2}`, `[-0.0,1e-7,12345678901234567890]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) == nil {
			same(t, v, true)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var n any
		if dec.Decode(&n) == nil {
			same(t, n, true)
		}
	})
}

// TestAppendLists: a list of lists of strings is written as json.Marshal writes a
// non-nil one, its nil lists as null.
func TestAppendLists(t *testing.T) {
	type key []string
	for _, ls := range [][]key{{}, {nil}, {{}, {"a", "<b>"}, nil, {"\u2028", "\xff"}}} {
		want, err := json.Marshal(ls)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendLists(nil, ls, true); string(got) != string(want) {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	if got := AppendLists[[]string](nil, nil, true); string(got) != "[]" {
		t.Errorf("a nil list: got %s, want []", got)
	}
}

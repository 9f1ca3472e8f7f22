// Package jsonenc appends values as encoding/json encodes them, byte for byte, without
// reflection: strings, numbers, the shapes JSON decodes into ([]any, map[string]any,
// json.Number, json.RawMessage), string slices and maps, and types that write
// themselves (Appender). It is what pbisync uses where encoding/json's reflection was
// most of the cost: the sink protocol's json metadata values and the jsonl sink's lines.
//
// Every function gives exactly what encoding/json would, or reports that it cannot
// (a type it does not know, a value encoding/json would refuse): the caller then asks
// encoding/json itself, which gives the same bytes or its own error. So a fast path
// never changes an output; it only skips work.
package jsonenc

import (
	"bytes"
	"encoding/json"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	scratchpkg "github.com/pbisync/pbisync/internal/scratch"
)

// Appender is a value that appends its own JSON: exactly the bytes json.Marshal gives
// for it (HTML-escaped strings, omitempty and field order as its json tags say).
type Appender interface {
	AppendJSON(dst []byte) []byte
}

// maxDepth bounds the nesting Append follows; past it (a value that contains itself),
// encoding/json is asked, which reports the cycle.
const maxDepth = 1000

// Marshal returns json.Marshal(v), by Append where it can. Its result is a slice of
// its own, of the exact size (Append works in a reused buffer).
func Marshal(v any) ([]byte, error) {
	buf := scratch.Get()
	b, ok := Append(buf, v, true)
	if !ok {
		scratch.Put(buf)
		return json.Marshal(v)
	}
	out := bytes.Clone(b)
	scratch.Put(b)
	return out, nil
}

// scratch holds the buffers Marshal appends into.
var scratch = scratchpkg.New(4, 64<<10, 4<<20)

// Append appends v as encoding/json encodes it: as json.Marshal does with escapeHTML,
// as an Encoder with SetEscapeHTML(false) does without (less its newline). It returns
// dst unchanged and false when it cannot: then encoding/json must be asked.
func Append(dst []byte, v any, escapeHTML bool) ([]byte, bool) {
	out, ok := appendValue(dst, v, escapeHTML, 0)
	if !ok {
		return dst, false
	}
	return out, true
}

func appendValue(dst []byte, v any, escapeHTML bool, depth int) ([]byte, bool) {
	if depth > maxDepth {
		return dst, false
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return AppendString(dst, x, escapeHTML), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case float64:
		return AppendFloat(dst, x)
	case json.Number:
		return appendNumber(dst, x)
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), true
		}
		return AppendRaw(dst, x, escapeHTML)
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendValue(dst, e, escapeHTML, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k, escapeHTML)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendValue(dst, x[k], escapeHTML, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []string:
		return AppendStrings(dst, x, escapeHTML), true
	case map[string]string:
		return AppendStringMap(dst, x, escapeHTML), true
	case Appender:
		if !escapeHTML {
			break
		}
		if rv := reflect.ValueOf(x); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(dst, "null"...), true // as encoding/json writes a nil pointer
		}
		return x.AppendJSON(dst), true
	}
	return dst, false
}

// AppendStrings appends a string slice (null when nil).
func AppendStrings(dst []byte, l []string, escapeHTML bool) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	return appendArray(dst, l, escapeHTML, AppendString)
}

// AppendLists appends a list of lists of strings (keys, say) as an array of arrays, each
// as AppendStrings writes it; ls itself is written as [] when nil.
func AppendLists[L ~[]string](dst []byte, ls []L, escapeHTML bool) []byte {
	return appendArray(dst, ls, escapeHTML, func(dst []byte, l L, escapeHTML bool) []byte {
		return AppendStrings(dst, l, escapeHTML)
	})
}

// appendArray appends l as a JSON array, each element as elem writes it.
func appendArray[T any](dst []byte, l []T, escapeHTML bool, elem func([]byte, T, bool) []byte) []byte {
	dst = append(dst, '[')
	for i, e := range l {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = elem(dst, e, escapeHTML)
	}
	return append(dst, ']')
}

// AppendStringMap appends a map of strings with its keys sorted (null when nil).
func AppendStringMap(dst []byte, m map[string]string, escapeHTML bool) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k, escapeHTML)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k], escapeHTML)
	}
	return append(dst, '}')
}

// AppendFloat appends a float64 as encoding/json does (ES6 number formatting); false
// for NaN and the infinities, which encoding/json refuses.
func AppendFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 to e-9, as encoding/json writes it
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

func appendNumber(dst []byte, n json.Number) ([]byte, bool) {
	if n == "" {
		return append(dst, '0'), true
	}
	if !validNumber(string(n)) {
		return dst, false
	}
	return append(dst, n...), true
}

// validNumber reports whether s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	n, ok := numberEnd(s, 0)
	return ok && n == len(s)
}

// numberEnd returns where the JSON number starting at i ends, false if there is none.
func numberEnd[B []byte | string](s B, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s):
		return i, false
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return i, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

const hex = "0123456789abcdef"

// safe[c] is true for the bytes a JSON string carries as they are without HTML
// escaping, safeHTML[c] with it: ASCII but for control bytes, the quote and the
// backslash (and <, > and & for safeHTML). The other bytes need a look.
var safe, safeHTML [256]bool

func init() {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\'
		safeHTML[c] = safe[c] && c != '<' && c != '>' && c != '&'
	}
}

// AppendString appends s as a JSON string as encoding/json writes it: \b \f \n \r \t
// and \uXXXX for the other control bytes, \" and \\, invalid UTF-8 as \ufffd, U+2028
// and U+2029 escaped, and <, > and & as \u003c, \u003e, \u0026 when escapeHTML.
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	table := &safe
	if escapeHTML {
		table = &safeHTML
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if table[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

package jsonenc

import (
	"bytes"
	"encoding/json"
)

// AppendRaw appends a json.RawMessage as encoding/json writes one: compacted, and with
// escapeHTML its <, > and & (and U+2028, U+2029) escaped. It returns false for bytes
// that are not one JSON value (encoding/json gives the error that names the fault),
// and, with escapeHTML, for bytes that escaping would change.
//
// Bytes that are already compact (what json.Marshal makes) are checked in one quick
// pass and copied: the check is what encoding/json's compaction costs a fraction of.
func AppendRaw(dst, raw []byte, escapeHTML bool) ([]byte, bool) {
	valid, asIs := checkRaw(raw, escapeHTML)
	switch {
	case !valid:
		return dst, false
	case asIs:
		return append(dst, raw...), true
	case escapeHTML:
		return dst, false
	}
	buf := bytes.NewBuffer(dst)
	if json.Compact(buf, raw) != nil {
		return dst, false
	}
	return buf.Bytes(), true
}

// Valid reports whether b is one JSON value, as json.Valid does (faster).
func Valid(b []byte) bool {
	valid, _ := checkRaw(b, false)
	return valid
}

// maxNesting is encoding/json's limit on nested arrays and objects.
const maxNesting = 10000

// stop[c] is set for the bytes a string scan must look at: the quote, the backslash
// and control bytes; stopHTML adds what HTML escaping changes (<, >, & and the first
// byte of U+2028 and U+2029).
var stop, stopHTML [256]bool

func init() {
	for c := range 0x20 {
		stop[c], stopHTML[c] = true, true
	}
	for _, c := range []byte{'"', '\\'} {
		stop[c], stopHTML[c] = true, true
	}
	for _, c := range []byte{'<', '>', '&', 0xE2} {
		stopHTML[c] = true
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// checkRaw reports whether b is one JSON value as encoding/json's scanner accepts it
// (strings may hold any bytes but control bytes, escapes are checked, nesting is at
// most 10,000 deep), and whether encoding/json would copy it unchanged: no space
// between tokens and, with escapeHTML, nothing that escaping changes.
func checkRaw(b []byte, escapeHTML bool) (valid, asIs bool) {
	s := rawScanner{b: b, table: &stop, asIs: true}
	if escapeHTML {
		s.table = &stopHTML
	}
	var stackBuf [64]byte
	stack := stackBuf[:0] // '[' or '{' per open container
	n := len(b)

	s.skip()
value:
	if s.i >= n {
		return false, false
	}
	switch c := b[s.i]; c {
	case '{', '[':
		if len(stack) >= maxNesting {
			return false, false
		}
		stack = append(stack, c)
		s.i++
		s.skip()
		if s.i < n && b[s.i] == c+2 { // '}' is '{'+2, ']' is '['+2
			stack = stack[:len(stack)-1]
			s.i++
			break
		}
		if c == '{' && !s.key() {
			return false, false
		}
		goto value
	case '"':
		if !s.str() {
			return false, false
		}
	case 't':
		if !s.literal("true") {
			return false, false
		}
	case 'f':
		if !s.literal("false") {
			return false, false
		}
	case 'n':
		if !s.literal("null") {
			return false, false
		}
	default:
		end, ok := numberEnd(b, s.i)
		if !ok {
			return false, false
		}
		s.i = end
	}
	// After a value: a comma, the end of its container, or the end of the input.
	for {
		s.skip()
		if len(stack) == 0 {
			return s.i == n, s.asIs && s.i == n
		}
		if s.i >= n {
			return false, false
		}
		top := stack[len(stack)-1]
		switch b[s.i] {
		case ',':
			s.i++
			s.skip()
			if top == '{' && !s.key() {
				return false, false
			}
			goto value
		case top + 2:
			stack = stack[:len(stack)-1]
			s.i++
		default:
			return false, false
		}
	}
}

// rawScanner is checkRaw's position in its input.
type rawScanner struct {
	b     []byte
	i     int
	table *[256]bool
	asIs  bool
}

func (s *rawScanner) skip() {
	if s.i < len(s.b) && isSpace(s.b[s.i]) {
		s.asIs = false
		for s.i < len(s.b) && isSpace(s.b[s.i]) {
			s.i++
		}
	}
}

// str scans the string that starts at b[i] (a quote); false if it is not one.
func (s *rawScanner) str() bool {
	b, t := s.b, s.table
	n := len(b)
	i := s.i + 1
	for {
		for i < n && !t[b[i]] {
			i++
		}
		if i >= n {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			if i+1 >= n {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		case c == 0xE2: // only in stopHTML
			if i+2 < n && b[i+1] == 0x80 && b[i+2]&^1 == 0xA8 {
				s.asIs = false
			}
			i++
		default: // <, > or &, only in stopHTML
			s.asIs = false
			i++
		}
	}
}

// key scans `"name":` of an object member, with the spaces around the colon.
func (s *rawScanner) key() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' || !s.str() {
		return false
	}
	s.skip()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	s.skip()
	return true
}

func (s *rawScanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return false
	}
	s.i += len(lit)
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

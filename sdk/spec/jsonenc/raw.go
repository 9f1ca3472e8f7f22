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
	table := &stop
	if escapeHTML {
		table = &stopHTML
	}
	asIs = true
	var stackBuf [64]byte
	stack := stackBuf[:0] // '[' or '{' per open container
	n := len(b)
	i := 0
	skip := func() {
		if i < n && isSpace(b[i]) {
			asIs = false
			for i < n && isSpace(b[i]) {
				i++
			}
		}
	}
	// str scans the string that starts at b[i] (a quote); false if it is not one.
	str := func() bool {
		i++
		for {
			for i < n && !table[b[i]] {
				i++
			}
			if i >= n {
				return false
			}
			switch c := b[i]; {
			case c == '"':
				i++
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
					asIs = false
				}
				i++
			default: // <, > or &, only in stopHTML
				asIs = false
				i++
			}
		}
	}
	// key scans `"name":` of an object member, with the spaces around the colon.
	key := func() bool {
		if i >= n || b[i] != '"' || !str() {
			return false
		}
		skip()
		if i >= n || b[i] != ':' {
			return false
		}
		i++
		skip()
		return true
	}

	skip()
value:
	if i >= n {
		return false, false
	}
	switch c := b[i]; c {
	case '{', '[':
		if len(stack) >= maxNesting {
			return false, false
		}
		stack = append(stack, c)
		i++
		skip()
		if i < n && b[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			stack = stack[:len(stack)-1]
			i++
			break
		}
		if c == '{' && !key() {
			return false, false
		}
		goto value
	case '"':
		if !str() {
			return false, false
		}
	case 't':
		if !literal(b, i, "true") {
			return false, false
		}
		i += 4
	case 'f':
		if !literal(b, i, "false") {
			return false, false
		}
		i += 5
	case 'n':
		if !literal(b, i, "null") {
			return false, false
		}
		i += 4
	default:
		end, ok := numberEnd(b, i)
		if !ok {
			return false, false
		}
		i = end
	}
	// After a value: a comma, the end of its container, or the end of the input.
	for {
		skip()
		if len(stack) == 0 {
			return i == n, asIs && i == n
		}
		if i >= n {
			return false, false
		}
		top := stack[len(stack)-1]
		switch b[i] {
		case ',':
			i++
			skip()
			if top == '{' && !key() {
				return false, false
			}
			goto value
		case top + 2:
			stack = stack[:len(stack)-1]
			i++
		default:
			return false, false
		}
	}
}

func literal(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

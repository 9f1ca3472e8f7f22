package snapshot

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner walks JSON that is already known to be well formed (jsonenc.Valid checked the
// document, or the stream decoder the value as it read it), so it skips values without
// checking them. Each of
// its reads reports false for anything it does not take exactly as encoding/json would
// (a value of another type, an escaped or non-ASCII key): the caller then decodes the
// value with encoding/json, which gives the same result and the same errors.
type scanner struct {
	b       []byte
	i       int
	scratch struct {
		tables       []wireTable
		sources      []wireSource
		columns      []Column
		measures     []Measure
		expressions  []Expression
		usages       []wireUsage
		dataflowRefs []wireDataflowRef
		datasetRefs  []wireDatasetRef
		tiles        []wireTile
	}
	// keys holds the key being matched at each depth of object (deeper ones get a
	// buffer of their own): the key passed to a field function is read from it, so
	// that matching a key allocates nothing.
	keys  [keyDepth]keyBuf
	depth int
	// names are the column names read so far (scanner.name).
	names map[string]string
}

// keyDepth is how deep objects nest before object allocates its key buffer (a scan
// result's items are about six deep).
const keyDepth = 12

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next byte that is not white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.space()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// skipString moves past the string s is at; plain says it holds no escape and no byte
// outside ASCII, so its bytes are its value.
func (s *scanner) skipString() (plain bool) {
	open := s.i + 1
	if !s.endString() {
		return false
	}
	body := s.b[open : s.i-1]
	return bytes.IndexByte(body, '\\') < 0 && ascii(body)
}

// endString moves past the string s is at.
func (s *scanner) endString() bool {
	b := s.b
	open := s.i + 1
	i := open
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			s.i = len(b)
			return false
		}
		end := i + j
		// The quote ends the string unless an odd run of backslashes escapes it.
		k := end
		for k > open && b[k-1] == '\\' {
			k--
		}
		if (end-k)%2 == 0 {
			s.i = end + 1
			return true
		}
		i = end + 1
	}
}

// ascii reports whether b holds only ASCII.
func ascii(b []byte) bool {
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		if w&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skip moves past the value s is at.
func (s *scanner) skip() {
	switch s.peek() {
	case 0:
	case '"':
		s.endString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.endString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return
				}
			}
			s.i++
		}
	default: // a number, true, false or null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

// raw is the value s is at, as it is in the document.
func (s *scanner) raw() json.RawMessage {
	s.space()
	start := s.i
	s.skip()
	return s.b[start:s.i:s.i]
}

// null moves past a null if s is at one.
func (s *scanner) null() bool {
	if s.peek() == 'n' {
		s.i += len("null")
		return true
	}
	return false
}

// str reads a string, leaving *v as it is for a null (as encoding/json does).
func (s *scanner) str(v *string) bool {
	switch s.peek() {
	case 'n':
		s.i += len("null")
		return true
	case '"':
	default:
		return false
	}
	start := s.i
	plain := s.skipString()
	quoted := s.b[start:s.i]
	body := quoted[1 : len(quoted)-1]
	if plain || (bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body)) {
		*v = string(body)
		return true
	}
	u, ok := unquote(body)
	if ok {
		*v = u
	}
	return ok
}

// unquote reads the body of a JSON string (between its quotes) as encoding/json does:
// its escapes, and U+FFFD for a byte that is not UTF-8 and for a lone surrogate.
func unquote(body []byte) (string, bool) {
	var out strings.Builder
	out.Grow(len(body))
	for i := 0; i < len(body); {
		switch c := body[i]; {
		case c == '\\':
			if i+1 >= len(body) {
				return "", false
			}
			switch e := body[i+1]; e {
			case '"', '\\', '/':
				out.WriteByte(e)
			case 'b':
				out.WriteByte('\b')
			case 'f':
				out.WriteByte('\f')
			case 'n':
				out.WriteByte('\n')
			case 'r':
				out.WriteByte('\r')
			case 't':
				out.WriteByte('\t')
			case 'u':
				r := hex4(body[i:])
				if r < 0 {
					return "", false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if d := utf16.DecodeRune(r, hex4(body[i:])); d != unicode.ReplacementChar {
						r = d
						i += 6
					} else {
						r = unicode.ReplacementChar
					}
				}
				out.WriteRune(r)
				continue
			default:
				return "", false
			}
			i += 2
		case c < utf8.RuneSelf:
			out.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				out.WriteRune(unicode.ReplacementChar)
			} else {
				out.Write(body[i : i+size])
			}
			i += size
		}
	}
	return out.String(), true
}

// hex4 is the code point of the \uXXXX escape b starts with, or -1.
func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// boolean reads true or false, leaving *v as it is for a null.
func (s *scanner) boolean(v *bool) bool {
	switch s.peek() {
	case 't':
		*v = true
		s.i += len("true")
	case 'f':
		*v = false
		s.i += len("false")
	case 'n':
		s.i += len("null")
	default:
		return false
	}
	return true
}

// keyBuf holds a key folded to lower case: the fields it is matched against are ASCII.
type keyBuf [40]byte

// object calls field with each member's key, folded to lower case, for the object s is
// at; field reads the value. A null is an object without members. A key with an escape or
// a byte outside ASCII, or longer than any field's, is for encoding/json to match.
func (s *scanner) object(field func(key string) bool) bool {
	if s.null() {
		return true
	}
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	var buf *keyBuf
	if s.depth < len(s.keys) {
		buf = &s.keys[s.depth]
	} else {
		buf = new(keyBuf)
	}
	s.depth++
	ok := s.members(buf, field)
	s.depth--
	return ok
}

// members reads an object's members after its '{', passing field each key in buf. The
// key is valid until field returns: field functions only compare it.
func (s *scanner) members(buf *keyBuf, field func(key string) bool) bool {
	for {
		if s.peek() != '"' {
			return false
		}
		start := s.i
		if !s.skipString() {
			return false
		}
		k := s.b[start+1 : s.i-1]
		if len(k) > len(buf) {
			// No field has a name this long: skipped, as encoding/json skips it.
			k = nil
		}
		n := copy(buf[:], k)
		for j := range n {
			if c := buf[j]; 'A' <= c && c <= 'Z' {
				buf[j] = c + 'a' - 'A'
			}
		}
		if s.peek() != ':' {
			return false
		}
		s.i++
		key := unsafe.String(&buf[0], n)
		if k == nil {
			key = "\x00"
		}
		if !field(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// array calls elem for each element of the array s is at; elem reads it. isNull says the
// value was null, which leaves a slice nil.
func (s *scanner) array(elem func() bool) (isNull, ok bool) {
	if s.null() {
		return true, true
	}
	if s.peek() != '[' {
		return false, false
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return false, true
	}
	for {
		if !elem() {
			return false, false
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return false, true
		default:
			return false, false
		}
	}
}

// raws reads an array into the elements' JSON, as []json.RawMessage decodes.
func (s *scanner) raws(v *[]json.RawMessage) bool {
	out := (*v)[:0]
	isNull, ok := s.array(func() bool {
		out = append(out, s.raw())
		return true
	})
	if isNull {
		out = nil
	} else if out == nil {
		out = []json.RawMessage{}
	}
	*v = out
	return ok
}

// fields is the set of a struct's fields already read, to leave a repeated one to
// encoding/json (which merges some kinds of repeats).
type fields uint32

func (f *fields) first(bit uint) bool {
	if *f&(1<<bit) != 0 {
		return false
	}
	*f |= 1 << bit
	return true
}

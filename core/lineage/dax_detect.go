package lineage

import (
	"strings"
	"unicode"
)

// ReasonDAXExpression marks a table whose source is a DAX expression (a
// calculated table), not M: it reads the model's own tables, not a warehouse.
const ReasonDAXExpression = "dax_expression"

// looksLikeDAX reports whether a table's source expression is DAX rather than M.
// M table sources start with `let`, a section, an identifier, a library call
// (dotted) or a literal; DAX calculated tables start with VAR/EVALUATE/DEFINE, a
// 'quoted table', or a call to an upper-case function without a dot
// (SUMMARIZE, CALENDAR, FILTER, DATATABLE). A `let` only counts as a word at the
// start: "let" inside a DAX string does not make it M.
func looksLikeDAX(src string, defined func(string) bool) bool {
	s := skipMComments(src)
	word, rest := leadingWord(s)
	upper := word
	if !isASCII(word) {
		upper = strings.ToUpper(word) // ı and ſ upper-case to ASCII letters
	}
	switch {
	case strings.EqualFold(upper, "LET"), strings.EqualFold(upper, "SECTION"):
		return false
	case strings.EqualFold(upper, "VAR"), strings.EqualFold(upper, "EVALUATE"), strings.EqualFold(upper, "DEFINE"):
		return rest != "" && (rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r')
	}
	if strings.HasPrefix(s, "'") {
		return true
	}
	if word == "" || strings.ContainsRune(word, '.') || defined(word) {
		return false
	}
	if strings.ToUpper(word) != word || !strings.ContainsFunc(word, unicode.IsLetter) {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(rest, " \t\r\n"), "(")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// skipMComments drops leading blanks and comments (//, --, /* */).
func skipMComments(s string) string {
	for {
		s = strings.TrimLeft(s, " \t\r\n\ufeff")
		switch {
		case strings.HasPrefix(s, "//"), strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return ""
			}
			s = s[i+4:]
		default:
			return s
		}
	}
}

// leadingWord returns the identifier (letters, digits, _ and .) at the start of s.
func leadingWord(s string) (string, string) {
	i := 0
	for i < len(s) {
		c := s[i]
		if c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			i++
			continue
		}
		break
	}
	return s[:i], s[i:]
}

// Package sqltables finds the tables a SQL query reads: the names after FROM and
// JOIN (comma joins, subqueries and UNION branches included), minus CTE names, temp
// tables and the targets of INSERT, UPDATE, DELETE and MERGE. It knows ANSI SQL and
// the quoting of SQL Server ([x]), MySQL and BigQuery (`x`), and never panics.
package sqltables

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tWord   tokKind = iota // bare word: keyword or identifier
	tQuoted                // "x", [x] or `x`: always an identifier
	tString                // 'text'
	tNumber
	tPunct
	tParam // @p, :p, ?, $1
)

type token struct {
	kind tokKind
	text string // identifiers unquoted; words as written
}

func (t token) isWord(w string) bool { return t.kind == tWord && strings.EqualFold(t.text, w) }

func (t token) isPunct(p string) bool { return t.kind == tPunct && t.text == p }

// lex splits SQL into tokens, dropping whitespace and comments. Unterminated
// strings, identifiers and comments run to the end of the input.
func lex(sql string) []token { return lexDialect(sql, Dialect{}) }

// Dialect is what of the SQL's lexical rules differ between platforms.
type Dialect struct {
	// BackslashEscapes: a backslash escapes the next character inside '...'
	// literals (Snowflake, MySQL, Databricks, BigQuery), not in standard SQL
	// and T-SQL.
	BackslashEscapes bool
}

func lexDialect(sql string, d Dialect) []token {
	var out []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-', c == '/' && i+1 < len(sql) && sql[i+1] == '/':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 4
			}
		case c == '\'':
			s, n := quoted(sql[i:], '\'', '\'')
			if d.BackslashEscapes {
				s, n = backslashQuoted(sql[i:])
			}
			out = append(out, token{tString, s})
			i += n
		case c == '"':
			s, n := quoted(sql[i:], '"', '"')
			out = append(out, token{tQuoted, s})
			i += n
		case c == '`':
			s, n := quoted(sql[i:], '`', '`')
			out = append(out, token{tQuoted, s})
			i += n
		case c == '[':
			s, n := quoted(sql[i:], '[', ']')
			out = append(out, token{tQuoted, s})
			i += n
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && (isWordByte(sql[j]) || sql[j] == '.' && j+1 < len(sql) && sql[j+1] >= '0' && sql[j+1] <= '9') {
				j++
			}
			out = append(out, token{tNumber, sql[i:j]})
			i = j
		case c == '@' || c == ':' && i+1 < len(sql) && isWordStart(sql[i+1:]) || c == '$' || c == '?':
			j := i + 1
			for j < len(sql) && (isWordByte(sql[j]) || sql[j] == '@') {
				j++
			}
			out = append(out, token{tParam, sql[i:j]})
			i = j
		case isWordStart(sql[i:]) || c == '#':
			j := i + 1
			for j < len(sql) {
				r, size := utf8.DecodeRuneInString(sql[j:])
				if r == '_' || r == '$' || r == '#' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					j += size
					continue
				}
				break
			}
			out = append(out, token{tWord, sql[i:j]})
			i = j
		default:
			_, size := utf8.DecodeRuneInString(sql[i:])
			out = append(out, token{tPunct, sql[i : i+size]})
			i += size
		}
	}
	return out
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isWordStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return r == '_' || unicode.IsLetter(r)
}

// quoted reads a literal opened by s[0] and closed by close, where a doubled close
// escapes it. It returns the unescaped text and the bytes consumed.
func quoted(s string, _ byte, close byte) (string, int) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		if s[i] == close {
			if i+1 < len(s) && s[i+1] == close {
				b.WriteByte(close)
				i += 2
				continue
			}
			return b.String(), i + 1
		}
		if s[i] == '\\' && close == '`' && i+1 < len(s) {
			b.WriteByte(s[i+1])
			i += 2
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), len(s)
}

// backslashQuoted reads a '...' literal where a backslash escapes the next
// character and ” a quote.
func backslashQuoted(s string) (string, int) {
	var b strings.Builder
	i := 1
	for i < len(s) {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
			continue
		case s[i] == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			return b.String(), i + 1
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), len(s)
}

// Package dax finds the columns and measures a DAX expression references:
// 'Table Name'[Column], Table[Column] and unqualified [Measure], skipping text
// literals and comments. It never panics.
package dax

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says what a reference points at.
type Kind uint8

// Reference kinds.
const (
	// Column is a table-qualified column: 'Sales'[Amount].
	Column Kind = iota
	// Measure is an unqualified bracketed name: [Total Sales]. DAX convention keeps
	// unqualified names for measures; in a row context it may also be a column of
	// the current table.
	Measure
)

func (k Kind) String() string {
	if k == Column {
		return "column"
	}
	return "measure"
}

// Ref is one reference.
type Ref struct {
	Kind  Kind
	Table string // empty for measures
	Name  string
}

func (r Ref) String() string {
	if r.Kind == Measure {
		return "[" + r.Name + "]"
	}
	return "'" + r.Table + "'[" + r.Name + "]"
}

// keywords can stand before a bracket without being a table name.
var keywords = map[string]bool{
	"return": true, "var": true, "in": true, "not": true, "and": true, "or": true,
	"define": true, "evaluate": true, "measure": true, "column": true, "table": true,
	"order": true, "by": true, "asc": true, "desc": true, "start": true, "at": true,
	"true": true, "false": true, "else": true, "then": true,
}

// References returns the references in expr, each once, in order of appearance.
func References(expr string) []Ref {
	var out []Ref
	seen := map[Ref]bool{}
	add := func(r Ref) {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	table := ""    // a table name just read, waiting for its [Column]
	tableEnd := -1 // where that name ended
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"':
			i = skipQuoted(expr, i, '"')
			table = ""
		case c == '/' && i+1 < len(expr) && expr[i+1] == '/', c == '-' && i+1 < len(expr) && expr[i+1] == '-':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(expr) && expr[i+1] == '*':
			end := strings.Index(expr[i+2:], "*/")
			if end < 0 {
				i = len(expr)
			} else {
				i += end + 4
			}
		case c == '\'':
			end := skipQuoted(expr, i, '\'')
			table = unescape(expr[i+1:max(end-1, i+1)], '\'')
			tableEnd = end
			i = end
			continue
		case c == '[':
			end := skipBracket(expr, i)
			name := unescape(expr[i+1:max(end-1, i+1)], ']')
			if table != "" && onlySpace(expr[tableEnd:i]) {
				add(Ref{Kind: Column, Table: table, Name: name})
			} else {
				add(Ref{Kind: Measure, Name: name})
			}
			table = ""
			i = end
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
			continue
		default:
			r, size := utf8.DecodeRuneInString(expr[i:])
			if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
				j := i
				for j < len(expr) {
					r, size := utf8.DecodeRuneInString(expr[j:])
					if r != '_' && r != '.' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
						break
					}
					j += size
				}
				word := expr[i:j]
				table, tableEnd = "", -1
				if !keywords[strings.ToLower(word)] && !unicode.IsDigit(r) {
					table, tableEnd = word, j
				}
				i = j
				continue
			}
			i += size
		}
		table = ""
	}
	return out
}

func onlySpace(s string) bool { return strings.TrimSpace(s) == "" }

// skipQuoted returns the index past a quote-delimited literal starting at i, where a
// doubled quote escapes it; an unterminated literal runs to the end.
func skipQuoted(s string, i int, q byte) int {
	i++
	for i < len(s) {
		if s[i] == q {
			if i+1 < len(s) && s[i+1] == q {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(s) + 1
}

// skipBracket returns the index past [name], where ]] escapes ].
func skipBracket(s string, i int) int {
	i++
	for i < len(s) {
		if s[i] == ']' {
			if i+1 < len(s) && s[i+1] == ']' {
				i += 2
				continue
			}
			return i + 1
		}
		i++
	}
	return len(s) + 1
}

func unescape(s string, q byte) string {
	d := string([]byte{q, q})
	return strings.ReplaceAll(s, d, string(q))
}

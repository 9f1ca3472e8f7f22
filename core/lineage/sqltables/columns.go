package sqltables

import "strings"

// Column is an output column of a query and the table columns it is computed from.
type Column struct {
	Name    string
	Sources []ColumnSource
}

// ColumnSource is a column of a table a query reads.
type ColumnSource struct {
	Table  Table
	Column string
}

// Columns returns the output columns of the query's outermost SELECT when its
// select list names them explicitly: no `*`, no set operation. Each column's sources
// are the table columns its expression mentions, resolved through the FROM clause's
// aliases; an unqualified column is attributed only when the FROM clause has one
// table. ok is false when the columns are not explicit.
func Columns(sql string) (cols []Column, ok bool) { return ColumnsDialect(sql, Dialect{}) }

// ColumnsDialect is Columns with d's lexical rules.
func ColumnsDialect(sql string, d Dialect) (cols []Column, ok bool) {
	toks := resultStatement(lexDialect(sql, d))
	ctes := map[string]bool{}
	start := mainSelect(toks, ctes)
	if start < 0 {
		return nil, false
	}
	// The select list runs to FROM at the same depth; a set operation at depth 0
	// makes the output a union of several lists.
	depth, end := 0, -1
	for i := start + 1; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case depth == 0 && t.isWord("from") && end < 0:
			end = i
		case depth == 0 && (t.isWord("union") || t.isWord("except") || t.isWord("intersect") || t.isWord("minus")):
			return nil, false
		case depth == 0 && t.isPunct(";"):
			if end < 0 {
				end = i
			}
			i = len(toks)
		}
	}
	if end < 0 {
		end = len(toks)
	}
	aliases, only := fromAliases(toks, end, ctes)
	items := splitItems(toks[start+1 : end])
	for _, item := range items {
		item = skipSelectModifiers(item)
		if len(item) == 0 {
			return nil, false
		}
		for j, t := range item {
			if t.isPunct("*") && (j == 0 || item[j-1].isPunct(".")) {
				return nil, false
			}
		}
		col, ok := selectItem(item, aliases, only)
		if !ok {
			return nil, false
		}
		cols = append(cols, col)
	}
	return cols, len(cols) > 0
}

// mainSelect returns the index of the outermost query's SELECT, past any WITH
// clause, collecting the CTE names.
func mainSelect(toks []token, ctes map[string]bool) int {
	depth := 0
	for i, t := range toks {
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case depth == 0 && t.isWord("with") && i+1 < len(toks):
			n := toks[i+1]
			if n.isWord("recursive") && i+2 < len(toks) {
				n = toks[i+2]
			}
			ctes[strings.ToLower(n.text)] = true
		case depth == 0 && t.isPunct(",") && i+2 < len(toks) && toks[i+2].isWord("as"):
			ctes[strings.ToLower(toks[i+1].text)] = true
		case depth == 0 && t.isWord("select"):
			return i
		}
	}
	return -1
}

func splitItems(toks []token) [][]token {
	var out [][]token
	depth, from := 0, 0
	for i, t := range toks {
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case depth == 0 && t.isPunct(","):
			out = append(out, toks[from:i])
			from = i + 1
		}
	}
	return append(out, toks[from:])
}

func skipSelectModifiers(item []token) []token {
	for len(item) > 0 {
		switch {
		case item[0].isWord("distinct") || item[0].isWord("all"):
			item = item[1:]
		case item[0].isWord("top") && len(item) > 1:
			item = item[2:]
			if len(item) > 0 && item[0].isWord("percent") {
				item = item[1:]
			}
			if len(item) > 1 && item[0].isWord("with") && item[1].isWord("ties") {
				item = item[2:]
			}
		default:
			return item
		}
	}
	return item
}

// fromAliases maps the qualifiers usable in the select list (aliases and table
// names, lower-cased) to tables, from the FROM clause starting at from. only is the
// single table when there is exactly one.
func fromAliases(toks []token, from int, ctes map[string]bool) (map[string]*Table, *Table) {
	aliases := map[string]*Table{}
	var tables []*Table
	depth := 0
	expectTable := false
	for i := from; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.isPunct("("):
			depth++
			if depth == 1 && expectTable {
				// A derived table: its columns are not a table's.
				tables = append(tables, nil)
				expectTable = false
			}
			continue
		case t.isPunct(")"):
			depth--
			continue
		}
		if depth != 0 {
			continue
		}
		switch {
		case t.isWord("from") || t.isWord("join") || t.isPunct(",") && len(tables) > 0:
			expectTable = true
		case t.isWord("where") || t.isWord("group") || t.isWord("order") || t.isWord("having") ||
			t.isWord("union") || t.isPunct(";"):
			i = len(toks)
		case expectTable && (t.kind == tWord && !reserved[strings.ToLower(t.text)] || t.kind == tQuoted):
			x := &extractor{toks: toks, i: i, ctes: map[string]bool{}}
			parts, _ := x.name()
			if len(parts) == 0 {
				continue
			}
			var clean []string
			for _, p := range parts {
				clean = append(clean, strings.Split(p, ".")...)
			}
			tb := &Table{Parts: clean}
			if len(clean) == 1 && ctes[strings.ToLower(clean[0])] {
				tb = nil
			}
			tables = append(tables, tb)
			if tb != nil {
				aliases[strings.ToLower(tb.Name())] = tb
			}
			i = x.i
			if i < len(toks) && toks[i].isWord("as") {
				i++
			}
			if i < len(toks) && (toks[i].kind == tQuoted || toks[i].kind == tWord && !reserved[strings.ToLower(toks[i].text)]) {
				aliases[strings.ToLower(toks[i].text)] = tb
			} else {
				i--
			}
			expectTable = false
		}
	}
	if len(tables) == 1 {
		return aliases, tables[0]
	}
	return aliases, nil
}

// selectItem reads one select-list item: `expr [AS] alias` or a column reference.
func selectItem(item []token, aliases map[string]*Table, only *Table) (Column, bool) {
	var col Column
	body := item
	n := len(item)
	if n >= 2 {
		last, prev := item[n-1], item[n-2]
		isIdent := last.kind == tQuoted || last.kind == tWord && !reserved[strings.ToLower(last.text)]
		if isIdent && (prev.isWord("as") || prev.kind != tPunct || prev.text == ")") {
			// `expr AS alias`, `f(x) alias`, `col alias`
			col.Name = last.text
			body = item[:n-1]
			if prev.isWord("as") {
				body = item[:n-2]
			}
		}
	}
	// Column references in the expression: dotted names not followed by `(`.
	for i := 0; i < len(body); i++ {
		t := body[i]
		if t.kind != tWord && t.kind != tQuoted || t.kind == tWord && reserved[strings.ToLower(t.text)] {
			continue
		}
		parts := []string{t.text}
		j := i + 1
		for j+1 < len(body) && body[j].isPunct(".") && (body[j+1].kind == tWord || body[j+1].kind == tQuoted) {
			parts = append(parts, body[j+1].text)
			j += 2
		}
		if j < len(body) && body[j].isPunct("(") {
			i = j // a function call
			continue
		}
		i = j - 1
		name := parts[len(parts)-1]
		var tb *Table
		if len(parts) >= 2 {
			tb = aliases[strings.ToLower(parts[len(parts)-2])]
		} else {
			tb = only
		}
		if tb != nil {
			col.Sources = append(col.Sources, ColumnSource{Table: *tb, Column: name})
		}
	}
	if col.Name == "" && (len(body) == 1 || len(body) == 3 && body[1].isPunct(".")) {
		col.Name = body[len(body)-1].text
	}
	if col.Name == "" {
		// An unnamed expression column (its name is the engine's choice), or an
		// empty quoted name.
		return col, false
	}
	return col, true
}

// statements splits a batch at `;` and GO separators outside parentheses.
func statements(toks []token) [][]token {
	var out [][]token
	depth, start := 0, 0
	for i, t := range toks {
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
		case depth <= 0 && (t.isPunct(";") || t.isWord("go")):
			if i > start {
				out = append(out, toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}

// resultStatement returns the statement of a batch whose rows the query returns:
// the first SELECT (or WITH ... SELECT) that selects no INTO a table. Batches of
// one statement are returned whole.
func resultStatement(toks []token) []token {
	stmts := statements(toks)
	if len(stmts) <= 1 {
		if len(toks) > 0 && toks[0].kind == tWord {
			switch strings.ToLower(toks[0].text) {
			case "insert", "update", "delete", "merge", "create", "drop", "exec", "execute", "set", "declare", "use":
				return nil
			}
		}
		return toks
	}
	for _, st := range stmts {
		if !st[0].isWord("select") && !st[0].isWord("with") {
			continue
		}
		into := false
		depth := 0
		for _, t := range st {
			switch {
			case t.isPunct("("):
				depth++
			case t.isPunct(")"):
				depth--
			case depth == 0 && t.isWord("into"):
				into = true
			}
		}
		if !into {
			return st
		}
	}
	return nil
}

// UseDatabase returns the database a T-SQL batch switches to with `USE db` before
// its result statement, or "".
func UseDatabase(sql string) string {
	db := ""
	for _, st := range statements(lex(sql)) {
		if len(st) == 2 && st[0].isWord("use") && (st[1].kind == tWord || st[1].kind == tQuoted) {
			db = st[1].text
			continue
		}
		if st[0].isWord("select") || st[0].isWord("with") {
			break
		}
	}
	return db
}

package sqltables

import (
	"strings"
)

// Table is a table name as written: one to four parts, the last the table. A
// BigQuery `project.dataset.table` in one quoted identifier is split into parts.
type Table struct {
	Parts []string
}

// Name returns the table's last part.
func (t Table) Name() string { return t.Parts[len(t.Parts)-1] }

// String joins the parts with dots.
func (t Table) String() string { return strings.Join(t.Parts, ".") }

// Extract returns the tables the SQL reads, each once (case-insensitively), in order
// of first appearance. CTE names, temp tables (#t), table variables (@t), table
// functions and the targets of INSERT, UPDATE, DELETE and MERGE are left out.
func Extract(sql string) []Table { return ExtractDialect(sql, Dialect{}) }

// ExtractDialect is Extract with d's lexical rules.
func ExtractDialect(sql string, d Dialect) []Table {
	x := extractor{toks: lexDialect(sql, d), ctes: map[string]bool{}}
	x.run()
	var out []Table
	seen := map[string]bool{}
	for _, t := range x.found {
		if len(t.Parts) == 1 && x.ctes[strings.ToLower(t.Parts[0])] {
			continue
		}
		k := strings.ToLower(t.String())
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

type extractor struct {
	toks  []token
	i     int
	ctes  map[string]bool
	found []Table
}

// frame is the state of one parenthesis level.
type frame struct {
	sawSelect bool // a SELECT at this level: a FROM here starts a table list
	// fromList: the level was opened as a derived table inside a FROM list, so
	// after its `)` comes an alias and maybe `, next_table`.
	fromList bool
}

func (x *extractor) tok(i int) token {
	if i >= 0 && i < len(x.toks) {
		return x.toks[i]
	}
	return token{kind: tPunct, text: ""}
}

func (x *extractor) run() {
	stack := []frame{{}}
	for x.i < len(x.toks) {
		t := x.toks[x.i]
		top := &stack[len(stack)-1]
		switch {
		case t.isPunct("("):
			stack = append(stack, frame{})
			x.i++
		case t.isPunct(")"):
			x.i++
			if len(stack) > 1 {
				closed := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if closed.fromList {
					if x.afterTableRef() {
						stack = x.tableList(stack, true)
					}
				}
			}
		case t.isWord("select"):
			top.sawSelect = true
			x.i++
		case t.isWord("with") && x.startsCTE():
			x.i++
			x.cteNames()
		case t.isWord("from"):
			prev := x.tok(x.i - 1)
			x.i++
			if prev.isWord("delete") {
				x.skipName() // the target, not read
				continue
			}
			if len(stack) > 1 && !top.sawSelect {
				continue // EXTRACT(YEAR FROM d), TRIM(' ' FROM s), SUBSTRING(s FROM 2)
			}
			stack = x.tableList(stack, true)
		case t.isWord("join") || t.isWord("apply"):
			x.i++
			stack = x.tableList(stack, false)
		case t.isWord("using") && x.tok(x.i+1).kind != tPunct:
			// MERGE ... USING source
			x.i++
			stack = x.tableList(stack, false)
		case t.isWord("into") || t.isWord("update") || t.isWord("merge") || t.isWord("table") && x.tok(x.i-1).isWord("truncate"):
			x.i++
			if x.tok(x.i).isWord("into") {
				x.i++
			}
			x.skipName()
		default:
			x.i++
		}
	}
}

// startsCTE reports whether the WITH at the cursor opens a WITH clause rather than
// a table hint (WITH (NOLOCK)) or WITH TIES.
func (x *extractor) startsCTE() bool {
	n := x.tok(x.i + 1)
	if n.isWord("recursive") {
		return true
	}
	return (n.kind == tWord || n.kind == tQuoted) && !n.isWord("ties")
}

// cteNames reads `name [(cols)] AS [NOT] [MATERIALIZED] (` for each CTE, leaving the
// cursor at the body's `(` so the main loop scans the body too.
func (x *extractor) cteNames() {
	if x.tok(x.i).isWord("recursive") {
		x.i++
	}
	n := x.tok(x.i)
	if n.kind != tWord && n.kind != tQuoted {
		return
	}
	x.ctes[strings.ToLower(n.text)] = true
	x.i++
	if x.tok(x.i).isPunct("(") {
		x.skipParens()
	}
	if x.tok(x.i).isWord("as") {
		x.i++
	}
	for x.tok(x.i).isWord("not") || x.tok(x.i).isWord("materialized") {
		x.i++
	}
	// The body is scanned by the main loop; after its `)`, a comma introduces the
	// next CTE, which the loop would otherwise miss.
	depth := 0
	for j := x.i; j < len(x.toks); j++ {
		t := x.toks[j]
		switch {
		case t.isPunct("("):
			depth++
		case t.isPunct(")"):
			depth--
			if depth == 0 {
				if x.tok(j + 1).isPunct(",") {
					n := x.tok(j + 2)
					if n.kind == tWord || n.kind == tQuoted {
						x.ctes[strings.ToLower(n.text)] = true
						// Mark later CTE names by scanning forward from here.
						saved := x.i
						x.i = j + 2
						x.cteNames()
						x.i = saved
					}
				}
				return
			}
		}
	}
}

func (x *extractor) skipParens() {
	depth := 0
	for x.i < len(x.toks) {
		t := x.toks[x.i]
		x.i++
		if t.isPunct("(") {
			depth++
		} else if t.isPunct(")") {
			depth--
			if depth <= 0 {
				return
			}
		}
	}
}

// name reads a dotted name at the cursor. ok is false when there is none.
func (x *extractor) name() (parts []string, ok bool) {
	for {
		t := x.tok(x.i)
		switch {
		case t.kind == tQuoted:
			parts = append(parts, t.text)
		case t.kind == tWord && !(len(parts) == 0 && reserved[strings.ToLower(t.text)]):
			parts = append(parts, t.text)
		case t.isPunct(".") && len(parts) > 0:
			// db..table: the schema left out
			parts = append(parts, "")
			x.i++
			continue
		default:
			return parts, len(parts) > 0
		}
		x.i++
		if !x.tok(x.i).isPunct(".") {
			return parts, true
		}
		x.i++
	}
}

func (x *extractor) skipName() { x.name() }

// tableList reads table references after FROM (list: comma-separated) or JOIN.
func (x *extractor) tableList(stack []frame, list bool) []frame {
	for {
		for x.tok(x.i).isWord("lateral") || x.tok(x.i).isWord("only") {
			x.i++
		}
		t := x.tok(x.i)
		if t.isPunct("(") {
			// A derived table or parenthesized join: the main loop scans inside.
			x.i++
			stack = append(stack, frame{fromList: list})
			if n := x.tok(x.i); n.kind == tWord && !n.isWord("select") && !n.isWord("with") && !n.isWord("values") || n.kind == tQuoted {
				// FROM (a JOIN b ON ...): the first table of the join.
				continue
			}
			return stack
		}
		if t.kind == tParam || t.kind == tString {
			x.i++ // @stage, 'file'
		} else {
			parts, ok := x.name()
			if !ok {
				return stack
			}
			if x.tok(x.i).isPunct("(") {
				// A table function: its arguments may hold subqueries.
				x.i++
				stack = append(stack, frame{fromList: list})
				return stack
			}
			x.add(parts)
		}
		if !x.afterTableRef() || !list {
			return stack
		}
	}
}

// afterTableRef skips an alias, column aliases and table hints. It returns true when
// a comma follows, with the cursor past it.
func (x *extractor) afterTableRef() bool {
	for {
		t := x.tok(x.i)
		switch {
		case t.isWord("as"):
			x.i++
		case t.isWord("with") && x.tok(x.i+1).isPunct("("), t.isWord("tablesample") || t.isWord("sample"):
			x.i++
			x.skipParens()
		case t.isWord("for") && x.tok(x.i+1).isWord("system_time"):
			x.i += 2
		case t.kind == tQuoted || t.kind == tWord && !reserved[strings.ToLower(t.text)]:
			x.i++
			if x.tok(x.i).isPunct("(") {
				x.skipParens() // column aliases
			}
		case t.isPunct(","):
			x.i++
			return true
		default:
			return false
		}
	}
}

func (x *extractor) add(parts []string) {
	var clean []string
	for _, p := range parts {
		// BigQuery: `project.dataset.table` quoted whole.
		clean = append(clean, strings.Split(p, ".")...)
	}
	last := clean[len(clean)-1]
	if last == "" || strings.HasPrefix(last, "#") || strings.HasPrefix(last, "@") {
		return
	}
	if len(clean) == 1 && (strings.EqualFold(last, "dual") || strings.EqualFold(last, "unnest")) {
		return
	}
	x.found = append(x.found, Table{Parts: clean})
}

// reserved are words that end a table reference or cannot be table names.
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`where join on left right inner outer full cross natural group order having
		limit union except intersect minus window qualify using with pivot unpivot fetch offset for lateral
		apply option into set values returning select from as and or not is null case when then else end
		exists in between like ilike top distinct all by asc desc partition over rows range connect start
		prior sample tablesample lock nowait skip straight_join force ignore use go`) {
		reserved[w] = true
	}
}

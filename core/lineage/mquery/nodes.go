package mquery

import "sync"

// nodes holds the parser's most common nodes in arrays sized from the token counts,
// so a parse allocates a few arrays rather than a node at a time. A node beyond an
// array's estimate is allocated alone.
type nodes struct {
	literals []Literal
	idents   []Ident
	records  []Record
	fields   []FieldAccess
	items    []ItemAccess
	calls    []Call
	binaries []Binary
}

// newNode stores v in the spare room of *arr, or on its own when there is none. The
// arrays never grow, so the nodes already handed out stay where they are.
func newNode[T any](arr *[]T, v T) *T {
	if len(*arr) < cap(*arr) {
		*arr = append(*arr, v)
		return &(*arr)[len(*arr)-1]
	}
	n := new(T)
	*n = v
	return n
}

// reserve sizes the node arrays for toks: upper bounds for literals and identifiers,
// estimates for the rest.
func (n *nodes) reserve(toks []Token) {
	var lits, idents, records, fields, items, calls, ops int
	for i := range toks {
		t := &toks[i]
		switch t.Kind {
		case TokText, TokVerbatim, TokNumber:
			lits++
		case TokIdent, TokQuotedIdent:
			// Not the names of bindings, record fields and field access.
			if !nextIs(toks, i, "=") && !nextIs(toks, i, "]") {
				idents++
			}
		case TokKeyword:
			switch t.Text {
			case "true", "false", "null", "#infinity", "#nan":
				lits++
			case "and", "or", "is", "as", "meta":
				ops++
			default:
				if t.Text[0] == '#' {
					idents++
				}
			}
		case TokPunct:
			switch t.Text {
			case "[":
				if isRecordAt(toks, i) {
					records++
				} else {
					fields++
				}
			case "{":
				if i > 0 && endsOperand(&toks[i-1]) {
					items++
				}
			case "(":
				if i > 0 && endsOperand(&toks[i-1]) {
					calls++
				}
			case "=":
				// Not the = after a binding's or a field's name.
				if i > 0 && !isWordToken(&toks[i-1]) && toks[i-1].Kind != TokQuotedIdent {
					ops++
				}
			case "<>", "<", ">", "<=", ">=", "+", "-", "&", "*", "/", "??":
				ops++
			}
		}
	}
	n.literals = make([]Literal, 0, lits)
	n.idents = make([]Ident, 0, idents)
	n.records = make([]Record, 0, records)
	n.fields = make([]FieldAccess, 0, fields)
	n.items = make([]ItemAccess, 0, items)
	n.calls = make([]Call, 0, calls)
	n.binaries = make([]Binary, 0, ops)
}

func nextIs(toks []Token, i int, punct string) bool {
	return i+1 < len(toks) && toks[i+1].Kind == TokPunct && toks[i+1].Text == punct
}

// endsOperand reports whether t can end the operand a call or item access follows.
func endsOperand(t *Token) bool {
	switch t.Kind {
	case TokIdent, TokQuotedIdent, TokText:
		return true
	case TokKeyword:
		return t.Text[0] == '#'
	case TokPunct:
		return t.Text == ")" || t.Text == "]" || t.Text == "}" || t.Text == "?"
	}
	return false
}

// scratch is a parse's reusable memory: the tokens, and stacks where list-like nodes
// gather their parts before they are copied out at their final size.
type scratch struct {
	p        parser
	toks     []Token
	fields   []Field
	bindings []Binding
	exprs    []Expr
}

// scratchPool keeps scratch between parses: a sync of 100,000 tables would otherwise
// allocate its M's size in tokens several times over (56 bytes a token, one every few
// bytes of M).
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxPooledTokens and maxPooledStack bound the buffers kept: a rare huge document's
// go to the collector.
const (
	maxPooledTokens = 1 << 16
	maxPooledStack  = 1 << 12
)

// newParser lexes src into pooled scratch; release gives the scratch back.
func newParser(src string) (*parser, error) {
	buf := scratchPool.Get().(*scratch)
	toks, err := lexAppend(buf.toks[:0], src)
	buf.toks = toks
	p := &buf.p
	*p = parser{src: src, toks: toks, buf: buf}
	if err == nil {
		p.nodes.reserve(toks)
	}
	return p, err
}

func (p *parser) release() {
	b := p.buf
	*p = parser{} // drop the source and the node arrays
	if cap(b.toks) > maxPooledTokens || cap(b.fields) > maxPooledStack || cap(b.bindings) > maxPooledStack || cap(b.exprs) > maxPooledStack {
		return
	}
	// Drop the references to the source; the stacks were cleared as they were popped.
	clear(b.toks)
	b.toks = b.toks[:0]
	pop(&b.fields, 0)
	pop(&b.bindings, 0)
	pop(&b.exprs, 0)
	scratchPool.Put(b)
}

// pop drops (*stack)[mark:], clearing their references to the tree.
func pop[T any](stack *[]T, mark int) {
	clear((*stack)[mark:])
	*stack = (*stack)[:mark]
}

// collect returns a copy of (*stack)[mark:] at its exact size, nil when empty, and
// pops those items.
func collect[T any](stack *[]T, mark int) []T {
	items := (*stack)[mark:]
	var out []T
	if len(items) > 0 {
		out = make([]T, len(items))
		copy(out, items)
	}
	pop(stack, mark)
	return out
}

package mquery

import (
	"fmt"
	"strings"
)

// MaxDepth bounds expression nesting, so hostile input cannot exhaust the stack.
const MaxDepth = 400

// Parse parses an M document: a single expression, or a section document.
func Parse(src string) (*Document, error) {
	p, err := newParser(src)
	defer p.release()
	if err != nil {
		return nil, err
	}
	return p.document()
}

// ParseExpr parses a single M expression.
func ParseExpr(src string) (Expr, error) {
	p, err := newParser(src)
	defer p.release()
	if err != nil {
		return nil, err
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.Kind != TokEOF {
		return nil, p.errf(t, "unexpected %s after the expression", t)
	}
	return e, nil
}

type parser struct {
	src   string
	toks  []Token
	i     int
	depth int
	nodes nodes
	buf   *scratch
}

// tok is the token at the cursor. Tokens are read through pointers into the
// buffer, which does not change during a parse.
func (p *parser) tok() *Token { return &p.toks[p.i] }

func (p *parser) peekN(n int) *Token {
	if p.i+n < len(p.toks) {
		return &p.toks[p.i+n]
	}
	return &p.toks[len(p.toks)-1]
}

func (p *parser) next() *Token {
	t := &p.toks[p.i]
	if t.Kind != TokEOF {
		p.i++
	}
	return t
}

func (p *parser) is(k Kind, text string) bool {
	t := p.tok()
	return t.Kind == k && t.Text == text
}

func (p *parser) isPunct(s string) bool { return p.is(TokPunct, s) }
func (p *parser) isKw(s string) bool    { return p.is(TokKeyword, s) }

func (p *parser) errf(t *Token, format string, args ...any) error {
	return &SyntaxError{Pos: t.Pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(k Kind, text string) (*Token, error) {
	t := p.tok()
	if t.Kind != k || t.Text != text {
		return t, p.errf(t, "expected %q, found %s", text, t)
	}
	return p.next(), nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(p.tok(), "expression nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) document() (*Document, error) {
	if p.isKw("section") || p.isPunct("[") && p.sectionAfterAttributes() {
		s, err := p.section()
		if err != nil {
			return nil, err
		}
		return &Document{Section: s}, nil
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.Kind != TokEOF {
		return nil, p.errf(t, "unexpected %s after the expression", t)
	}
	return &Document{Expr: e}, nil
}

// sectionAfterAttributes reports whether a record at the start is followed by `section`.
func (p *parser) sectionAfterAttributes() bool {
	end := p.matching(p.i)
	return end >= 0 && end+1 < len(p.toks) && p.toks[end+1].Kind == TokKeyword && p.toks[end+1].Text == "section"
}

// matching returns the index of the bracket closing the one at i, or -1.
func (p *parser) matching(i int) int {
	depth := 0
	for j := i; j < len(p.toks); j++ {
		t := p.toks[j]
		if t.Kind != TokPunct {
			continue
		}
		switch t.Text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

func (p *parser) section() (*Section, error) {
	s := &Section{At: p.tok().Pos}
	if p.isPunct("[") {
		e, err := p.primary()
		if err != nil {
			return nil, err
		}
		r, ok := e.(*Record)
		if !ok {
			return nil, &SyntaxError{Pos: s.At, Msg: "section attributes must be a record"}
		}
		s.Attributes = r
	}
	if _, err := p.expect(TokKeyword, "section"); err != nil {
		return nil, err
	}
	name, err := p.identifier()
	if err != nil {
		return nil, err
	}
	s.Name = name.Text
	if _, err := p.expect(TokPunct, ";"); err != nil {
		return nil, err
	}
	for p.tok().Kind != TokEOF {
		m := SectionMember{At: p.tok().Pos}
		if p.isPunct("[") {
			if _, err := p.primary(); err != nil { // member attributes carry no meaning here
				return nil, err
			}
		}
		if p.isKw("shared") {
			p.next()
			m.Shared = true
		}
		name, err := p.identifier()
		if err != nil {
			return nil, err
		}
		m.Name = name.Text
		if _, err := p.expect(TokPunct, "="); err != nil {
			return nil, err
		}
		if m.Value, err = p.expr(); err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, ";"); err != nil {
			return nil, err
		}
		s.Members = append(s.Members, m)
	}
	return s, nil
}

func (p *parser) identifier() (*Token, error) {
	t := p.tok()
	if t.Kind != TokIdent && t.Kind != TokQuotedIdent {
		return t, p.errf(t, "expected an identifier, found %s", t)
	}
	return p.next(), nil
}

// expr parses any expression.
func (p *parser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	x, err := p.exprNested()
	p.leave()
	return x, err
}

// exprNested is expr within its nesting level, which expr leaves without a defer (a
// deferred call in a function of many returns is not open-coded, and costs).
func (p *parser) exprNested() (Expr, error) {
	t := p.tok()
	switch {
	case t.Kind == TokKeyword && t.Text == "let":
		return p.let()
	case t.Kind == TokKeyword && t.Text == "if":
		p.next()
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokKeyword, "then"); err != nil {
			return nil, err
		}
		then, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokKeyword, "else"); err != nil {
			return nil, err
		}
		els, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &If{At: t.Pos, Cond: cond, Then: then, Else: els}, nil
	case t.Kind == TokKeyword && t.Text == "each":
		p.next()
		body, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Each{At: t.Pos, Body: body}, nil
	case t.Kind == TokKeyword && t.Text == "error":
		p.next()
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &ErrorExpr{At: t.Pos, Value: v}, nil
	case t.Kind == TokKeyword && t.Text == "try":
		return p.try()
	case t.Kind == TokPunct && t.Text == "(" && p.isFunction():
		return p.function()
	}
	return p.coalesce()
}

func (p *parser) let() (Expr, error) {
	l := &Let{At: p.next().Pos}
	mark := len(p.buf.bindings)
	defer pop(&p.buf.bindings, mark)
	for {
		name, err := p.identifier()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, "="); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		p.buf.bindings = append(p.buf.bindings, Binding{At: name.Pos, Name: name.Text, Value: v})
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	l.Bindings = collect(&p.buf.bindings, mark)
	if _, err := p.expect(TokKeyword, "in"); err != nil {
		return nil, err
	}
	body, err := p.expr()
	if err != nil {
		return nil, err
	}
	l.Body = body
	return l, nil
}

func (p *parser) try() (Expr, error) {
	t := &Try{At: p.next().Pos}
	body, err := p.expr()
	if err != nil {
		return nil, err
	}
	t.Body = body
	switch {
	case p.isKw("otherwise"):
		p.next()
		if t.Otherwise, err = p.expr(); err != nil {
			return nil, err
		}
	case p.is(TokIdent, "catch"):
		at := p.next().Pos
		if _, err := p.expect(TokPunct, "("); err != nil {
			return nil, err
		}
		fn := &Function{At: at}
		if !p.isPunct(")") {
			name, err := p.identifier()
			if err != nil {
				return nil, err
			}
			fn.Params = []Param{{At: name.Pos, Name: name.Text}}
		}
		if _, err := p.expect(TokPunct, ")"); err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, "=>"); err != nil {
			return nil, err
		}
		if fn.Body, err = p.expr(); err != nil {
			return nil, err
		}
		t.Catch = fn
	}
	return t, nil
}

// isFunction reports whether the `(` at the cursor starts a function expression:
// its matching `)` is followed by `=>`, or by `as [nullable] type =>`.
func (p *parser) isFunction() bool {
	end := p.matching(p.i)
	if end < 0 || end+1 >= len(p.toks) {
		return false
	}
	j := end + 1
	t := p.toks[j]
	if t.Kind == TokPunct && t.Text == "=>" {
		return true
	}
	if t.Kind != TokKeyword || t.Text != "as" {
		return false
	}
	j++
	if j < len(p.toks) && p.toks[j].Kind == TokIdent && p.toks[j].Text == "nullable" {
		j++
	}
	j++ // the type name
	return j < len(p.toks) && p.toks[j].Kind == TokPunct && p.toks[j].Text == "=>"
}

func (p *parser) function() (Expr, error) {
	fn := &Function{At: p.next().Pos}
	params, err := p.params(false)
	if err != nil {
		return nil, err
	}
	fn.Params = params
	if p.isKw("as") {
		p.next()
		if fn.Return, err = p.nullablePrimitive(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(TokPunct, "=>"); err != nil {
		return nil, err
	}
	if fn.Body, err = p.expr(); err != nil {
		return nil, err
	}
	return fn, nil
}

// fieldName reads a generalized identifier or a quoted identifier. A generalized
// identifier is a run of words separated only by blanks: [Order Date], [Sales 2019].
func (p *parser) fieldName() (string, error) {
	t := p.tok()
	if t.Kind == TokQuotedIdent {
		p.next()
		return t.Text, nil
	}
	if !isWordToken(t) {
		return "", p.errf(t, "expected a field name, found %s", t)
	}
	p.next()
	end := t.End
	for {
		n := p.tok()
		if !isWordToken(n) || strings.Trim(p.src[end:n.Pos.Offset], " ") != "" {
			break
		}
		end = n.End
		p.next()
	}
	return p.src[t.Pos.Offset:end], nil
}

func isWordToken(t *Token) bool {
	return t.Kind == TokIdent || t.Kind == TokKeyword || t.Kind == TokNumber
}

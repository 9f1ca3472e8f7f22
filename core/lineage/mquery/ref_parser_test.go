// Code generated from the M lexer and parser as of commit e8381df (before the
// allocation and precedence-climbing work) by renaming their package-level names
// with a ref prefix; the only later edit converts positions to the 32-bit Pos. DO NOT
// EDIT otherwise. It is the baseline the differential tests and benchmarks compare
// the current lexer and parser against.

package mquery

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// refLex splits M source into tokens, dropping whitespace and comments. The last token
// is always TokEOF. A malformed literal or comment stops lexing with a *SyntaxError.
func refLex(src string) ([]Token, error) {
	return reflexAppend(make([]Token, 0, len(src)/4+1), src)
}

// reftokenPool keeps token buffers between parses: the refparser reads tokens by value and
// keeps none, and a sync of 100,000 tables would otherwise allocate its M's size in
// tokens several times over (56 bytes a token, one every few bytes of M).
var reftokenPool = sync.Pool{New: func() any { return new([]Token) }}

// refmaxPooledTokens bounds the buffers kept: a rare huge document's goes to the collector.
const refmaxPooledTokens = 1 << 16

// reflexPooled lexes src into a buffer from the pool; refreleaseTokens gives it back.
func reflexPooled(src string) (*[]Token, error) {
	buf := reftokenPool.Get().(*[]Token)
	toks, err := reflexAppend((*buf)[:0], src)
	*buf = toks
	return buf, err
}

func refreleaseTokens(buf *[]Token) {
	if cap(*buf) > refmaxPooledTokens {
		return
	}
	clear(*buf) // drop the texts' references to the source
	*buf = (*buf)[:0]
	reftokenPool.Put(buf)
}

// reflexAppend appends src's tokens to toks.
func reflexAppend(toks []Token, src string) ([]Token, error) {
	l := reflexer{src: src, line: 1, col: 1}
	for {
		t, err := l.next()
		if err != nil {
			return toks, err
		}
		toks = append(toks, t)
		if t.Kind == TokEOF {
			return toks, nil
		}
	}
}

type reflexer struct {
	src       string
	off       int
	line, col int
}

func (l *reflexer) pos() Pos {
	return Pos{Offset: int32(l.off), Line: int32(l.line), Col: int32(l.col)}
}

func (l *reflexer) errf(p Pos, msg string) error { return &SyntaxError{Pos: p, Msg: msg} }

func (l *reflexer) peek(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

// advance moves past one rune, keeping line and column.
func (l *reflexer) advance() rune {
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += size
	switch r {
	case '\r':
		if l.peek(0) == '\n' {
			l.off++
		}
		l.line++
		l.col = 1
	case '\n', '\u0085', '\u2028', '\u2029':
		l.line++
		l.col = 1
	default:
		l.col++
	}
	return r
}

func refisWhitespace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\v' || r == '\f' || r == '\r' || r == '\n'
	}
	switch r {
	case '\t', '\v', '\f', '\r', '\n', '\u0085', '\u2028', '\u2029':
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

func refisIdentStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return r == '_' || unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo, unicode.Nl)
}

func refisIdentPart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return refisIdentStart(r) || unicode.In(r, unicode.Nd, unicode.Pc, unicode.Mn, unicode.Mc, unicode.Cf)
}

func (l *reflexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		switch {
		case refisWhitespace(r):
			l.advance()
		case r == '/' && l.peek(1) == '/':
			for l.off < len(l.src) {
				r, _ := utf8.DecodeRuneInString(l.src[l.off:])
				if r == '\r' || r == '\n' || r == '\u0085' || r == '\u2028' || r == '\u2029' {
					break
				}
				l.advance()
			}
		case r == '/' && l.peek(1) == '*':
			start := l.pos()
			l.advance()
			l.advance()
			for {
				if l.off >= len(l.src) {
					return l.errf(start, "unterminated comment")
				}
				if l.src[l.off] == '*' && l.peek(1) == '/' {
					l.advance()
					l.advance()
					break
				}
				l.advance()
			}
		default:
			return nil
		}
	}
	return nil
}

var refpuncts3 = []string{"..."}
var refpuncts2 = []string{"<=", ">=", "<>", "??", "=>", ".."}

func (l *reflexer) next() (Token, error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return Token{}, err
	}
	start := l.pos()
	if l.off >= len(l.src) {
		return Token{Kind: TokEOF, Pos: start, End: int32(l.off)}, nil
	}
	tok := func(k Kind, text string) (Token, error) {
		return Token{Kind: k, Text: text, Pos: start, End: int32(l.off)}, nil
	}
	c := l.src[l.off]
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	switch {
	case c == '"':
		s, err := l.text()
		if err != nil {
			return Token{}, err
		}
		return tok(TokText, s)
	case c == '#':
		switch l.peek(1) {
		case '"':
			l.advance()
			s, err := l.text()
			if err != nil {
				return Token{}, err
			}
			return tok(TokQuotedIdent, s)
		case '!':
			if l.peek(2) == '"' {
				l.advance()
				l.advance()
				s, err := l.text()
				if err != nil {
					return Token{}, err
				}
				return tok(TokVerbatim, s)
			}
		}
		l.advance()
		for l.off < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if !refisIdentPart(r) {
				break
			}
			l.advance()
		}
		word := l.src[start.Offset:l.off]
		if !refhashKeywords[word] {
			return Token{}, l.errf(start, "unknown keyword "+strconv.Quote(word))
		}
		return tok(TokKeyword, word)
	case c >= '0' && c <= '9' || c == '.' && l.peek(1) >= '0' && l.peek(1) <= '9':
		return l.number(start)
	case refisIdentStart(r):
		l.identifier()
		word := l.src[start.Offset:l.off]
		if refkeywords[word] {
			return tok(TokKeyword, word)
		}
		return tok(TokIdent, word)
	}
	for _, p := range refpuncts3 {
		if strings.HasPrefix(l.src[l.off:], p) {
			l.off += len(p)
			l.col += len(p)
			return tok(TokPunct, p)
		}
	}
	for _, p := range refpuncts2 {
		if strings.HasPrefix(l.src[l.off:], p) {
			l.off += len(p)
			l.col += len(p)
			return tok(TokPunct, p)
		}
	}
	if strings.IndexByte(",;=<>+-*/&()[]{}@?!", c) >= 0 {
		l.advance()
		return tok(TokPunct, string(c))
	}
	return Token{}, l.errf(start, "unexpected character "+strconv.QuoteRune(r))
}

// identifier reads a regular identifier: parts joined by dots, where a dot counts
// only when an identifier character follows it (Table.SelectRows, Int64.Type).
func (l *reflexer) identifier() {
	for {
		for l.off < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if !refisIdentPart(r) {
				break
			}
			l.advance()
		}
		if l.peek(0) != '.' || l.off+1 >= len(l.src) {
			return
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.off+1:])
		if !refisIdentPart(r) {
			return
		}
		l.advance()
	}
}

func refisDigit(c byte) bool { return c >= '0' && c <= '9' }

func refisHex(c byte) bool { return refisDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (l *reflexer) number(start Pos) (Token, error) {
	if l.peek(0) == '0' && (l.peek(1) == 'x' || l.peek(1) == 'X') {
		l.advance()
		l.advance()
		if !refisHex(l.peek(0)) {
			return Token{}, l.errf(start, "hexadecimal number without digits")
		}
		for refisHex(l.peek(0)) {
			l.advance()
		}
	} else {
		for refisDigit(l.peek(0)) {
			l.advance()
		}
		// A dot starts a fraction only before a digit: 1..10 is a range.
		if l.peek(0) == '.' && refisDigit(l.peek(1)) {
			l.advance()
			for refisDigit(l.peek(0)) {
				l.advance()
			}
		}
		if c := l.peek(0); c == 'e' || c == 'E' {
			n := 1
			if s := l.peek(1); s == '+' || s == '-' {
				n = 2
			}
			if refisDigit(l.peek(n)) {
				for range n {
					l.advance()
				}
				for refisDigit(l.peek(0)) {
					l.advance()
				}
			}
		}
	}
	return Token{Kind: TokNumber, Text: l.src[start.Offset:l.off], Pos: start, End: int32(l.off)}, nil
}

// text reads a "..." literal starting at the quote and returns its decoded value.
func (l *reflexer) text() (string, error) {
	start := l.pos()
	l.advance() // opening quote
	// Fast path: no escapes and no line breaks, so the value is a substring.
	if end := strings.IndexByte(l.src[l.off:], '"'); end >= 0 {
		body := l.src[l.off : l.off+end]
		if !strings.ContainsAny(body, "#\r\n\u0085\u2028\u2029") && !strings.HasPrefix(l.src[l.off+end:], `""`) {
			l.off += end + 1
			l.col += utf8.RuneCountInString(body) + 1
			return body, nil
		}
	}
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", l.errf(start, "unterminated text literal")
		}
		c := l.src[l.off]
		switch {
		case c == '"':
			if l.peek(1) == '"' {
				b.WriteByte('"')
				l.advance()
				l.advance()
				continue
			}
			l.advance()
			return b.String(), nil
		case c == '#' && l.peek(1) == '(':
			if err := l.escape(&b); err != nil {
				return "", err
			}
		default:
			r := l.advance()
			if r == '\r' && l.src[l.off-1] == '\n' {
				b.WriteString("\r\n")
			} else {
				b.WriteRune(r)
			}
		}
	}
}

// escape reads a #( ... ) character escape sequence: a comma-separated list of cr,
// lf, tab, #, 4-digit or 8-digit hexadecimal code points.
func (l *reflexer) escape(b *strings.Builder) error {
	start := l.pos()
	end := strings.IndexByte(l.src[l.off:], ')')
	if end < 0 {
		return l.errf(start, "unterminated escape sequence")
	}
	body := l.src[l.off+2 : l.off+end]
	for _, part := range strings.Split(body, ",") {
		switch {
		case part == "cr":
			b.WriteByte('\r')
		case part == "lf":
			b.WriteByte('\n')
		case part == "tab":
			b.WriteByte('\t')
		case part == "#":
			b.WriteByte('#')
		case len(part) == 4 || len(part) == 8:
			n, err := strconv.ParseUint(part, 16, 32)
			if err != nil || n > unicode.MaxRune {
				return l.errf(start, "invalid escape "+strconv.Quote(part))
			}
			b.WriteRune(rune(n))
		default:
			return l.errf(start, "invalid escape "+strconv.Quote(part))
		}
	}
	for l.off < len(l.src) && l.src[l.off] != ')' {
		l.advance()
	}
	l.advance()
	return nil
}

// refParse parses an M document: a single expression, or a section document.
func refParse(src string) (*Document, error) {
	toks, err := reflexPooled(src)
	defer refreleaseTokens(toks)
	if err != nil {
		return nil, err
	}
	p := &refparser{src: src, toks: *toks}
	return p.document()
}

// refParseExpr parses a single M expression.
func refParseExpr(src string) (Expr, error) {
	toks, err := reflexPooled(src)
	defer refreleaseTokens(toks)
	if err != nil {
		return nil, err
	}
	p := &refparser{src: src, toks: *toks}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.Kind != TokEOF {
		return nil, p.errf(t, "unexpected %s after the expression", t)
	}
	return e, nil
}

type refparser struct {
	src   string
	toks  []Token
	i     int
	depth int
}

func (p *refparser) tok() Token { return p.toks[p.i] }

func (p *refparser) peekN(n int) Token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *refparser) next() Token {
	t := p.toks[p.i]
	if t.Kind != TokEOF {
		p.i++
	}
	return t
}

func (p *refparser) is(k Kind, text string) bool {
	t := p.tok()
	return t.Kind == k && t.Text == text
}

func (p *refparser) isPunct(s string) bool { return p.is(TokPunct, s) }
func (p *refparser) isKw(s string) bool    { return p.is(TokKeyword, s) }

func (p *refparser) errf(t Token, format string, args ...any) error {
	return &SyntaxError{Pos: t.Pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *refparser) expect(k Kind, text string) (Token, error) {
	t := p.tok()
	if t.Kind != k || t.Text != text {
		return t, p.errf(t, "expected %q, found %s", text, t)
	}
	return p.next(), nil
}

func (p *refparser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(p.tok(), "expression nested deeper than %d levels", MaxDepth)
	}
	return nil
}

func (p *refparser) leave() { p.depth-- }

func (p *refparser) document() (*Document, error) {
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
func (p *refparser) sectionAfterAttributes() bool {
	end := p.matching(p.i)
	return end >= 0 && end+1 < len(p.toks) && p.toks[end+1].Kind == TokKeyword && p.toks[end+1].Text == "section"
}

// matching returns the index of the bracket closing the one at i, or -1.
func (p *refparser) matching(i int) int {
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

func (p *refparser) section() (*Section, error) {
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

func (p *refparser) identifier() (Token, error) {
	t := p.tok()
	if t.Kind != TokIdent && t.Kind != TokQuotedIdent {
		return t, p.errf(t, "expected an identifier, found %s", t)
	}
	return p.next(), nil
}

// expr parses any expression.
func (p *refparser) expr() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
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

func (p *refparser) let() (Expr, error) {
	l := &Let{At: p.next().Pos}
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
		l.Bindings = append(l.Bindings, Binding{At: name.Pos, Name: name.Text, Value: v})
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
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

func (p *refparser) try() (Expr, error) {
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
func (p *refparser) isFunction() bool {
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

func (p *refparser) function() (Expr, error) {
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
func (p *refparser) fieldName() (string, error) {
	t := p.tok()
	if t.Kind == TokQuotedIdent {
		p.next()
		return t.Text, nil
	}
	if !refisWordToken(t) {
		return "", p.errf(t, "expected a field name, found %s", t)
	}
	p.next()
	end := t.End
	for {
		n := p.tok()
		if !refisWordToken(n) || strings.Trim(p.src[end:n.Pos.Offset], " ") != "" {
			break
		}
		end = n.End
		p.next()
	}
	return p.src[t.Pos.Offset:end], nil
}

func refisWordToken(t Token) bool {
	return t.Kind == TokIdent || t.Kind == TokKeyword || t.Kind == TokNumber
}

// Binary operator levels, loosest first. `??` binds loosest, as in the Power Query
// implementation; the rest follow the specification's grammar.
var refbinaryLevels = [][]string{
	{"or"},
	{"and"},
	{"is"},
	{"as"},
	{"=", "<>"},
	{"<", ">", "<=", ">="},
	{"+", "-", "&"},
	{"*", "/"},
	{"meta"},
}

func (p *refparser) coalesce() (Expr, error) {
	left, err := p.binary(0)
	if err != nil {
		return nil, err
	}
	if p.isPunct("??") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		// Right-associative: a ?? b ?? c is a ?? (b ?? c); the right side may be
		// any expression (each, let, if, ...).
		right, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Binary{At: t.Pos, Op: "??", Left: left, Right: right}, nil
	}
	return left, nil
}

func (p *refparser) opAt(level int) (Token, bool) {
	t := p.tok()
	if t.Kind != TokPunct && t.Kind != TokKeyword {
		return t, false
	}
	for _, op := range refbinaryLevels[level] {
		if t.Text == op {
			return t, true
		}
	}
	return t, false
}

// binary parses a left-associative chain of the operators at level and tighter.
func (p *refparser) binary(level int) (Expr, error) {
	if level == len(refbinaryLevels) {
		return p.unary()
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	left, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.opAt(level)
		if !ok {
			return left, nil
		}
		p.next()
		var right Expr
		if t.Text == "as" || t.Text == "is" {
			at := p.tok().Pos
			typ, err := p.nullablePrimitive()
			if err != nil {
				return nil, err
			}
			right = &TypeExpr{At: at, Type: typ}
		} else if right, err = p.binary(level + 1); err != nil {
			return nil, err
		}
		left = &Binary{At: t.Pos, Op: t.Text, Left: left, Right: right}
	}
}

func (p *refparser) unary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.tok()
	if t.Kind == TokPunct && (t.Text == "+" || t.Text == "-") || t.Kind == TokKeyword && t.Text == "not" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &Unary{At: t.Pos, Op: t.Text, X: x}, nil
	}
	if t.Kind == TokKeyword && t.Text == "type" {
		p.next()
		typ, err := p.typ()
		if err != nil {
			return nil, err
		}
		return &TypeExpr{At: t.Pos, Type: typ}, nil
	}
	return p.postfix()
}

// postfix parses a primary expression followed by calls, item and field access.
func (p *refparser) postfix() (Expr, error) {
	e, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		if t.Kind != TokPunct {
			return e, nil
		}
		switch t.Text {
		case "(":
			p.next()
			args, err := p.exprList(")")
			if err != nil {
				return nil, err
			}
			e = &Call{At: e.Start(), Func: e, Args: args}
		case "{":
			p.next()
			sel, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, "}"); err != nil {
				return nil, err
			}
			ia := &ItemAccess{At: e.Start(), Target: e, Selector: sel}
			if p.isPunct("?") {
				p.next()
				ia.Optional = true
			}
			e = ia
		case "[":
			sel, err := p.fieldSelector(e)
			if err != nil {
				return nil, err
			}
			e = sel
		default:
			return e, nil
		}
	}
}

// fieldSelector parses `[name]`, `[name]?`, `[[a],[b]]` or `[[a],[b]]?` applied to
// target (nil for the implicit forms).
func (p *refparser) fieldSelector(target Expr) (Expr, error) {
	open := p.next()
	at := open.Pos
	if target != nil {
		at = target.Start()
	}
	if p.isPunct("[") {
		pr := &Projection{At: at, Target: target}
		for {
			if _, err := p.expect(TokPunct, "["); err != nil {
				return nil, err
			}
			name, err := p.fieldName()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, "]"); err != nil {
				return nil, err
			}
			pr.Fields = append(pr.Fields, name)
			if !p.isPunct(",") {
				break
			}
			p.next()
		}
		if _, err := p.expect(TokPunct, "]"); err != nil {
			return nil, err
		}
		if p.isPunct("?") {
			p.next()
			pr.Optional = true
		}
		return pr, nil
	}
	name, err := p.fieldName()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(TokPunct, "]"); err != nil {
		return nil, err
	}
	fa := &FieldAccess{At: at, Target: target, Field: name}
	if p.isPunct("?") {
		p.next()
		fa.Optional = true
	}
	return fa, nil
}

func (p *refparser) exprList(closer string) ([]Expr, error) {
	var out []Expr
	for !p.isPunct(closer) {
		if len(out) > 0 {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if closer == "}" && p.isPunct("..") {
			p.next()
			to, err := p.expr()
			if err != nil {
				return nil, err
			}
			e = &Range{From: e, To: to}
		}
		out = append(out, e)
	}
	p.next()
	return out, nil
}

func (p *refparser) primary() (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.tok()
	switch t.Kind {
	case TokEOF:
		return nil, p.errf(t, "unexpected end of input, expected an expression")
	case TokText, TokVerbatim:
		p.next()
		return &Literal{At: t.Pos, Kind: LitText, Value: t.Text}, nil
	case TokNumber:
		p.next()
		return &Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}, nil
	case TokIdent, TokQuotedIdent:
		p.next()
		if p.isPunct("!") && t.Kind == TokIdent {
			p.next()
			m, err := p.identifier()
			if err != nil {
				return nil, err
			}
			return &SectionAccess{At: t.Pos, Section: t.Text, Member: m.Text}, nil
		}
		return &Ident{At: t.Pos, Name: t.Text}, nil
	case TokKeyword:
		switch t.Text {
		case "true", "false":
			p.next()
			return &Literal{At: t.Pos, Kind: LitLogical, Value: t.Text}, nil
		case "null":
			p.next()
			return &Literal{At: t.Pos, Kind: LitNull, Value: "null"}, nil
		case "#infinity", "#nan":
			p.next()
			return &Literal{At: t.Pos, Kind: LitNumber, Value: t.Text}, nil
		case "#binary", "#date", "#datetime", "#datetimezone", "#duration", "#time", "#table", "#shared", "#sections":
			p.next()
			return &Ident{At: t.Pos, Name: t.Text}, nil
		}
	case TokPunct:
		switch t.Text {
		case "@":
			p.next()
			id, err := p.identifier()
			if err != nil {
				return nil, err
			}
			return &Ident{At: t.Pos, Name: id.Text, Inclusive: true}, nil
		case "(":
			p.next()
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(TokPunct, ")"); err != nil {
				return nil, err
			}
			return e, nil
		case "{":
			p.next()
			items, err := p.exprList("}")
			if err != nil {
				return nil, err
			}
			return &List{At: t.Pos, Items: items}, nil
		case "[":
			if p.isRecord() {
				return p.record()
			}
			return p.fieldSelector(nil)
		case "...":
			p.next()
			return &NotImplemented{At: t.Pos}, nil
		}
	}
	return nil, p.errf(t, "unexpected %s, expected an expression", t)
}

// isRecord tells a record `[a = 1]` or `[]` from an implicit field access `[a]`
// or projection `[[a]]`: a record's first field name is followed by `=`.
func (p *refparser) isRecord() bool {
	j := p.i + 1
	if j >= len(p.toks) {
		return false
	}
	t := p.toks[j]
	if t.Kind == TokPunct && t.Text == "]" {
		return true
	}
	if t.Kind == TokQuotedIdent {
		j++
	} else {
		for j < len(p.toks) && refisWordToken(p.toks[j]) {
			j++
		}
	}
	return j < len(p.toks) && p.toks[j].Kind == TokPunct && p.toks[j].Text == "="
}

func (p *refparser) record() (Expr, error) {
	r := &Record{At: p.next().Pos}
	for !p.isPunct("]") {
		if len(r.Fields) > 0 {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		at := p.tok().Pos
		name, err := p.fieldName()
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
		r.Fields = append(r.Fields, Field{At: at, Name: name, Value: v})
	}
	p.next()
	return r, nil
}

// params parses a parameter list after its `(`, through the `)`. In function types
// (typed) each parameter needs `as type`, which may be any type.
func (p *refparser) params(typed bool) ([]Param, error) {
	var params []Param
	seenOptional := false
	for !p.isPunct(")") {
		if len(params) > 0 {
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		prm := Param{At: p.tok().Pos}
		if p.is(TokIdent, "optional") && (p.peekN(1).Kind == TokIdent || p.peekN(1).Kind == TokQuotedIdent) {
			p.next()
			prm.Optional = true
			seenOptional = true
		} else if seenOptional {
			return nil, p.errf(p.tok(), "a required parameter cannot follow an optional one")
		}
		name, err := p.identifier()
		if err != nil {
			return nil, err
		}
		prm.Name = name.Text
		if p.isKw("as") {
			p.next()
			if typed {
				prm.Type, err = p.typ()
			} else {
				prm.Type, err = p.nullablePrimitive()
			}
			if err != nil {
				return nil, err
			}
		} else if typed {
			return nil, p.errf(p.tok(), "expected \"as\" and a type for parameter %q", prm.Name)
		}
		params = append(params, prm)
	}
	p.next()
	return params, nil
}

var refprimitiveTypes = map[string]bool{
	"any": true, "anynonnull": true, "binary": true, "date": true, "datetime": true,
	"datetimezone": true, "duration": true, "function": true, "list": true, "logical": true,
	"none": true, "null": true, "number": true, "record": true, "table": true, "text": true,
	"time": true, "type": true, "action": true,
}

func (p *refparser) isPrimitiveName(t Token) bool {
	return (t.Kind == TokIdent || t.Kind == TokKeyword) && refprimitiveTypes[t.Text]
}

// nullablePrimitive parses `[nullable] primitive-type`, the form as, is, parameters
// and return types take.
func (p *refparser) nullablePrimitive() (Type, error) {
	nullable := false
	if p.is(TokIdent, "nullable") {
		p.next()
		nullable = true
	}
	t := p.tok()
	if !p.isPrimitiveName(t) {
		return nil, p.errf(t, "expected a primitive type, found %s", t)
	}
	p.next()
	return PrimitiveType{Name: t.Text, Nullable: nullable}, nil
}

// typ parses a type in type context: a primary type or a primary expression.
func (p *refparser) typ() (Type, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.tok()
	switch {
	case t.Kind == TokIdent && t.Text == "nullable":
		p.next()
		inner, err := p.typ()
		if err != nil {
			return nil, err
		}
		if prim, ok := inner.(PrimitiveType); ok {
			prim.Nullable = true
			return prim, nil
		}
		return NullableType{Inner: inner}, nil
	case t.Kind == TokIdent && t.Text == "table" && (p.peekN(1).Kind == TokPunct && p.peekN(1).Text == "[" || p.peekN(1).Kind == TokIdent || p.peekN(1).Kind == TokQuotedIdent):
		p.next()
		row, err := p.typ()
		if err != nil {
			return nil, err
		}
		return TableType{Row: row}, nil
	case t.Kind == TokIdent && t.Text == "function" && p.peekN(1).Kind == TokPunct && p.peekN(1).Text == "(":
		p.next()
		p.next()
		params, err := p.params(true)
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokKeyword, "as"); err != nil {
			return nil, err
		}
		ret, err := p.typ()
		if err != nil {
			return nil, err
		}
		return FunctionType{Params: params, Return: ret}, nil
	case p.isPrimitiveName(t):
		p.next()
		return PrimitiveType{Name: t.Text}, nil
	case t.Kind == TokPunct && t.Text == "[":
		return p.recordType()
	case t.Kind == TokPunct && t.Text == "{":
		p.next()
		item, err := p.typ()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(TokPunct, "}"); err != nil {
			return nil, err
		}
		return ListType{Item: item}, nil
	}
	e, err := p.postfix()
	if err != nil {
		return nil, err
	}
	return ExprType{X: e}, nil
}

func (p *refparser) recordType() (Type, error) {
	p.next() // [
	rt := RecordType{}
	for !p.isPunct("]") {
		if len(rt.Fields) > 0 || rt.Open {
			if rt.Open {
				return nil, p.errf(p.tok(), "\"...\" must end a record type")
			}
			if _, err := p.expect(TokPunct, ","); err != nil {
				return nil, err
			}
		}
		if p.isPunct("...") {
			p.next()
			rt.Open = true
			continue
		}
		f := FieldType{}
		if p.is(TokIdent, "optional") && !p.nextIsFieldEnd(1) {
			p.next()
			f.Optional = true
		}
		name, err := p.fieldName()
		if err != nil {
			return nil, err
		}
		f.Name = name
		if p.isPunct("=") {
			p.next()
			if f.Type, err = p.typ(); err != nil {
				return nil, err
			}
		}
		rt.Fields = append(rt.Fields, f)
	}
	p.next()
	return rt, nil
}

func (p *refparser) nextIsFieldEnd(n int) bool {
	t := p.peekN(n)
	return t.Kind == TokPunct && (t.Text == "=" || t.Text == "," || t.Text == "]")
}

// refkeywords are the reserved words of M. catch, optional and nullable are contextual
// and stay identifiers.
var refkeywords = map[string]bool{
	"and": true, "as": true, "each": true, "else": true, "error": true, "false": true,
	"if": true, "in": true, "is": true, "let": true, "meta": true, "not": true,
	"null": true, "or": true, "otherwise": true, "section": true, "shared": true,
	"then": true, "true": true, "try": true, "type": true,
}

// refhashKeywords are the # refkeywords; #date etc. name intrinsic functions.
var refhashKeywords = map[string]bool{
	"#binary": true, "#date": true, "#datetime": true, "#datetimezone": true,
	"#duration": true, "#infinity": true, "#nan": true, "#sections": true,
	"#shared": true, "#table": true, "#time": true,
}

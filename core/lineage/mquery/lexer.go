package mquery

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Lex splits M source into tokens, dropping whitespace and comments. The last token
// is always TokEOF. A malformed literal or comment stops lexing with a *SyntaxError.
func Lex(src string) ([]Token, error) {
	return lexAppend(make([]Token, 0, len(src)/4+1), src)
}

// maxSource is the longest text the lexer takes: offsets are 32-bit.
const maxSource = math.MaxInt32

// lexAppend appends src's tokens to toks.
func lexAppend(toks []Token, src string) ([]Token, error) {
	if len(src) > maxSource {
		return toks, &SyntaxError{Pos: Pos{Line: 1, Col: 1}, Msg: "M text longer than 2 GiB"}
	}
	l := lexer{src: src, line: 1, col: 1}
	for {
		// Lex straight into the buffer's next slot.
		toks = append(toks, Token{})
		t := &toks[len(toks)-1]
		if err := l.next(t); err != nil {
			*t = Token{}
			return toks[:len(toks)-1], err
		}
		if t.Kind == TokEOF {
			return toks, nil
		}
	}
}

type lexer struct {
	src       string
	off       int
	line, col int
}

func (l *lexer) pos() Pos { return Pos{Offset: int32(l.off), Line: int32(l.line), Col: int32(l.col)} }

func (l *lexer) errf(p Pos, msg string) error { return &SyntaxError{Pos: p, Msg: msg} }

func (l *lexer) peek(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

// advance moves past one rune, keeping line and column.
func (l *lexer) advance() rune {
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

func isWhitespace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\v' || r == '\f' || r == '\r' || r == '\n'
	}
	switch r {
	case '\t', '\v', '\f', '\r', '\n', '\u0085', '\u2028', '\u2029':
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

func isIdentStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
	}
	return r == '_' || unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lm, unicode.Lo, unicode.Nl)
}

func isIdentPart(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return isIdentStart(r) || unicode.In(r, unicode.Nd, unicode.Pc, unicode.Mn, unicode.Mc, unicode.Cf)
}

func (l *lexer) skipSpaceAndComments() error {
	for l.off < len(l.src) {
		switch l.src[l.off] {
		case ' ', '\t', '\v', '\f':
			l.off++
			l.col++
			continue
		case '\n':
			l.off++
			l.line++
			l.col = 1
			continue
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		switch {
		case isWhitespace(r):
			l.advance()
		case r == '/' && l.peek(1) == '/':
			l.lineComment()
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

// lineComment skips a // comment up to, not including, the line break.
func (l *lexer) lineComment() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(l.src[l.off:])
			if r == '\u0085' || r == '\u2028' || r == '\u2029' {
				return
			}
			l.off += size
			l.col++
			continue
		}
		if c == '\r' || c == '\n' {
			return
		}
		l.off++
		l.col++
	}
}

// punct returns the operator or punctuator at the cursor and its length, longest
// first, or "" when there is none.
func (l *lexer) punct() (string, int) {
	c, n := l.src[l.off], l.peek(1)
	switch c {
	case '.':
		if n == '.' {
			if l.peek(2) == '.' {
				return "...", 3
			}
			return "..", 2
		}
		return "", 0
	case '<':
		switch n {
		case '=':
			return "<=", 2
		case '>':
			return "<>", 2
		}
		return "<", 1
	case '>':
		if n == '=' {
			return ">=", 2
		}
		return ">", 1
	case '?':
		if n == '?' {
			return "??", 2
		}
		return "?", 1
	case '=':
		if n == '>' {
			return "=>", 2
		}
		return "=", 1
	case ',':
		return ",", 1
	case ';':
		return ";", 1
	case '+':
		return "+", 1
	case '-':
		return "-", 1
	case '*':
		return "*", 1
	case '/':
		return "/", 1
	case '&':
		return "&", 1
	case '(':
		return "(", 1
	case ')':
		return ")", 1
	case '[':
		return "[", 1
	case ']':
		return "]", 1
	case '{':
		return "{", 1
	case '}':
		return "}", 1
	case '@':
		return "@", 1
	case '!':
		return "!", 1
	}
	return "", 0
}

// next lexes the next token into t.
func (l *lexer) next(t *Token) error {
	if err := l.skipSpaceAndComments(); err != nil {
		return err
	}
	start := l.pos()
	if l.off >= len(l.src) {
		*t = Token{Kind: TokEOF, Pos: start, End: int32(l.off)}
		return nil
	}
	c := l.src[l.off]
	r := rune(c)
	if c >= utf8.RuneSelf {
		r, _ = utf8.DecodeRuneInString(l.src[l.off:])
	}
	switch {
	case c == '"':
		s, err := l.text()
		if err != nil {
			return err
		}
		return l.emit(t, TokText, s, start)
	case c == '#':
		switch l.peek(1) {
		case '"':
			l.advance()
			s, err := l.text()
			if err != nil {
				return err
			}
			return l.emit(t, TokQuotedIdent, s, start)
		case '!':
			if l.peek(2) == '"' {
				l.advance()
				l.advance()
				s, err := l.text()
				if err != nil {
					return err
				}
				return l.emit(t, TokVerbatim, s, start)
			}
		}
		l.advance()
		for l.off < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if !isIdentPart(r) {
				break
			}
			l.advance()
		}
		word := l.src[start.Offset:l.off]
		if !isHashKeyword(word) {
			return l.errf(start, "unknown keyword "+strconv.Quote(word))
		}
		return l.emit(t, TokKeyword, word, start)
	case c >= '0' && c <= '9' || c == '.' && l.peek(1) >= '0' && l.peek(1) <= '9':
		return l.number(t, start)
	case isIdentStart(r):
		l.identifier()
		word := l.src[start.Offset:l.off]
		if isKeyword(word) {
			return l.emit(t, TokKeyword, word, start)
		}
		return l.emit(t, TokIdent, word, start)
	}
	if p, n := l.punct(); n > 0 {
		// Punctuators are ASCII and never line breaks.
		l.off += n
		l.col += n
		return l.emit(t, TokPunct, p, start)
	}
	return l.errf(start, "unexpected character "+strconv.QuoteRune(r))
}

// emit fills t with a token that ends at the cursor.
func (l *lexer) emit(t *Token, k Kind, text string, start Pos) error {
	t.Kind, t.Text, t.Pos, t.End = k, text, start, int32(l.off)
	return nil
}

// identifier reads a regular identifier: parts joined by dots, where a dot counts
// only when an identifier character follows it (Table.SelectRows, Int64.Type).
func (l *lexer) identifier() {
	for {
		for l.off < len(l.src) {
			if c := l.src[l.off]; c < utf8.RuneSelf {
				if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
					l.off++
					l.col++
					continue
				}
				break
			}
			r, size := utf8.DecodeRuneInString(l.src[l.off:])
			if !isIdentPart(r) {
				break
			}
			// No identifier character is a line break.
			l.off += size
			l.col++
		}
		if l.peek(0) != '.' || l.off+1 >= len(l.src) {
			return
		}
		r, _ := utf8.DecodeRuneInString(l.src[l.off+1:])
		if !isIdentPart(r) {
			return
		}
		l.advance()
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func (l *lexer) number(t *Token, start Pos) error {
	if l.peek(0) == '0' && (l.peek(1) == 'x' || l.peek(1) == 'X') {
		l.advance()
		l.advance()
		if !isHex(l.peek(0)) {
			return l.errf(start, "hexadecimal number without digits")
		}
		for isHex(l.peek(0)) {
			l.advance()
		}
	} else {
		for isDigit(l.peek(0)) {
			l.advance()
		}
		// A dot starts a fraction only before a digit: 1..10 is a range.
		if l.peek(0) == '.' && isDigit(l.peek(1)) {
			l.advance()
			for isDigit(l.peek(0)) {
				l.advance()
			}
		}
		if c := l.peek(0); c == 'e' || c == 'E' {
			n := 1
			if s := l.peek(1); s == '+' || s == '-' {
				n = 2
			}
			if isDigit(l.peek(n)) {
				for range n {
					l.advance()
				}
				for isDigit(l.peek(0)) {
					l.advance()
				}
			}
		}
	}
	*t = Token{Kind: TokNumber, Text: l.src[start.Offset:l.off], Pos: start, End: int32(l.off)}
	return nil
}

// text reads a "..." literal starting at the quote and returns its decoded value.
func (l *lexer) text() (string, error) {
	start := l.pos()
	l.advance() // opening quote
	// Fast path: no escapes and no line breaks, so the value is a substring.
	if end := strings.IndexByte(l.src[l.off:], '"'); end >= 0 {
		body := l.src[l.off : l.off+end]
		if runes, plain := plainText(body); plain && !strings.HasPrefix(l.src[l.off+end:], `""`) {
			l.off += end + 1
			l.col += runes + 1
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

// plainText reports whether a text literal's body needs no decoding, having no escape
// and no line break, and returns its length in runes.
func plainText(body string) (int, bool) {
	ascii := true
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '#' || c == '\r' || c == '\n':
			return 0, false
		}
	}
	if ascii {
		return len(body), true
	}
	if strings.Contains(body, "\u0085") || strings.Contains(body, "\u2028") || strings.Contains(body, "\u2029") {
		return 0, false
	}
	return utf8.RuneCountInString(body), true
}

// escape reads a #( ... ) character escape sequence: a comma-separated list of cr,
// lf, tab, #, 4-digit or 8-digit hexadecimal code points.
func (l *lexer) escape(b *strings.Builder) error {
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

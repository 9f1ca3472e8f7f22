// Package mquery lexes and parses Power Query M, following Microsoft's published
// language specification (the consolidated lexical and syntactic grammar), plus the
// try ... catch form the service accepts. Parsing never panics: deep nesting is cut
// off by a depth limit and every problem is a *SyntaxError with line and column.
package mquery

import "fmt"

// Pos is a place in M source text. Line and Col start at 1; Col counts runes. The
// fields are 32-bit, which keeps tokens and trees small: M texts are far shorter than
// the 2 GiB the lexer accepts.
type Pos struct {
	Offset int32
	Line   int32
	Col    int32
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Kind is the kind of a token.
type Kind uint8

// Token kinds.
const (
	TokEOF         Kind = iota
	TokIdent            // regular identifier, dotted names included: Table.SelectRows
	TokQuotedIdent      // #"quoted identifier"; Text holds the decoded name
	TokKeyword          // and, let, #date, #shared, ...
	TokNumber           // decimal or hexadecimal number literal, raw text
	TokText             // text literal; Text holds the decoded value
	TokVerbatim         // #!"verbatim literal"
	TokPunct            // operator or punctuator
)

var kindNames = [...]string{"end of input", "identifier", "quoted identifier", "keyword", "number", "text", "verbatim literal", "punctuator"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "token"
}

// Token is one lexical token.
type Token struct {
	Kind Kind
	// Text is the token's value: the decoded text of text literals and quoted
	// identifiers, the source spelling of everything else.
	Text string
	Pos  Pos
	// End is the offset just past the token in the source.
	End int32
}

func (t Token) String() string {
	switch t.Kind {
	case TokEOF:
		return "end of input"
	case TokText, TokVerbatim:
		// Never the literal's content: it may be a connection string with a password.
		return "a text literal"
	case TokQuotedIdent:
		return fmt.Sprintf("#%q", t.Text)
	}
	return fmt.Sprintf("%q", t.Text)
}

// SyntaxError is a lexical or syntax error at a position.
type SyntaxError struct {
	Pos Pos
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

// isKeyword reports whether word is a reserved word of M. catch, optional and
// nullable are contextual and stay identifiers.
func isKeyword(word string) bool {
	switch word {
	case "and", "as", "each", "else", "error", "false", "if", "in", "is", "let", "meta", "not",
		"null", "or", "otherwise", "section", "shared", "then", "true", "try", "type":
		return true
	}
	return false
}

// isHashKeyword reports whether word is a # keyword; #date etc. name intrinsic functions.
func isHashKeyword(word string) bool {
	switch word {
	case "#binary", "#date", "#datetime", "#datetimezone", "#duration", "#infinity", "#nan",
		"#sections", "#shared", "#table", "#time":
		return true
	}
	return false
}

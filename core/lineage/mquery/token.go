// Package mquery lexes and parses Power Query M, following Microsoft's published
// language specification (the consolidated lexical and syntactic grammar), plus the
// try ... catch form the service accepts. Parsing never panics: deep nesting is cut
// off by a depth limit and every problem is a *SyntaxError with line and column.
package mquery

import "fmt"

// Pos is a place in M source text. Line and Col start at 1; Col counts runes.
type Pos struct {
	Offset int
	Line   int
	Col    int
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
	End int
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

// keywords are the reserved words of M. catch, optional and nullable are contextual
// and stay identifiers.
var keywords = map[string]bool{
	"and": true, "as": true, "each": true, "else": true, "error": true, "false": true,
	"if": true, "in": true, "is": true, "let": true, "meta": true, "not": true,
	"null": true, "or": true, "otherwise": true, "section": true, "shared": true,
	"then": true, "true": true, "try": true, "type": true,
}

// hashKeywords are the # keywords; #date etc. name intrinsic functions.
var hashKeywords = map[string]bool{
	"#binary": true, "#date": true, "#datetime": true, "#datetimezone": true,
	"#duration": true, "#infinity": true, "#nan": true, "#sections": true,
	"#shared": true, "#table": true, "#time": true,
}

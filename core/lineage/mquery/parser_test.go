package mquery

import (
	"errors"
	"strings"
	"testing"
)

func TestParseShapes(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"precedence arith", `1 + 2 * 3 - 4`, `(- (+ 1 (* 2 3)) 4)`},
		{"concat and compare", `"a" & "b" = "ab"`, `(= (& "a" "b") "ab")`},
		{"logical", `not a and b or c`, `(or (and (not a) b) c)`},
		{"coalesce loosest", `a ?? b or c`, `(?? a (or b c))`},
		{"coalesce right assoc", `a ?? b ?? c`, `(?? a (?? b c))`},
		{"meta binds tight", `"x" meta [IsParameterQuery=true] & "y"`, `(& (meta "x" (record "IsParameterQuery" true)) "y")`},
		{"as is", `x as nullable number is number`, `(is (as x (type nullable number)) (type number))`},
		{"relational", `a < b = c >= d`, `(= (< a b) (>= c d))`},
		{"unary", `- -1 * +x`, `(* (- (- 1)) (+ x))`},
		{"navigation", `Source{[Name="DB",Kind="Database"]}[Data]`, `(field (item Source (record "Name" "DB" "Kind" "Database")) "Data")`},
		{"optional access", `r[a]?{0}?`, `(item? (field? r "a") 0)`},
		{"projection", `t[[a],[Order Date]]?`, `(project t a,Order Date)`},
		{"implicit field", `each [Order Date] > #date(2020,1,1)`, `(each (> (field _ "Order Date") (call #date 2020 1 1)))`},
		{"implicit projection", `each [[a],[b]]`, `(each (project _ a,b))`},
		{"generalized ids", `[Sales 2019 = 1, #"a b" = 2, in = 3]`, `(record "Sales 2019" 1 "a b" 2 "in" 3)`},
		{"empty record and list", `{[], {}}`, `(list (record) (list))`},
		{"range", `{1..3, 5}`, `(list (range 1 3) 5)`},
		{"function typed", `(a as text, optional b as nullable number) as table => a`, `(fn [a,optional b] a)`},
		{"function no params", `() => 1`, `(fn [] 1)`},
		{"paren not function", `(a) as number`, `(as a (type number))`},
		{"let nested", "let a = let b = 1 in b, c = a in c", `(let "a" (let "b" 1 b) "c" a c)`},
		{"if", `if a then b else if c then d else e`, `(if a b (if c d e))`},
		{"try otherwise", `try x otherwise 0`, `(try x otherwise 0)`},
		{"try catch", `try x catch (e) => e[Message]`, `(try x catch (fn [e] (field e "Message")))`},
		{"try catch no param", `try x catch () => null`, `(try x catch (fn [] null))`},
		{"error", `error "boom"`, `(error "boom")`},
		{"type table", `type table [A = text, optional B = Int64.Type]`, `(type table [A=text,optional B=Int64.Type])`},
		{"type list fn", `type {function (x as text) as number}`, `(type {function(x)->number})`},
		{"type open record", `type [a = text, ...]`, `(type [a=text,...])`},
		{"type nullable", `type nullable text`, `(type nullable text)`},
		{"numbers", `{0xFF, 1.5e-3, .5, 10E2, #infinity, #nan}`, `(list 0xFF 1.5e-3 .5 10E2 #infinity #nan)`},
		{"text escapes", `"a""b#(lf)c#(cr,lf)#(tab)#(0041)#(#)(x)"`, `"a\"b\nc\r\n\tA#(x)"`},
		{"verbatim", `#!"raw"`, `"raw"`},
		{"quoted identifiers", `#"Changed Type"{0}`, `(item Changed Type 0)`},
		{"inclusive", `@fact(1)`, `(call @fact 1)`},
		{"shared", `#shared[x]`, `(field #shared "x")`},
		{"section access", `Section1!Query1`, `Section1!Query1`},
		{"not implemented", `...`, `...`},
		{"comments", "let /* a */ x = 1 // b\n, y = /* c */ 2 in /*d*/ x", `(let "x" 1 "y" 2 x)`},
		{"dotted calls", `Table.SelectRows(t, each [x] <> null)`, `(call Table.SelectRows t (each (<> (field _ "x") null)))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseExpr(tt.src)
			if err != nil {
				t.Fatalf("ParseExpr(%q): %v", tt.src, err)
			}
			if got := Sexpr(e); got != tt.want {
				t.Errorf("ParseExpr(%q)\n got %s\nwant %s", tt.src, got, tt.want)
			}
		})
	}
}

func TestParseSection(t *testing.T) {
	src := "[Version = \"1.0\"] section Section1;\nshared Orders = let Source = 1 in Source;\nHelper = 2;\n"
	d, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if d.Section == nil || d.Section.Name != "Section1" || len(d.Section.Members) != 2 {
		t.Fatalf("section = %+v", d.Section)
	}
	if m := d.Section.Members[0]; m.Name != "Orders" || !m.Shared || m.At.Line != 2 {
		t.Errorf("member 0 = %+v", m)
	}
	if m := d.Section.Members[1]; m.Name != "Helper" || m.Shared {
		t.Errorf("member 1 = %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"let\n  a = 1,\n  b = \nin a", 4, 1, "unexpected \"in\""},
		{"let a = 1 b", 1, 11, `expected "in"`},
		{`"abc`, 1, 1, "unterminated text literal"},
		{"x /* open", 1, 3, "unterminated comment"},
		{`"a#(bogus)"`, 1, 3, "invalid escape"},
		{"#foo", 1, 1, "unknown keyword"},
		{"1 $ 2", 1, 3, "unexpected character"},
		{"(a, optional b, c) => a", 1, 17, "required parameter cannot follow"},
		{"f(1,", 1, 5, "unexpected end of input"},
		{"[a = 1", 1, 7, `expected ","`},
		{"1 2", 1, 3, "after the expression"},
		{"x as foo", 1, 6, "expected a primitive type"},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), 1, 0, "nested deeper"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%.20q) = %v, want a *SyntaxError", tt.src, err)
			continue
		}
		if !strings.Contains(se.Msg, tt.msg) || int(se.Pos.Line) != tt.line || tt.col != 0 && int(se.Pos.Col) != tt.col {
			t.Errorf("Parse(%.20q) = %v, want %d:%d %s", tt.src, err, tt.line, tt.col, tt.msg)
		}
	}
}

func TestLexPositions(t *testing.T) {
	toks, err := Lex("let\r\n  #\"a b\" = \"x\u00e9\",\n\tb = 0x1F\nin b")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind      Kind
		text      string
		line, col int
	}{
		{TokKeyword, "let", 1, 1}, {TokQuotedIdent, "a b", 2, 3}, {TokPunct, "=", 2, 10},
		{TokText, "x\u00e9", 2, 12}, {TokPunct, ",", 2, 16}, {TokIdent, "b", 3, 2},
		{TokPunct, "=", 3, 4}, {TokNumber, "0x1F", 3, 6}, {TokKeyword, "in", 4, 1},
		{TokIdent, "b", 4, 4}, {TokEOF, "", 4, 5},
	}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens %v", len(toks), toks)
	}
	for i, w := range want {
		g := toks[i]
		if g.Kind != w.kind || g.Text != w.text || int(g.Pos.Line) != w.line || int(g.Pos.Col) != w.col {
			t.Errorf("token %d = %v %q %d:%d, want %v %q %d:%d", i, g.Kind, g.Text, g.Pos.Line, g.Pos.Col, w.kind, w.text, w.line, w.col)
		}
	}
}

func TestSyntaxErrorHidesTextLiterals(t *testing.T) {
	_, err := Parse(`Odbc.DataSource("dsn=x;pwd=S3cret" "oops")`)
	if err == nil || strings.Contains(err.Error(), "S3cret") || strings.Contains(err.Error(), "oops") {
		t.Errorf("error %v shows a text literal's content", err)
	}
}

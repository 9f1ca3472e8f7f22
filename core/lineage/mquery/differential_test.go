package mquery

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// differentialInputs are the lineage corpus's M sections and shapes that probe the
// depth limit, precedence and the lexer's edge cases.
func differentialInputs(t testing.TB) []string {
	files, _ := filepath.Glob("../testdata/corpus/*.txtar")
	var out []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range strings.Split(string(data), "\n-- ") {
			if _, body, ok := strings.Cut(part, " --\n"); ok {
				out = append(out, body)
			}
		}
	}
	fuzzDir := filepath.Join("testdata", "fuzz")
	_ = filepath.Walk(fuzzDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err == nil {
			out = append(out, string(data))
		}
		return nil
	})
	nest := func(open, mid, close string, n int) string {
		return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
	}
	for n := 25; n <= 40; n++ {
		out = append(out,
			nest("(", "1", ")", n),
			nest("{", "1", "}", n),
			nest("[a=", "1", "]", n),
			nest("f(", "x", ")", n),
			nest("each ", "x", "", n),
			nest("let a = ", "1 in a", "", n),
			nest("x ?? ", "y", "", n),
			nest("-", "1", "", n*12),
			nest("not ", "x", "", n*12),
			nest("type {", "text", "}", n*6),
			nest("type nullable ", "text", "", n*12),
			nest("(", "1 + 2 * 3 meta [a=1] as number", ")", n),
			nest("try ", "x", " otherwise 0", n),
			nest("if a then ", "b", " else c", n),
			nest("1 + (", "2", ")", n),
			strings.Repeat("a + ", n*30)+"b",
			strings.Repeat("a meta ", n*30)+"b",
		)
	}
	out = append(out,
		`1 + 2 * 3 - 4 & "a" = b <> c < d >= e and f or g ?? h`,
		`x as number * 2`, `x is number + 1`, `a + b as number * c`, `a as number as text is logical`,
		`a = b as number = c`, `x is nullable number and y`, `a meta b meta c * d`, `- a meta b`,
		`not a = b`, `type number + 1`, `a ?? b ?? c or d`, `(a) as number => a`, `1..2`, `{1..2, 3}`,
		`"x#(cr,lf)y"`, `"unterminated`, `/* open`, `#"a""b"`, `#!"v" & #!"w`, `#bogus`, `0x`, `1e`, `1.e5`,
		`Table.SelectRows(t, each [Order Date] > #date(2020, 1, 1))`, `a!b`, `@a`, `[a]?`, `[[a],[b]]?`,
		"a\u00a0+\u2028b", "é + ü", "a.b.c.", `a..b`, `...`, `section S; shared A = 1; B = A;`,
		`[x = 1] section S; A = 1;`, `[] section`, "let\r\n a = \"x\r\ny\" in a", `"a"""`, `"#(0041)"`, `"#(zz)"`,
		`a ?`, `??`, `=>`, `<=`, `<>`, ``, ` `, `// c`, `x // c`,
		"\"a\u0085b\" & x", "\"a\u2028b\" & x", "\"é\u2029\" & x", "\"a\xffb\" & x", "\"\xc2\" & x", "\"\xe2\x80\" & x",
		"\"ü\" & é", "x\u0085y", "// c\u2028x", "// c\u0085x", "// c\xffx\ny", "ab\xffcd", "a\u00e9b.c\u0301d", "a\u3000b",
		"/* é\u2028 */ x", "\"a#(lf)é\u2028\"", "\"\r\n\" & \"\r\"", "let\u2028a = 1\u2029in a",
	)
	return out
}

// errorKey is an error's comparable form: its type, and its message and position.
func errorKey(err error) string {
	if err == nil {
		return "<nil>"
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax %d:%d:%d %s", se.Pos.Offset, se.Pos.Line, se.Pos.Col, se.Msg)
	}
	return "other " + err.Error()
}

func checkSameParse(t *testing.T, src string) {
	t.Helper()
	gotToks, gotErr := Lex(src)
	wantToks, wantErr := refLex(src)
	if errorKey(gotErr) != errorKey(wantErr) || gotErr == nil && !reflect.DeepEqual(gotToks, wantToks) {
		t.Fatalf("Lex(%.200q) differs from the baseline:\n got %v %v\nwant %v %v", src, gotToks, gotErr, wantToks, wantErr)
	}
	doc, err := Parse(src)
	refDoc, refErr := refParse(src)
	if errorKey(err) != errorKey(refErr) {
		t.Fatalf("Parse(%.200q) error differs from the baseline:\n got %s\nwant %s", src, errorKey(err), errorKey(refErr))
	}
	if err == nil && !reflect.DeepEqual(doc, refDoc) {
		t.Fatalf("Parse(%.200q) tree differs from the baseline", src)
	}
	e, err := ParseExpr(src)
	refE, refErr := refParseExpr(src)
	if errorKey(err) != errorKey(refErr) || err == nil && !reflect.DeepEqual(e, refE) {
		t.Fatalf("ParseExpr(%.200q) differs from the baseline: %s vs %s", src, errorKey(err), errorKey(refErr))
	}
}

// TestParseMatchesBaseline checks that the lexer and parser give exactly the tokens,
// trees and errors (message and position) of the baseline copy in ref_parser_test.go.
func TestParseMatchesBaseline(t *testing.T) {
	inputs := differentialInputs(t)
	if len(inputs) < 500 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for _, src := range inputs {
		checkSameParse(t, src)
	}
}

func FuzzParseMatchesBaseline(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, src string) { checkSameParse(t, src) })
}

// TestParseConcurrent parses from several goroutines at once, as the pooled buffers
// must allow, and checks each tree against the baseline (run it with -race).
func TestParseConcurrent(t *testing.T) {
	inputs := differentialInputs(t)
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := g; i < len(inputs); i += 4 {
				doc, err := Parse(inputs[i])
				ref, refErr := refParse(inputs[i])
				if errorKey(err) != errorKey(refErr) || err == nil && !reflect.DeepEqual(doc, ref) {
					errs <- fmt.Errorf("Parse(%.100q) differs from the baseline", inputs[i])
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

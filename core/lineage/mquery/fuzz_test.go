package mquery

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// addCorpusSeeds adds the lineage corpus's M sections as fuzz seeds.
func addCorpusSeeds(f *testing.F) {
	files, _ := filepath.Glob("../testdata/corpus/*.txtar")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, part := range strings.Split(string(data), "\n-- ") {
			if _, body, ok := strings.Cut(part, " --\n"); ok {
				f.Add(body)
			}
		}
	}
	f.Add(`"a#(cr,lf)b#(0041)#(#)"`)
	f.Add(`#!"verbatim" & #"quoted ""x"""`)
	f.Add(`section S; shared A = 1; B = A;`)
	f.Add(`type function (a as text, optional b as nullable number) as table`)
	f.Add(`try x catch (e) => e ?? null`)
}

func FuzzLex(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		toks, err := Lex(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Col < 1 || int(se.Pos.Offset) > len(src) {
				t.Fatalf("Lex error %v is not a positioned *SyntaxError", err)
			}
			return
		}
		if len(toks) == 0 || toks[len(toks)-1].Kind != TokEOF {
			t.Fatalf("Lex did not end with EOF")
		}
		prev := -1
		for _, tk := range toks {
			if int(tk.Pos.Offset) < prev || tk.End < tk.Pos.Offset || int(tk.End) > len(src) {
				t.Fatalf("token %v has bad offsets %d..%d (prev %d, len %d)", tk, tk.Pos.Offset, tk.End, prev, len(src))
			}
			prev = int(tk.End)
		}
	})
}

func FuzzParse(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		doc, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Pos.Line < 1 || se.Pos.Col < 1 {
				t.Fatalf("Parse error %v is not a positioned *SyntaxError", err)
			}
			return
		}
		if doc.Expr == nil && doc.Section == nil {
			t.Fatal("Parse returned an empty document without error")
		}
		if doc.Expr != nil {
			_ = Sexpr(doc.Expr)
		}
	})
}

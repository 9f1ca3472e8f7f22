package mquery

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

func corpusExprs(b *testing.B) []string {
	files, _ := filepath.Glob("../testdata/corpus/*.txtar")
	var out []string
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		for _, part := range strings.Split(string(data), "\n-- ") {
			name, body, ok := strings.Cut(part, " --\n")
			if ok && (strings.HasPrefix(name, "table:") || strings.HasPrefix(name, "expr:")) {
				out = append(out, body)
			}
		}
	}
	if len(out) == 0 {
		b.Fatal("no corpus expressions")
	}
	return out
}

// BenchmarkParseCorpus parses every M expression of the lineage corpus once per
// iteration and reports expressions per second.
func BenchmarkParseCorpus(b *testing.B) {
	exprs := corpusExprs(b)
	size := 0
	for _, e := range exprs {
		size += len(e)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range exprs {
			_, _ = Parse(e)
		}
	}
	b.ReportMetric(float64(len(exprs))*float64(b.N)/b.Elapsed().Seconds(), "expr/s")
}

func BenchmarkLexCorpus(b *testing.B) {
	exprs := corpusExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range exprs {
			_, _ = Lex(e)
		}
	}
	b.ReportMetric(float64(len(exprs))*float64(b.N)/b.Elapsed().Seconds(), "expr/s")
}

// BenchmarkParseCorpusBaseline is BenchmarkParseCorpus with the baseline parser of
// ref_parser_test.go, for before/after figures from one run.
func BenchmarkParseCorpusBaseline(b *testing.B) {
	exprs := corpusExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range exprs {
			_, _ = refParse(e)
		}
	}
	b.ReportMetric(float64(len(exprs))*float64(b.N)/b.Elapsed().Seconds(), "expr/s")
}

func BenchmarkLexCorpusBaseline(b *testing.B) {
	exprs := corpusExprs(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, e := range exprs {
			_, _ = refLex(e)
		}
	}
	b.ReportMetric(float64(len(exprs))*float64(b.N)/b.Elapsed().Seconds(), "expr/s")
}

// largeTenantSources are the table sources of one scan batch of the generated large
// tenant (100 workspaces, 10,000 tables).
func largeTenantSources() []string {
	size := powerbitest.LargeSize()
	size.Workspaces = 100
	var out []string
	for _, ws := range powerbitest.Generate(1, size).Workspaces {
		for _, m := range ws.SemanticModels {
			for _, t := range m.Tables {
				out = append(out, t.Source...)
			}
		}
	}
	return out
}

// BenchmarkParseLargeTenant parses the M of one scan batch of the generated large
// tenant, with the current parser and (Baseline) the frozen earlier one.
func BenchmarkParseLargeTenant(b *testing.B) {
	srcs := largeTenantSources()
	for _, bc := range []struct {
		name  string
		parse func(string) (*Document, error)
	}{{"current", Parse}, {"baseline", refParse}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range srcs {
					if _, err := bc.parse(s); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

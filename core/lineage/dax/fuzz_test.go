package dax

import "testing"

func FuzzReferences(f *testing.F) {
	for _, s := range []string{
		`CALCULATE([Total], 'Date'[Year] = 2024, ALL(Product[Color]))`,
		"VAR x = [a] // c\nRETURN x + 'T''s'[c]] ]",
		`"[x]" & [y] /* [z] */`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		for _, r := range References(expr) {
			if r.Kind == Column && r.Table == "" {
				t.Fatalf("References(%q) gave a column without a table: %v", expr, r)
			}
			if r.Kind == Measure && r.Table != "" {
				t.Fatalf("References(%q) gave a measure with a table: %v", expr, r)
			}
		}
	})
}

package dax

import (
	"strings"
	"testing"
)

func TestReferences(t *testing.T) {
	tests := []struct{ name, expr, want string }{
		{"quoted table", `SUM('Fact Sales'[Amount])`, `'Fact Sales'[Amount]`},
		{"bare table", `SUM(Sales[Amount]) / [Total Qty]`, `'Sales'[Amount] [Total Qty]`},
		{"space before bracket", `SUM ( Sales [Amount] )`, `'Sales'[Amount]`},
		{"measure only", `[Revenue] - [Cost]`, `[Revenue] [Cost]`},
		{"escaped quotes", `COUNTROWS('O''Brien'[Id]) + [a]]b]`, `'O'Brien'[Id] [a]b]`},
		{"strings ignored", `IF([x] = "[not a ref]", "Sales[Amt]", 'T'[c])`, `[x] 'T'[c]`},
		{"comments ignored", "[a] // [b]\n-- [c]\n/* 'T'[d] */ + [e]", `[a] [e]`},
		{"var return", "VAR x = [Sales]\nRETURN [Margin] * x", `[Sales] [Margin]`},
		{"calculate filter", `CALCULATE([Total], 'Date'[Year] = 2024, ALL(Product[Color]))`, `[Total] 'Date'[Year] 'Product'[Color]`},
		{"dedupe", `[a] + [a] + T[c] + 'T'[c]`, `[a] 'T'[c]`},
		{"function then bracket", `SELECTEDVALUE ( 'DW Revenues'[Numbers] ) * 10`, `'DW Revenues'[Numbers]`},
		{"number before bracket", `1 [x]`, `[x]`},
		{"unterminated", `'abc`, ``},
		{"unterminated bracket", `[abc`, `[abc]`},
		{"table constructor", `{ [a], T[b] }`, `[a] 'T'[b]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, r := range References(tt.expr) {
				got = append(got, r.String())
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("References(%q)\n got %s\nwant %s", tt.expr, g, tt.want)
			}
		})
	}
}

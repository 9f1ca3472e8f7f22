package dax

import "testing"

func BenchmarkReferences(b *testing.B) {
	expr := "VAR Sales = CALCULATE([Total Sales], 'Date'[Year] = 2024, ALL(Product[Color]))\n" +
		"// previous year\nVAR Prev = CALCULATE([Total Sales], SAMEPERIODLASTYEAR('Date'[Date]))\n" +
		"RETURN DIVIDE(Sales - Prev, Prev) & \"[not a ref]\""
	b.SetBytes(int64(len(expr)))
	b.ReportAllocs()
	for b.Loop() {
		References(expr)
	}
}

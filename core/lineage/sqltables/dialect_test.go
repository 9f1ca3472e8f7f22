package sqltables

import (
	"strings"
	"testing"
)

func TestExtractDialect(t *testing.T) {
	backslash := Dialect{BackslashEscapes: true}
	tests := []struct {
		name, sql string
		d         Dialect
		want      string
	}{
		{"escaped quote keeps the literal open", `select * from a where x = 'it\'s from fake' union select * from b`, backslash, "a|b"},
		{"escaped backslash closes", `select * from a where x = 'c:\\' union select * from b`, backslash, "a|b"},
		{"tsql backslash is a character", `select * from a where x = 'c:\' union select * from b`, Dialect{}, "a|b"},
		{"doubled quote in both", `select * from a where x = 'o''brien' join b on 1=1`, backslash, "a|b"},
	}
	for _, tc := range tests {
		var got []string
		for _, tb := range ExtractDialect(tc.sql, tc.d) {
			got = append(got, tb.String())
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("%s: ExtractDialect = %q, want %q", tc.name, g, tc.want)
		}
	}
}

func TestBatches(t *testing.T) {
	for _, tc := range []struct{ sql, use, cols string }{
		{"USE Finance; SELECT a, b FROM t", "Finance", "a,b"},
		{"USE [Fin Ops]\nGO\nSELECT a FROM t", "Fin Ops", "a"},
		{"SELECT a INTO #x FROM t; SELECT b FROM #x", "", "b"},
		{"SET NOCOUNT ON; DECLARE @t TABLE (i int); SELECT c FROM t", "", "c"},
		{"SELECT a FROM t; USE other", "", "a"},
		{"INSERT INTO x SELECT a FROM t", "", ""},
	} {
		if got := UseDatabase(tc.sql); got != tc.use {
			t.Errorf("UseDatabase(%q) = %q, want %q", tc.sql, got, tc.use)
		}
		cols, _ := Columns(tc.sql)
		var names []string
		for _, c := range cols {
			names = append(names, c.Name)
		}
		if got := strings.Join(names, ","); got != tc.cols {
			t.Errorf("Columns(%q) = %q, want %q", tc.sql, got, tc.cols)
		}
	}
}

func FuzzExtractDialect(f *testing.F) {
	for _, s := range []string{
		`select * from a where x = 'it\'s' union select * from b`,
		"USE db;\nGO\nSELECT a INTO #t FROM s; SELECT * FROM #t",
		`select 'c:\\' from t; set x on`,
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, sql string, backslash bool) {
		d := Dialect{BackslashEscapes: backslash}
		for _, tb := range ExtractDialect(sql, d) {
			if len(tb.Parts) == 0 || tb.Name() == "" {
				t.Fatalf("ExtractDialect(%q) gave an empty table %q", sql, tb.Parts)
			}
		}
		if cols, ok := ColumnsDialect(sql, d); ok {
			for _, c := range cols {
				if c.Name == "" {
					t.Fatalf("ColumnsDialect(%q) gave an unnamed column", sql)
				}
			}
		}
		_ = UseDatabase(sql)
	})
}

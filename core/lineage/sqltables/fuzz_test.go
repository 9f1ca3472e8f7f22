package sqltables

import (
	"strings"
	"testing"
)

func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		`select * from a join b on a.id = b.id, c`,
		`with x as (select * from t) select * from x union select * from [dbo].[u] with (nolock)`,
		"select * from `p.d.t` where s = 'it''s' -- c\n/* d */",
		`insert into t select * from (select * from s) q`,
		`select extract(year from d) from t`,
		`merge into t using s on 1=1`,
		`select * from db..t, "a"."b"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if cols, ok := Columns(sql); ok {
			for _, c := range cols {
				if c.Name == "" {
					t.Fatalf("Columns(%q) gave an unnamed column", sql)
				}
			}
		}
		for _, tb := range Extract(sql) {
			if len(tb.Parts) == 0 || tb.Name() == "" {
				t.Fatalf("Extract(%q) gave an empty table %q", sql, tb.Parts)
			}
			if strings.HasPrefix(tb.Name(), "#") {
				t.Fatalf("Extract(%q) gave temp table %q", sql, tb)
			}
		}
	})
}

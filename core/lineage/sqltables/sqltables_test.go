package sqltables

import (
	"strings"
	"testing"
)

func TestExtract(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{"simple", `select * from orders`, "orders"},
		{"three part", `SELECT a FROM SALES.PUBLIC.ORDERS o`, "SALES.PUBLIC.ORDERS"},
		{"joins", `select * from dbo.a inner join dbo.b on a.id=b.id left outer join c x on 1=1 cross join d`, "dbo.a|dbo.b|c|d"},
		{"comma joins", `select * from a x, b as y, "S"."T" z where x.id = y.id`, "a|b|S.T"},
		{"cte excluded", `with recent as (select * from sales.orders where d > 1), big as (select * from recent join sales.customers c on 1=1) select * from big`, "sales.orders|sales.customers"},
		{"cte with columns", `WITH x (a, b) AS (SELECT a, b FROM t1) SELECT * FROM x`, "t1"},
		{"subquery", `select * from (select * from inner_t) s join (select 1 from other) o on 1=1`, "inner_t|other"},
		{"derived then comma", `select * from (select * from a) s, b`, "a|b"},
		{"in subquery", `select * from t where id in (select id from u) and exists (select 1 from v)`, "t|u|v"},
		{"tsql brackets nolock top", `SELECT TOP 100 * FROM [dbo].[Fact Sales] WITH (NOLOCK) JOIN [dbo].[Dim] d WITH (NOLOCK) ON 1=1`, "dbo.Fact Sales|dbo.Dim"},
		{"tsql db..table", `select * from Sales..Orders`, "Sales..Orders"},
		{"tsql four part", `select * from [srv].[db].[dbo].[t]`, "srv.db.dbo.t"},
		{"mysql backticks", "select * from `shop`.`order items`", "shop.order items"},
		{"bigquery one quoted", "SELECT * FROM `my-project.dataset.events` e", "my-project.dataset.events"},
		{"union", `select a from t1 union all select a from t2 union select a from t1`, "t1|t2"},
		{"insert select", `insert into target (a) select a from source_t`, "source_t"},
		{"select into", `select * into #tmp from base; select * from #tmp`, "base"},
		{"update from", `update t set a = s.a from src s where t.id = s.id`, "src"},
		{"delete", `delete from gone where id in (select id from keep)`, "keep"},
		{"merge", `merge into tgt using src s on tgt.id = s.id when matched then update set a = 1`, "src"},
		{"comments and strings", "select 'from fake' as x -- from c1\n/* from c2 */ from real_t where y = 'join z'", "real_t"},
		{"extract from", `select extract(year from d), trim(' ' from s), substring(x from 2 for 3) from t`, "t"},
		{"table function", `select * from table(flatten(input => (select arr from src))) f, lateral flatten(x)`, "src"},
		{"temp and vars", `select * from #t join @tv v on 1=1 join real r on 1=1`, "real"},
		{"quoted with dot escape", `select * from "my""schema"."t"`, `my"schema.t`},
		{"dedupe case", `select * from T join t on 1=1`, "T"},
		{"no tables", `select 1`, ""},
		{"garbage", `)))from((( join ,,, from`, ""},
		{"using columns", `select * from a join b using (id)`, "a|b"},
		{"snowflake stage", `select $1 from @my_stage`, ""},
		{"newlines", "SELECT\n\tc.id\nFROM\n\tanalytics.public.customers AS c\nLEFT JOIN\n\tanalytics.public.orders AS o\n\tON o.cid = c.id", "analytics.public.customers|analytics.public.orders"},
		{"oracle dual", `select sysdate from dual`, ""},
		{"parenthesized join", `select * from (a join b on a.id = b.id) left join (c) on 1=1`, "a|b|c"},
		{"alias column list", `select * from (values (1)) v(a), t2`, "t2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, tb := range Extract(tt.sql) {
				got = append(got, tb.String())
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Errorf("Extract(%q)\n got %q\nwant %q", tt.sql, g, tt.want)
			}
		})
	}
}

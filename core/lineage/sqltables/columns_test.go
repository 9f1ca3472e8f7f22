package sqltables

import (
	"fmt"
	"strings"
	"testing"
)

func TestColumns(t *testing.T) {
	tests := []struct{ name, sql, want string }{
		{"single table", `select id, name as customer_name from crm.customers`, "id<-crm.customers.id; customer_name<-crm.customers.name"},
		{"aliases", `SELECT o.id AS order_id, c.name, o.amount * 1.2 gross FROM sales.orders o JOIN crm.customers AS c ON c.id = o.cid`,
			"order_id<-sales.orders.id; name<-crm.customers.name; gross<-sales.orders.amount"},
		{"brackets and top", `SELECT TOP 10 [f].[SalesAmount] AS [Sales], [d].[CalendarYear] FROM [dbo].[FactSales] AS [f] JOIN [dbo].[DimDate] [d] ON 1=1`,
			"Sales<-dbo.FactSales.SalesAmount; CalendarYear<-dbo.DimDate.CalendarYear"},
		{"function", `select coalesce(a.x, b.y) as v, count(*) as n from a join b on 1=1`, "v<-a.x,b.y; n<-"},
		{"unqualified ambiguous", `select x from a, b`, "x<-"},
		{"table name qualifier", `select orders.id from sales.orders`, "id<-sales.orders.id"},
		{"cte source", `with r as (select * from t) select r.id from r`, "id<-"},
		{"distinct", `select distinct region from geo.regions`, "region<-geo.regions.region"},
		{"case", `select case when s.x > 0 then s.y else 0 end as z from s`, "z<-s.x,s.y"},
		{"bigquery", "select e.user_id from `p.d.events` e", "user_id<-p.d.events.user_id"},
		{"star", `select * from t`, "!"},
		{"qualified star", `select t.*, 1 as one from t`, "!"},
		{"union", `select a from t union select a from u`, "!"},
		{"unnamed expression", `select a + b from t`, "!"},
		{"no select", `exec dbo.proc`, "!"},
		{"derived table", `select s.x from (select x from t) s`, "x<-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cols, ok := Columns(tt.sql)
			got := "!"
			if ok {
				var parts []string
				for _, c := range cols {
					var srcs []string
					for _, s := range c.Sources {
						srcs = append(srcs, fmt.Sprintf("%s.%s", s.Table, s.Column))
					}
					parts = append(parts, c.Name+"<-"+strings.Join(srcs, ","))
				}
				got = strings.Join(parts, "; ")
			}
			if got != tt.want {
				t.Errorf("Columns(%q)\n got %s\nwant %s", tt.sql, got, tt.want)
			}
		})
	}
}

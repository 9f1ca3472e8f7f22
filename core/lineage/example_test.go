package lineage_test

import (
	"fmt"

	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/snapshot"
)

func ExampleResolve() {
	m := &snapshot.SemanticModel{
		Name: "Sales",
		Expressions: []snapshot.Expression{{
			Name:       "Server",
			Expression: `"xy12345.snowflakecomputing.com" meta [IsParameterQuery=true, Type="Text", IsParameterQueryRequired=true]`,
		}},
		Tables: []snapshot.Table{
			{Name: "Orders", Source: []string{`let
    Source = Snowflake.Databases(Server, "WH"),
    SALES_Database = Source{[Name="SALES",Kind="Database"]}[Data],
    PUBLIC_Schema = SALES_Database{[Name="PUBLIC",Kind="Schema"]}[Data],
    ORDERS_Table = PUBLIC_Schema{[Name="ORDERS",Kind="Table"]}[Data]
in
    ORDERS_Table`}},
			{Name: "Budget", Source: []string{`Excel.Workbook(File.Contents("C:\budget.xlsx"))`}},
		},
	}
	l, stats := lineage.Resolve(m)
	for _, t := range l.Tables {
		fmt.Println(t.Table, t.Upstream, t.Unresolved)
	}
	keys, _ := lineage.NewKeyMapper(lineage.Config{})
	fmt.Println(keys.Keys(l))
	fmt.Println(stats.Resolved, stats.NonTable)
	// Output:
	// Orders [{snowflake xy12345.snowflakecomputing.com SALES PUBLIC ORDERS }] []
	// Budget [] [unsupported_source:Excel.Workbook]
	// [sales/public/orders]
	// 1 1
}

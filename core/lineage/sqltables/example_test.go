package sqltables_test

import (
	"fmt"

	"github.com/pbisync/pbisync/core/lineage/sqltables"
)

func ExampleExtract() {
	sql := `WITH recent AS (SELECT * FROM sales.orders WHERE d > '2024-01-01')
SELECT r.id, c.name FROM recent r JOIN [crm].[customers] c WITH (NOLOCK) ON c.id = r.cid`
	for _, t := range sqltables.Extract(sql) {
		fmt.Println(t.Parts)
	}
	// Output:
	// [sales orders]
	// [crm customers]
}

package mquery_test

import (
	"fmt"

	"github.com/pbisync/pbisync/core/lineage/mquery"
)

func ExampleParse() {
	doc, err := mquery.Parse(`let Source = Sql.Database("srv", "db"), t = Source{[Schema="dbo",Item="Orders"]}[Data] in t`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(mquery.Sexpr(doc.Expr))
	_, err = mquery.Parse("let\n  a = 1\n  b = 2\nin b")
	fmt.Println(err)
	// Output:
	// (let "Source" (call Sql.Database "srv" "db") "t" (field (item Source (record "Schema" "dbo" "Item" "Orders")) "Data") t)
	// 3:3: expected "in", found "b"
}

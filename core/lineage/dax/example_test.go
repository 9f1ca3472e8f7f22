package dax_test

import (
	"fmt"

	"github.com/pbisync/pbisync/core/lineage/dax"
)

func ExampleReferences() {
	for _, r := range dax.References(`CALCULATE([Total Sales], 'Date'[Year] = 2024) // not [this]`) {
		fmt.Println(r.Kind, r.Table, r.Name)
	}
	// Output:
	// measure  Total Sales
	// column Date Year
}

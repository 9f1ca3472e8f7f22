package translate_test

import (
	"context"
	"fmt"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/translate"
	"github.com/pbisync/pbisync/sdk/spec"
)

// A pipeline's translators, here a no-code translation, loaded and run over a record.
func ExampleNew() {
	root, err := config.Parse("pipeline.yaml", []byte(`
translators:
  - name: tidy
    translation:
      - match: {type: dashboard}
        key_prefix: bi
        owners: ["team:my_team"]
`))
	if err != nil {
		panic(err)
	}
	var entries []config.Node
	for _, n := range root.Child("translators").Content {
		entries = append(entries, config.Node{Node: n, File: root.File})
	}
	ctx := context.Background()
	chain, err := translate.New(ctx, entries, translate.Options{})
	if err != nil {
		panic(err)
	}
	defer chain.Close(ctx)

	in := []record.Record{{Spec: spec.AssetSpec{
		Key:     spec.Key{"dashboard", "Sales"},
		PowerBI: spec.Identity{Type: spec.Dashboard, ID: "d1", Name: "Sales"},
	}}}
	out, problems, err := chain.Translate(ctx, in)
	fmt.Println(out[0].Spec.Key, out[0].Spec.Owners, len(problems), err)
	// Output: bi/dashboard/Sales [team:my_team] 0 <nil>
}

package translate

import (
	"context"
	"reflect"
	"testing"

	"github.com/pbisync/pbisync/sdk/spec"
)

const goDocsExample = `translators:
  - name: docs-example
    go_package: ../../plugins/translators/go-docs-example
    config: {prefix: my_prefix}
`

// TestGoDocsExample builds the Go example through go_package and checks its edits.
func TestGoDocsExample(t *testing.T) {
	requireTool(t, "go")
	c := mustChain(t, goDocsExample)
	in := sampleRecords(8)
	out, probs, err := c.Translate(context.Background(), in)
	if err != nil || len(probs) > 0 {
		t.Fatal(err, probs)
	}
	if len(out) != len(in) {
		t.Fatalf("got %d records, want %d", len(out), len(in))
	}
	for i := range in {
		want := in[i].Spec.Clone()
		if want.PowerBI.Type == spec.Dashboard {
			want.Key = append(spec.Key{"my_prefix"}, want.Key...)
			want.Owners = []string{"team:my_team"}
		}
		if !reflect.DeepEqual(out[i].Spec, want) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, out[i].Spec, want)
		}
	}
}

package lineage

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

// FuzzResolve checks the resolver never panics or hangs on any M text, with a
// shared expression that the text may reference.
func FuzzResolve(f *testing.F) {
	files, _ := filepath.Glob("testdata/corpus/*.txtar")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range splitTxtar(string(data)) {
			if strings.HasPrefix(sec.name, "table:") {
				f.Add(sec.body)
			}
		}
	}
	shared := []snapshot.Expression{
		{Name: "Server", Expression: `"srv" meta [IsParameterQuery=true]`},
		{Name: "Self", Expression: `Self`},
	}
	f.Fuzz(func(t *testing.T, src string) {
		tl := ResolveExpression(src, shared)
		for _, u := range tl.Upstream {
			if u.Table == "" || u.Platform == "" {
				t.Fatalf("upstream without table or platform: %+v", u)
			}
		}
		if len(tl.Upstream) == 0 && len(tl.Unresolved) == 0 {
			t.Fatalf("no upstream and no reason for %q", src)
		}
	})
}

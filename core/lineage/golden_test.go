package lineage

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// dumpLineage writes every model's and dataflow's lineage of s in Go syntax (%#v), which
// tells a nil slice from an empty one, then the counts.
func dumpLineage(s *snapshot.Snapshot, st Stats) string {
	var b strings.Builder
	for _, ws := range s.Workspaces {
		for _, m := range ws.SemanticModels {
			fmt.Fprintf(&b, "model %s %s: %#v\n", ws.ID, m.ID, m.Lineage)
		}
		for _, d := range ws.Dataflows {
			fmt.Fprintf(&b, "dataflow %s %s: %#v\n", ws.ID, d.ID, d.Lineage)
		}
		for _, it := range ws.FabricItems {
			fmt.Fprintf(&b, "item %s %s: %#v\n", ws.ID, it.ID, it)
		}
	}
	fmt.Fprintf(&b, "stats: %#v\n", st)
	return b.String()
}

// corpusSnapshot is the lineage corpus as one snapshot, a model per file.
func corpusSnapshot(t testing.TB) *snapshot.Snapshot {
	ws := snapshot.Workspace{ID: "corpus"}
	for _, cm := range readCorpus(t) {
		m := cm.model
		m.ID = filepath.Base(cm.file)
		ws.SemanticModels = append(ws.SemanticModels, m)
	}
	return &snapshot.Snapshot{Workspaces: []snapshot.Workspace{ws}}
}

// TestResolveGolden checks that the sample, generated and corpus tenants resolve to
// exactly what testdata/resolve_golden.txt holds: the results of the resolver before
// its allocation work (commit e8381df), as sha256 sums of dumpLineage, which prints
// nil and empty slices apart. -update rewrites the file.
func TestResolveGolden(t *testing.T) {
	large := powerbitest.LargeSize()
	large.Workspaces = 100
	opts, err := NewResolver(Options{
		Defaults: []DefaultRule{{Platform: "oracle", DefaultDatabase: "DB", DefaultSchema: "S"}, {Platform: "mssql", Server: "sql0.*", DefaultSchema: "app"}},
		ODBC:     []ODBCRule{{DSN: ".*", Platform: "snowflake", Database: "D", Schema: "S"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		snap func() *snapshot.Snapshot
		r    *Resolver
	}{
		{"sample", powerbitest.SampleTenant, &Resolver{}},
		{"sample+fabric", func() *snapshot.Snapshot { return powerbitest.AddFabric(powerbitest.SampleTenant()) }, &Resolver{}},
		{"generated-small", func() *snapshot.Snapshot { return powerbitest.Generate(1, powerbitest.SmallSize()) }, &Resolver{}},
		{"generated-small+fabric", func() *snapshot.Snapshot {
			return powerbitest.AddFabric(powerbitest.Generate(1, powerbitest.SmallSize()))
		}, &Resolver{}},
		{"generated-large-100", func() *snapshot.Snapshot { return powerbitest.Generate(1, large) }, &Resolver{}},
		{"generated-large-100-options", func() *snapshot.Snapshot { return powerbitest.Generate(1, large) }, opts},
		{"corpus", func() *snapshot.Snapshot { return corpusSnapshot(t) }, &Resolver{}},
		{"corpus-options", func() *snapshot.Snapshot { return corpusSnapshot(t) }, opts},
	}
	var got strings.Builder
	for _, c := range cases {
		s := c.snap()
		st := c.r.ResolveSnapshot(s)
		fmt.Fprintf(&got, "%s %x\n", c.name, sha256.Sum256([]byte(dumpLineage(s, st))))
	}
	path := filepath.Join("testdata", "resolve_golden.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("resolve results differ from %s:\n got\n%s\nwant\n%s", path, got.String(), want)
	}
}

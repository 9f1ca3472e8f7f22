package lineage

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// deployedTenant is a generated tenant of n workspaces deployed three times over, as
// deployment pipelines do: each workspace's models copied to a test and a prod
// workspace, M and all.
func deployedTenant(n int) *snapshot.Snapshot {
	size := powerbitest.LargeSize()
	size.Workspaces = n
	s := powerbitest.Generate(1, size)
	var out []snapshot.Workspace
	for _, ws := range s.Workspaces {
		for _, stage := range []string{"dev", "test", "prod"} {
			c := ws
			c.ID, c.Name = ws.ID+"-"+stage, ws.Name+" ["+stage+"]"
			c.SemanticModels = make([]snapshot.SemanticModel, len(ws.SemanticModels))
			for i, m := range ws.SemanticModels {
				m.ID += "-" + stage
				c.SemanticModels[i] = m
			}
			out = append(out, c)
		}
	}
	s.Workspaces = out
	return s
}

// TestParseCacheSharesCopies resolves a tenant whose models are copies, with the cache
// and without, and checks that the results are the same and that the cache parsed each
// text at most twice.
func TestParseCacheSharesCopies(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap func() *snapshot.Snapshot
	}{
		{"deployed", func() *snapshot.Snapshot { return deployedTenant(4) }},
		{"corpus twice", func() *snapshot.Snapshot {
			s := corpusSnapshot(t)
			ws := s.Workspaces[0]
			ws.ID = "copy"
			ws.SemanticModels = append([]snapshot.SemanticModel(nil), ws.SemanticModels...)
			s.Workspaces = append(s.Workspaces, ws)
			return s
		}},
		{"sample+fabric", func() *snapshot.Snapshot { return powerbitest.AddFabric(powerbitest.SampleTenant()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Resolver
			cached, plain := tc.snap(), tc.snap()
			cache := newParseCache()
			stCached := r.resolveSnapshot(cached, cache)
			stPlain := r.resolveSnapshot(plain, nil)
			if a, b := dumpLineage(cached, stCached), dumpLineage(plain, stPlain); a != b {
				t.Fatalf("results with the cache differ from those without")
			}
			texts := map[string]int{}
			for _, ws := range plain.Workspaces {
				for _, m := range ws.SemanticModels {
					for _, e := range m.Expressions {
						texts[e.Expression]++
					}
					for _, tb := range m.Tables {
						for _, src := range tb.Source {
							texts[src]++
						}
					}
				}
				for _, d := range ws.Dataflows {
					texts[d.Document]++
				}
			}
			repeated := 0
			for _, n := range texts {
				if n > 1 {
					repeated++
				}
			}
			if cache.parses > 2*len(texts) {
				t.Errorf("%d parses of %d distinct texts", cache.parses, len(texts))
			}
			if repeated > 0 && cache.hits == 0 {
				t.Errorf("%d texts repeat, yet no parse was shared", repeated)
			}
			t.Log(fmt.Sprintf("%d distinct texts (%d repeated): %d parses, %d shared", len(texts), repeated, cache.parses, cache.hits))
		})
	}
}

// TestParseCacheBounds checks that the cache keeps no trees past its byte bound.
func TestParseCacheBounds(t *testing.T) {
	c := newParseCache()
	big := "let a = \"" + strings.Repeat("x", maxCachedSourceBytes*2/3) + "\" in a"
	for range 3 {
		if _, err := c.parse(big); err != nil {
			t.Fatal(err)
		}
	}
	other := "let b = " + big[len("let a = "):]
	for range 3 {
		if _, err := c.parse(other); err != nil {
			t.Fatal(err)
		}
	}
	if c.bytes > maxCachedSourceBytes || len(c.docs) != 1 {
		t.Errorf("cache holds %d trees of %d source bytes, want 1 within %d", len(c.docs), c.bytes, maxCachedSourceBytes)
	}
	if c.parses != 5 || c.hits != 1 {
		t.Errorf("%d parses, %d hits; want 5 and 1", c.parses, c.hits)
	}
}

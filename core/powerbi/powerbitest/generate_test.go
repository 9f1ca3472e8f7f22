package powerbitest

import (
	"bytes"
	"testing"

	"github.com/pbisync/pbisync/core/snapshot"
)

func TestGenerateDeterministic(t *testing.T) {
	save := func(s *snapshot.Snapshot) []byte {
		var b bytes.Buffer
		if err := snapshot.Save(&b, s); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := save(Generate(7, SmallSize())), save(Generate(7, SmallSize()))
	if !bytes.Equal(a, b) {
		t.Error("same seed, different tenants")
	}
	if bytes.Equal(a, save(Generate(8, SmallSize()))) {
		t.Error("different seeds, same tenant")
	}
}

func TestGenerateLargeCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("large tenant")
	}
	s := Generate(1, LargeSize())
	var assets, tables, columns int
	ids := map[string]bool{}
	for _, w := range s.Workspaces {
		assets += len(w.SemanticModels) + len(w.Reports) + len(w.Dashboards)
		for _, m := range w.SemanticModels {
			tables += len(m.Tables)
			for _, tb := range m.Tables {
				columns += len(tb.Columns)
			}
			if ids[m.ID] {
				t.Fatalf("duplicate id %s", m.ID)
			}
			ids[m.ID] = true
		}
	}
	assets += len(s.DataSources)
	if len(s.Workspaces) != 1000 || assets != 35000 || tables != 100000 || columns != 1000000 {
		t.Errorf("workspaces %d assets %d tables %d columns %d", len(s.Workspaces), assets, tables, columns)
	}
}

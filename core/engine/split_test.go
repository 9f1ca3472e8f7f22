package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/pbisync/pbisync/core/assets"
	"github.com/pbisync/pbisync/core/lineage"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
)

// build runs snapshots through a fresh builder and returns every record (as JSON, with
// its raw data and workspace) and problem, by asset.
func build(t *testing.T, snaps []*snapshot.Snapshot) (map[string]string, int) {
	t.Helper()
	b := assets.NewBuilder(assets.Options{})
	out := map[string]string{}
	problems := 0
	add := func(recs []record.Record, probs []record.Problem) {
		problems += len(probs)
		for _, r := range recs {
			j, err := json.Marshal(struct {
				Spec      any
				Raw       json.RawMessage
				Workspace record.Workspace
				Refs      []record.Ref
			}{r.Spec, r.Raw, r.Workspace, r.Refs})
			if err != nil {
				t.Fatal(err)
			}
			id := string(r.Spec.PowerBI.Type) + "/" + r.Spec.PowerBI.ID
			if _, dup := out[id]; dup {
				t.Fatalf("%s built twice", id)
			}
			out[id] = string(j)
		}
	}
	for _, s := range snaps {
		add(b.Add(s))
	}
	add(b.Flush())
	return out, problems
}

// TestSplitSnapshotBuildsTheSame: the builder makes the same records, raw data, workspaces
// and references from a batch's parts as from the whole batch, for generated tenants (each
// workspace's own data sources), a tenant whose data sources are shared across parts and
// used by nothing, with Fabric items and dataflows, and the sample tenant.
func TestSplitSnapshotBuildsTheSame(t *testing.T) {
	shared := powerbitest.Generate(3, powerbitest.SmallSize())
	// The first workspace's data sources are used by models far away, in other parts,
	// and one data source is used by nothing.
	ws0 := shared.Workspaces[0].SemanticModels[0].DataSourceIDs
	for _, wi := range []int{4, 9} {
		m := &shared.Workspaces[wi].SemanticModels[0]
		m.DataSourceIDs = append(m.DataSourceIDs, ws0...)
	}
	shared.DataSources = append(shared.DataSources, snapshot.DataSource{ID: "unused", Type: "Sql"})
	big := powerbitest.SmallSize()
	big.Workspaces = 35
	for _, tc := range []struct {
		name string
		snap *snapshot.Snapshot
		n    int
	}{
		{"generated 35 workspaces, parts of 10", powerbitest.Generate(1, big), 10},
		{"shared data sources, parts of 3", shared, 3},
		{"fabric, parts of 2", powerbitest.AddFabric(powerbitest.Generate(2, powerbitest.SmallSize())), 2},
		{"sample, parts of 1", powerbitest.SampleTenant(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := lineage.NewResolver(lineage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res.ResolveSnapshot(tc.snap)
			parts := splitSnapshot(tc.snap, tc.n)
			if want := (len(tc.snap.Workspaces) + tc.n - 1) / tc.n; len(parts) != want {
				t.Fatalf("%d parts of %d workspaces, want %d", len(parts), len(tc.snap.Workspaces), want)
			}
			i := 0
			for _, p := range parts {
				for wi := range p.Workspaces {
					if p.Workspaces[wi].ID != tc.snap.Workspaces[i].ID {
						t.Fatalf("workspace %d of the parts is %s, want %s", i, p.Workspaces[wi].ID, tc.snap.Workspaces[i].ID)
					}
					i++
				}
			}
			if i != len(tc.snap.Workspaces) {
				t.Fatalf("parts hold %d workspaces, want %d", i, len(tc.snap.Workspaces))
			}
			whole, wholeProblems := build(t, []*snapshot.Snapshot{tc.snap})
			split, splitProblems := build(t, parts)
			if len(whole) != len(split) || wholeProblems != splitProblems {
				t.Fatalf("parts built %d records and %d problems, the whole batch %d and %d", len(split), splitProblems, len(whole), wholeProblems)
			}
			for id, w := range whole {
				if split[id] != w {
					t.Errorf("%s differs:\nwhole: %s\nparts: %s", id, w, split[id])
				}
			}
		})
	}
}

func TestSplitSnapshotSmallBatchIsWhole(t *testing.T) {
	s := powerbitest.Generate(1, powerbitest.SmallSize())
	if parts := splitSnapshot(s, 10); len(parts) != 1 || parts[0] != s {
		t.Fatalf("a batch of 10 workspaces was split into %d parts", len(parts))
	}
}

// TestModelsKeepIsRefreshable: the models a sync keeps for refreshes carry isRefreshable
// as their raw properties say, whether it is true, false or absent, and wherever their
// part of the batch is, also when only the raw properties have it.
func TestModelsKeepIsRefreshable(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 25
	snap := powerbitest.Generate(4, size)
	want := map[string]string{}
	n := 0
	for wi := range snap.Workspaces {
		for mi := range snap.Workspaces[wi].SemanticModels {
			m := &snap.Workspaces[wi].SemanticModels[mi]
			raw := map[string]any{"id": m.ID, "name": m.Name}
			if len(m.Raw) > 0 {
				if err := json.Unmarshal(m.Raw, &raw); err != nil {
					t.Fatal(err)
				}
			}
			handWritten := n%4 == 3 // the raw properties say, the snapshot does not
			switch n % 3 {
			case 0:
				raw["isRefreshable"], want[m.ID] = false, `{"isRefreshable":false}`
			case 1:
				raw["isRefreshable"], want[m.ID] = true, `{"isRefreshable":true}`
			default:
				delete(raw, "isRefreshable")
				want[m.ID] = ""
			}
			n++
			b, err := json.Marshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			// As the scanner decodes it: the model from its raw properties.
			wire := []byte(`{"workspaces":[{"id":"w","datasets":[` + string(b) + `]}]}`)
			dec, err := snapshot.DecodeScanResult(bytes.NewReader(wire))
			if err != nil {
				t.Fatal(err)
			}
			m.IsRefreshable, m.Raw = dec.Workspaces[0].SemanticModels[0].IsRefreshable, b
			if handWritten {
				m.IsRefreshable = nil
			}
		}
	}
	c := &collect{name: "c"}
	e := &Engine{Sources: []Source{&sliceSource{batches: []*snapshot.Snapshot{snap}}},
		NewBuilder: func() Builder { return assets.NewBuilder(assets.Options{}) }, Sinks: []Sink{c}}
	res, err := e.Sync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Spec events come with a conversion that the outputs share (event.Shared).
	for _, ev := range c.events {
		if ev.Kind == event.KindSpec && ev.Shared == nil {
			t.Fatalf("spec event %s without Shared", ev.Spec.Key)
		}
	}
	if len(res.Models) != len(want) {
		t.Fatalf("%d models kept, want %d", len(res.Models), len(want))
	}
	for _, m := range res.Models {
		if got := string(m.Record.Raw); got != want[m.Record.Spec.PowerBI.ID] {
			t.Errorf("model %s keeps raw %q, want %q", m.Record.Spec.PowerBI.ID, got, want[m.Record.Spec.PowerBI.ID])
		}
		if refreshable(m.Record.Raw) != (want[m.Record.Spec.PowerBI.ID] != `{"isRefreshable":false}`) {
			t.Errorf("model %s: refreshable %v", m.Record.Spec.PowerBI.ID, refreshable(m.Record.Raw))
		}
	}
}

func refreshable(raw json.RawMessage) bool {
	var p struct{ IsRefreshable *bool }
	return len(raw) == 0 || json.Unmarshal(raw, &p) != nil || p.IsRefreshable == nil || *p.IsRefreshable
}

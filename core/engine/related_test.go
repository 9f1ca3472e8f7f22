package engine

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// batchesOf splits a tenant into batches of n workspaces, in the given workspace order;
// the tenant's data sources come with the first batch.
func batchesOf(t *snapshot.Snapshot, order []int, n int) []*snapshot.Snapshot {
	var out []*snapshot.Snapshot
	for i := 0; i < len(order); i += n {
		b := &snapshot.Snapshot{}
		for _, w := range order[i:min(i+n, len(order))] {
			b.Workspaces = append(b.Workspaces, t.Workspaces[w])
		}
		if i == 0 {
			b.DataSources = t.DataSources
		}
		out = append(out, b)
	}
	return out
}

// relatedByAsset renders each spec event's related assets, by asset identity.
func relatedByAsset(t *testing.T, evs []event.Event) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range evs {
		if e.Kind != event.KindSpec {
			continue
		}
		rel := append([]event.Related(nil), e.Related...)
		slices.SortFunc(rel, func(a, b event.Related) int { return strings.Compare(a.PowerBI.ID, b.PowerBI.ID) })
		b, err := json.Marshal(rel)
		if err != nil {
			t.Fatal(err)
		}
		id := e.Spec.PowerBI.String()
		if _, dup := out[id]; dup {
			t.Fatalf("%s sent twice", id)
		}
		out[id] = string(b)
	}
	return out
}

// TestRelatedWhateverTheOrder: the related assets of every event are the same however
// the tenant is cut into batches and in whatever order its workspaces come, with
// reports and tiles that point into other workspaces; deps name them by the keys
// translators gave them.
func TestRelatedWhateverTheOrder(t *testing.T) {
	tenant := powerbitest.Generate(3, powerbitest.SmallSize())
	forward := make([]int, len(tenant.Workspaces))
	for i := range forward {
		forward[i] = i
	}
	backward := slices.Clone(forward)
	slices.Reverse(backward)
	var want map[string]string
	for _, tc := range []struct {
		name  string
		order []int
		n     int
		keys  bool // translators re-key the models
	}{
		{"one batch", forward, len(forward), false},
		{"forward by 1", forward, 1, false},
		{"backward by 1", backward, 1, false},
		{"backward by 3", backward, 3, false},
		{"backward by 1, models re-keyed", backward, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &collect{name: "c"}
			e := newEngine([]Source{&sliceSource{batches: batchesOf(tenant, tc.order, tc.n)}}, c)
			if tc.keys {
				e.Translators = []Translator{prefixModels{}}
			}
			res, err := e.Run(context.Background(), RunOptions{ModelSpecs: true})
			if err != nil {
				t.Fatal(err)
			}
			got := relatedByAsset(t, c.events)
			checkRelated(t, c.events, tc.keys)
			if tc.keys {
				// The keys differ, the assets referred to do not.
				for id, r := range got {
					got[id] = strings.ReplaceAll(r, `"key":["bi",`, `"key":[`)
				}
			}
			if want == nil {
				want = got
				if len(want) < 50 {
					t.Fatalf("only %d assets", len(want))
				}
			} else {
				for id, w := range want {
					if got[id] != w {
						t.Errorf("%s: related\n got %s\nwant %s", id, got[id], w)
					}
				}
			}
			// Models keep what their refresh events carry.
			for _, m := range res.Models {
				s := m.refreshSpec()
				if s == nil || !s.Key.Equal(m.Record.Spec.Key) || len(s.Metadata) == 0 {
					t.Fatalf("model %s keeps no spec for its refresh events: %+v", m.Record.Spec.PowerBI, s)
				}
				if len(m.related) == 0 {
					t.Errorf("model %s keeps no related assets (its data sources)", m.Record.Spec.PowerBI)
				}
			}
		})
	}
}

// checkRelated checks that every report has its model, with its tables, under the key
// its dep names, and every tile's model is there, even from another workspace.
func checkRelated(t *testing.T, evs []event.Event, rekeyed bool) {
	t.Helper()
	reports, tiles := 0, 0
	for i := range evs {
		e := &evs[i]
		if e.Kind != event.KindSpec {
			continue
		}
		switch e.Spec.PowerBI.Type {
		case spec.Report:
			if len(e.Spec.Deps) != 1 {
				continue
			}
			r, ok := e.RelatedByKey(e.Spec.Deps[0])
			if !ok || r.PowerBI.Type != spec.SemanticModel || len(r.Tables) == 0 || r.WebURL == "" {
				t.Fatalf("report %s: related %+v", e.Spec.Key, e.Related)
			}
			if rekeyed && r.Key[0] != "bi" {
				t.Fatalf("report %s: related model under its old key %s", e.Spec.Key, r.Key)
			}
			reports++
		case spec.Dashboard:
			md, _ := e.Spec.Metadata["powerbi/tiles"].Value.([]snapshot.Tile)
			for _, tile := range md {
				if tile.DatasetID == "" {
					continue
				}
				if _, ok := e.RelatedByID(spec.SemanticModel, tile.DatasetID); !ok {
					t.Fatalf("dashboard %s: tile %s's model %s is not related", e.Spec.Key, tile.ID, tile.DatasetID)
				}
				tiles++
			}
		}
	}
	if reports == 0 || tiles == 0 {
		t.Fatalf("checked %d reports and %d tiles", reports, tiles)
	}
}

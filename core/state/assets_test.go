package state

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

// saveAssetsBefore is SaveAssets as it was before it wrote only what changed: every row
// deleted, then each spec inserted by one statement. It is the reference of
// TestSaveAssetsMatchesBefore and the baseline of BenchmarkSaveAssets.
func (s *Store) saveAssetsBefore(ctx context.Context, pipeline string, specs []Asset) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM pipeline_assets WHERE pipeline = ?`, pipeline); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO pipeline_assets (pipeline, type, id, key, name, workspace_id, workspace_name)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, type, id) DO UPDATE SET key = excluded.key,
		name = excluded.name, workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for i := range specs {
		id := specs[i].PowerBI
		key, err := json.Marshal(specs[i].Key)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(ctx, pipeline, string(id.Type), id.ID, string(key), id.Name, id.WorkspaceID, id.WorkspaceName); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_syncs (pipeline, synced_at, assets) VALUES (?, ?, ?)
		ON CONFLICT (pipeline) DO UPDATE SET synced_at = excluded.synced_at, assets = excluded.assets`,
		pipeline, time.Now().UTC().Format(time.RFC3339Nano), len(specs)); err != nil {
		return err
	}
	return tx.Commit()
}

// savedRows is the pipeline_assets and pipeline_syncs.assets of every pipeline, as text.
func savedRows(t *testing.T, st *Store) []string {
	t.Helper()
	rows, err := st.db.Query(`SELECT a.pipeline, type, id, key, name, workspace_id, workspace_name, s.assets FROM pipeline_assets a
		JOIN pipeline_syncs s ON s.pipeline = a.pipeline ORDER BY a.pipeline, type, id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v [8]string
		if err := rows.Scan(&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(v[:], "|"))
	}
	return out
}

// TestSaveAssetsMatchesBefore: a sequence of saves (assets added, changed, renamed,
// removed, given twice, two pipelines) leaves the rows the previous SaveAssets left.
func TestSaveAssetsMatchesBefore(t *testing.T) {
	ctx := context.Background()
	now, before := openTestStore(t), openTestStore(t)
	r := rand.New(rand.NewPCG(7, 8))
	names := []string{"Sales", "Finance", "a<b>&c", "quote\"d", "back\\slash", "tab\tnl\n", "é", "\u2028", "x"}
	for round := range 40 {
		pipeline := []string{"p1", "p2"}[round%2]
		var specs []Asset
		for range r.IntN(120) {
			id := fmt.Sprintf("id%03d", r.IntN(150))
			typ := []spec.ContentType{spec.Report, spec.Dashboard, spec.SemanticModel}[r.IntN(3)]
			key := spec.Key{string(typ), names[r.IntN(len(names))], id}
			a := asset(typ, id, key...)
			a.PowerBI.Name = names[r.IntN(len(names))]
			specs = append(specs, a)
		}
		if err := now.SaveAssets(ctx, pipeline, specs); err != nil {
			t.Fatal(err)
		}
		if err := before.saveAssetsBefore(ctx, pipeline, specs); err != nil {
			t.Fatal(err)
		}
		if got, want := savedRows(t, now), savedRows(t, before); !slices.Equal(got, want) {
			t.Fatalf("round %d: %d rows, want %d\n got %q\nwant %q", round, len(got), len(want), got[:min(len(got), 5)], want[:min(len(want), 5)])
		}
	}
}

func openTestStore(t testing.TB) *Store {
	t.Helper()
	st, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestKeyJSON(t *testing.T) {
	for _, k := range []spec.Key{nil, {}, {""}, {"a", "b"}, {"a<b"}, {"a&b", "c"}, {"q\"q"}, {"\\"}, {"\x00\x1f"}, {"é"}, {"\u2028\u2029"}, {"\xff"}, {"~ !"}} {
		checkKeyJSON(t, k)
	}
}

func checkKeyJSON(t *testing.T, k spec.Key) {
	t.Helper()
	want, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := keyJSON(k)
	if err != nil || got != string(want) {
		t.Fatalf("keyJSON(%q) = %s, %v; json.Marshal gives %s", []string(k), got, err, want)
	}
}

// FuzzKeyJSON: keyJSON is json.Marshal, whatever the key's parts.
func FuzzKeyJSON(f *testing.F) {
	f.Add("powerbi", "report", "a<b")
	f.Add("", "\xff", "\u2028")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		checkKeyJSON(t, spec.Key{a, b, c})
		checkKeyJSON(t, spec.Key{a})
	})
}

// benchAssets are n report specs with keys and names like the generated tenant's.
func benchAssets(n int) []Asset {
	r := rand.New(rand.NewPCG(3, 4))
	specs := make([]Asset, n)
	for i := range specs {
		id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint32()&0xffff, r.Uint64()&0xffffffffffff)
		specs[i] = asset(spec.Report, id, "my_prefix", "workspace_"+fmt.Sprint(i/35), "report", "Report "+fmt.Sprint(i))
	}
	return specs
}

// BenchmarkSaveAssets saves 35,000 assets: into a new state store (a first sync) and
// over the same assets (a sync of an unchanged tenant), with SaveAssets and with the
// previous implementation (before).
func BenchmarkSaveAssets(b *testing.B) {
	ctx := context.Background()
	specs := benchAssets(35000)
	for _, impl := range []struct {
		name string
		save func(*Store, context.Context, string, []Asset) error
	}{{"before", (*Store).saveAssetsBefore}, {"now", (*Store).SaveAssets}} {
		b.Run("new/"+impl.name, func(b *testing.B) {
			c0 := cpuTime()
			for b.Loop() {
				b.StopTimer()
				st, err := Open(ctx, b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if err := impl.save(st, ctx, "p", specs); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			reportCPU(b, c0)
		})
		b.Run("unchanged/"+impl.name, func(b *testing.B) {
			st := openTestStore(b)
			if err := impl.save(st, ctx, "p", specs); err != nil {
				b.Fatal(err)
			}
			c0 := cpuTime()
			for b.Loop() {
				if err := impl.save(st, ctx, "p", specs); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
		})
	}
}

package assets

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pbisync/pbisync/core/record"
	"github.com/pbisync/pbisync/core/snapshot"
	"github.com/pbisync/pbisync/sdk/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// goldenRecord is a record as the golden files show it.
type goldenRecord struct {
	Spec      spec.AssetSpec   `json:"spec"`
	Workspace record.Workspace `json:"workspace"`
	Raw       json.RawMessage  `json:"raw"`
}

type goldenProblem struct {
	Stage string        `json:"stage"`
	Asset spec.Identity `json:"asset"`
	Error string        `json:"error"`
}

type goldenStep struct {
	Step     string          `json:"step"`
	Records  []goldenRecord  `json:"records"`
	Problems []goldenProblem `json:"problems"`
}

type golden struct {
	Steps []goldenStep `json:"steps"`
	// KeyProblems are what a KeyIndex reports over every record of the run.
	KeyProblems []goldenProblem `json:"keyProblems"`
}

func toGolden(step string, recs []record.Record, problems []record.Problem) goldenStep {
	s := goldenStep{Step: step, Records: []goldenRecord{}, Problems: goldenProblems(problems)}
	for _, r := range recs {
		s.Records = append(s.Records, goldenRecord{Spec: r.Spec, Workspace: r.Workspace, Raw: r.Raw})
	}
	return s
}

func goldenProblems(problems []record.Problem) []goldenProblem {
	out := []goldenProblem{}
	for _, p := range problems {
		out = append(out, goldenProblem{Stage: p.Stage, Asset: p.Asset, Error: p.Err.Error()})
	}
	return out
}

// loadBatches reads the case's batch-N.json files in order.
func loadBatches(t *testing.T, dir string) ([]string, []*snapshot.Snapshot) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "batch-*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no batch-*.json in %s: %v", dir, err)
	}
	sort.Strings(names)
	var snaps []*snapshot.Snapshot
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var s snapshot.Snapshot
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		snaps = append(snaps, &s)
	}
	return names, snaps
}

func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			names, snaps := loadBatches(t, dir)
			b := NewBuilder(Options{})
			keys := NewKeyIndex()
			var g golden
			var all []record.Record
			for i, s := range snaps {
				recs, problems := b.Add(s)
				all = append(all, recs...)
				g.Steps = append(g.Steps, toGolden("add "+filepath.Base(names[i]), recs, problems))
			}
			recs, problems := b.Flush()
			all = append(all, recs...)
			g.Steps = append(g.Steps, toGolden("flush", recs, problems))
			g.KeyProblems = goldenProblems(keys.Check(all))
			if b.Pending() != 0 {
				t.Errorf("Pending() = %d after Flush", b.Pending())
			}

			for _, r := range all {
				if err := r.Spec.Validate(); err != nil {
					t.Errorf("%s: invalid spec: %v", r.Spec.PowerBI, err)
				}
				if !json.Valid(r.Raw) {
					t.Errorf("%s: raw is not JSON", r.Spec.PowerBI)
				}
			}
			checkEveryItemOnce(t, snaps, all)

			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := dir + ".golden.json"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./core/assets -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the output; run go test ./core/assets -update and review the diff\n%s", path, firstDiff(string(want), string(got)))
			}
		})
	}
}

// checkEveryItemOnce asserts that each distinct item with an id became exactly one record.
func checkEveryItemOnce(t *testing.T, snaps []*snapshot.Snapshot, all []record.Record) {
	t.Helper()
	want := map[string]bool{}
	for _, s := range snaps {
		for _, ds := range s.DataSources {
			if ds.ID != "" {
				want["data_source "+ds.ID] = true
			}
		}
		for _, ws := range s.Workspaces {
			for _, m := range ws.SemanticModels {
				if m.ID != "" {
					want["semantic_model "+m.ID] = true
				}
			}
			for _, r := range ws.Reports {
				if r.ID != "" {
					want["report "+r.ID] = true
				}
			}
			for _, d := range ws.Dashboards {
				if d.ID != "" {
					want["dashboard "+d.ID] = true
				}
			}
			for _, d := range ws.Dataflows {
				if d.ID != "" {
					_, typ, _ := dataflowPrefix(&d)
					want[string(typ)+" "+d.ID] = true
				}
			}
			for _, it := range ws.FabricItems {
				if it.ID != "" {
					_, typ, _, _ := fabricPrefix(&it)
					want[string(typ)+" "+it.ID] = true
				}
			}
		}
	}
	got := map[string]int{}
	for _, r := range all {
		got[string(r.Spec.PowerBI.Type)+" "+r.Spec.PowerBI.ID]++
	}
	for k := range want {
		if got[k] != 1 {
			t.Errorf("%s: %d records, want 1", k, got[k])
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("%s: record for an item not in the snapshots", k)
		}
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// TestRawBlobRoundTrip: a batch split into raw blobs and merged back is the batch: each
// workspace with the data sources it references, unreferenced ones kept once.
func TestRawBlobRoundTrip(t *testing.T) {
	tenant := powerbitest.SampleTenant()
	tenant.DataSources = append(tenant.DataSources, snapshot.DataSource{ID: "unreferenced", Type: "Sql"})
	blobs, err := encodeRawWorkspaces(tenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(blobs) != len(tenant.Workspaces) {
		t.Fatalf("%d blobs for %d workspaces", len(blobs), len(tenant.Workspaces))
	}
	parts := make([]*snapshot.Snapshot, len(blobs))
	for i, b := range blobs {
		if parts[i], err = decodeRawWorkspace(b); err != nil {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
	got := mergeSnapshots(parts)
	want := *tenant
	want.Version = snapshot.Version
	wantWS, _ := json.Marshal(want.Workspaces)
	gotWS, _ := json.Marshal(got.Workspaces)
	if string(gotWS) != string(wantWS) {
		t.Errorf("workspaces differ after the round trip:\n got %.400s\nwant %.400s", gotWS, wantWS)
	}
	have := map[string]bool{}
	for _, d := range got.DataSources {
		have[d.ID] = true
	}
	for _, d := range tenant.DataSources {
		if !have[d.ID] {
			t.Errorf("data source %s was lost", d.ID)
		}
	}
	if len(got.DataSources) != len(tenant.DataSources) {
		t.Errorf("%d data sources after the round trip, %d before", len(got.DataSources), len(tenant.DataSources))
	}
}

func TestDecodeRawWorkspaceRejects(t *testing.T) {
	good, err := encodeRawWorkspaces(powerbitest.SampleTenant())
	if err != nil {
		t.Fatal(err)
	}
	blob := func(js string) []byte { return append([]byte("pbr1"), s2.Encode(nil, []byte(js))...) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"no header", []byte(`{"version":1}`), "no pbr1 header"},
		{"truncated", good[0][:len(good[0])/2], "raw workspace blob"},
		{"not JSON", blob("not json"), "raw workspace blob"},
		{"newer version", blob(`{"version":99,"workspaces":[{"id":"w"}]}`), "version 99"},
		{"two workspaces", blob(`{"version":1,"workspaces":[{"id":"a"},{"id":"b"}]}`), "holds 2 workspaces"},
		{"no id", blob(`{"version":1,"workspaces":[{"name":"a"}]}`), "want one with an id"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeRawWorkspace(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// FuzzDecodeRawWorkspace: a stored blob, damaged any way, decodes or gives an error;
// what decodes holds one workspace and encodes again.
func FuzzDecodeRawWorkspace(f *testing.F) {
	good, _ := encodeRawWorkspaces(powerbitest.SampleTenant())
	for _, b := range good {
		f.Add(b)
	}
	f.Add([]byte("pbr1"))
	f.Add(append([]byte("pbr1"), s2.Encode(nil, []byte(`{"version":1,"workspaces":[{"id":"w","semanticModels":null}],"dataSources":null}`))...))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeRawWorkspace(data)
		if err != nil {
			return
		}
		if len(s.Workspaces) != 1 {
			t.Fatalf("decoded %d workspaces", len(s.Workspaces))
		}
		if _, err := encodeRawWorkspaces(s); err != nil {
			t.Fatalf("a decoded blob does not encode again: %v", err)
		}
	})
}

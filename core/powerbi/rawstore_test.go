package powerbi_test

import (
	"testing"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/rawblob"
	"github.com/pbisync/pbisync/core/snapshot"
)

// throughRawStore is what the raw store reads back of a scanned snapshot: each
// workspace's blob decoded, then merged.
func throughRawStore(t *testing.T, s *snapshot.Snapshot) *snapshot.Snapshot {
	t.Helper()
	blobs, err := rawblob.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]*snapshot.Snapshot, len(blobs))
	for i, b := range blobs {
		if parts[i], err = rawblob.Decode(b); err != nil {
			t.Fatalf("workspace %s: %v", s.Workspaces[i].ID, err)
		}
	}
	return rawblob.Merge(parts)
}

// TestWhatTheClientAddsIsKept: a workspace the client added to after its scan (a
// paginated report's data sources, dataflow definitions) is no longer kept as the scan
// result held it, so the raw store keeps what was added; the others are.
func TestWhatTheClientAddsIsKept(t *testing.T) {
	t.Run("paginated report data sources", func(t *testing.T) {
		srv := startEmulator(t, powerbitest.SampleTenant())
		s, _, err := collect(t, newClient(t, srv, baseConfig(srv, withToken), nil))
		if err != nil {
			t.Fatal(err)
		}
		raw := 0
		for i := range s.Workspaces {
			w := &s.Workspaces[i]
			for _, r := range w.Reports {
				if r.ID == invoiceRegister && w.Raw != nil {
					t.Errorf("workspace %s: its paginated report's data sources were added, but it is kept as scanned", w.Name)
				}
			}
			if w.Raw != nil {
				raw++
			}
		}
		if raw == 0 {
			t.Fatal("no workspace is kept as scanned")
		}
		back := throughRawStore(t, s)
		if r := findReport(back, invoiceRegister); r == nil || len(r.DataSourceIDs) != 1 || r.DataSourceIDs[0] != financeSQL {
			t.Errorf("the paginated report's data sources were lost in the raw store: %+v", r)
		}
		found := false
		for _, d := range back.DataSources {
			found = found || d.ID == financeSQL
		}
		if !found {
			t.Errorf("data source %s was lost in the raw store", financeSQL)
		}
	})
	t.Run("dataflow definitions", func(t *testing.T) {
		srv := startEmulator(t, powerbitest.AddFabric(powerbitest.SampleTenant()))
		cfg := baseConfig(srv, withSecret)
		cfg.Scanner.DataflowDefinitions = boolp(true)
		s, _, err := collect(t, newClient(t, srv, cfg, nil))
		if err != nil {
			t.Fatal(err)
		}
		count := func(s *snapshot.Snapshot) (docs int) {
			for _, w := range s.Workspaces {
				for _, d := range w.Dataflows {
					if d.Document != "" {
						docs++
						if w.Raw != nil {
							t.Errorf("workspace %s: a dataflow definition was added, but it is kept as scanned", w.Name)
						}
					}
				}
			}
			return docs
		}
		want := count(s)
		if want == 0 {
			t.Fatal("no dataflow definition was read")
		}
		if docs := count(throughRawStore(t, s)); docs != want {
			t.Errorf("%d dataflow definitions after the raw store, %d before", docs, want)
		}
	})
}

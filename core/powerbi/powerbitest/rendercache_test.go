package powerbitest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// scanOnce scans the workspaces and returns the scan result's body.
func scanOnce(t *testing.T, s *Server, tok string, ids []string) []byte {
	t.Helper()
	started := call(t, s, tok, "POST", "/admin/workspaces/getInfo", map[string][]string{"workspaces": ids})
	var sc struct{ ID, Status string }
	if err := json.Unmarshal(started.body, &sc); err != nil || sc.ID == "" {
		t.Fatalf("getInfo: %d %s", started.status, started.body)
	}
	for sc.Status != "Succeeded" {
		a := call(t, s, tok, "GET", "/admin/workspaces/scanStatus/"+sc.ID, nil)
		if err := json.Unmarshal(a.body, &sc); err != nil || a.status != 200 {
			t.Fatalf("scanStatus: %d %s", a.status, a.body)
		}
	}
	a := call(t, s, tok, "GET", "/admin/workspaces/scanResult/"+sc.ID, nil)
	if a.status != 200 {
		t.Fatalf("scanResult: %d %s", a.status, a.body)
	}
	return a.body
}

// rendered is what the emulator would answer now for ids, rendered afresh (no cache).
func rendered(t *testing.T, s *Server, ids []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	q := s.currentQuirks()
	s.read(func(tn *snapshot.Snapshot, x *index) {
		if err := writeScanResult(&buf, tn, x, ids, q, nil, 0); err != nil {
			t.Fatal(err)
		}
	})
	return buf.Bytes()
}

// The emulator keeps each workspace's scan JSON once rendered, and serves it again
// byte for byte; a change to the tenant (through Tenant or the change methods that
// POST /emulator/change calls) or to the quirks is served at once.
func TestScanResultRenderingIsKeptUntilAChange(t *testing.T) {
	s := start(t, WithScanPolls(1))
	tok := s.IssueToken(time.Hour)
	var ids []string
	for i := range s.tenant.Workspaces {
		ids = append(ids, s.tenant.Workspaces[i].ID)
	}
	first := scanOnce(t, s, tok, ids)
	if want := rendered(t, s, ids); !bytes.Equal(first, want) {
		t.Fatalf("the first answer is not the emulator's rendering:\n%s\nwant\n%s", first, want)
	}
	if n := len(s.rendered.ws); n != len(ids) {
		t.Fatalf("%d workspaces kept rendered, want %d", n, len(ids))
	}
	if again := scanOnce(t, s, tok, ids); !bytes.Equal(again, first) {
		t.Fatal("the same scan answered differently the second time")
	}

	s.Tenant(func(tn *snapshot.Snapshot) { tn.Workspaces[0].Name = "Renamed by the test" })
	renamed := scanOnce(t, s, tok, ids)
	if !strings.Contains(string(renamed), "Renamed by the test") || !bytes.Equal(renamed, rendered(t, s, ids)) {
		t.Errorf("a workspace renamed through Tenant is not served renamed")
	}

	s.SetQuirks(Quirks{MalformedWorkspaces: []string{ids[0]}})
	malformed := scanOnce(t, s, tok, ids)
	if bytes.Equal(malformed, renamed) || !bytes.Equal(malformed, rendered(t, s, ids)) {
		t.Errorf("a quirk set after the rendering is not served")
	}
	s.SetQuirks(Quirks{})
	if back := scanOnce(t, s, tok, ids); !bytes.Equal(back, renamed) {
		t.Errorf("the quirk taken back is still served")
	}

	if len(s.ModifyWorkspaces(1)) != 1 {
		t.Fatal("no workspace modified")
	}
	if changed := scanOnce(t, s, tok, ids); bytes.Equal(changed, renamed) || !bytes.Equal(changed, rendered(t, s, ids)) {
		t.Errorf("a workspace modified through the change endpoint is served as it was")
	}
	s.DeleteWorkspace()
	if gone := scanOnce(t, s, tok, ids); !bytes.Equal(gone, rendered(t, s, ids)) {
		t.Errorf("after a deletion the answer is not the emulator's rendering")
	}
}

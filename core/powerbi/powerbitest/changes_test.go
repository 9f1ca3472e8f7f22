package powerbitest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

// TestQuotasThrottle: past each documented limit the emulator answers 429 with a
// Retry-After that ends the window, and the bare throttling body; other endpoints go on.
func TestQuotasThrottle(t *testing.T) {
	var quotas []Quota
	for _, q := range DocumentedQuotas() {
		quotas = append(quotas, Quota{Endpoint: q.Endpoint, Max: 2, Per: time.Hour})
	}
	s := start(t, WithQuotas(quotas...))
	tok := s.IssueToken(time.Hour)
	ws := s.tenant.Workspaces[0].ID
	started := call(t, s, tok, "POST", "/admin/workspaces/getInfo", map[string][]string{"workspaces": {ws}})
	var sc struct{ ID string }
	_ = json.Unmarshal(started.body, &sc)
	paths := map[string][2]string{
		"GET /admin/groups":                     {"GET", "/admin/groups?$top=10"},
		"POST /admin/workspaces/getInfo":        {"POST", "/admin/workspaces/getInfo"},
		"GET /admin/workspaces/scanStatus/{id}": {"GET", "/admin/workspaces/scanStatus/" + sc.ID},
		"GET /admin/workspaces/scanResult/{id}": {"GET", "/admin/workspaces/scanResult/" + sc.ID},
		"GET /admin/workspaces/modified":        {"GET", "/admin/workspaces/modified"},
	}
	done := map[string]int{"POST /admin/workspaces/getInfo": 1}
	for _, endpoint := range []string{"GET /admin/groups", "GET /admin/workspaces/modified", "GET /admin/workspaces/scanStatus/{id}",
		"GET /admin/workspaces/scanResult/{id}", "POST /admin/workspaces/getInfo"} {
		mp := paths[endpoint]
		var body any
		if mp[0] == "POST" {
			body = map[string][]string{"workspaces": {ws}}
		}
		for i := done[endpoint]; i < 2; i++ {
			if a := call(t, s, tok, mp[0], mp[1], body); a.status == http.StatusTooManyRequests {
				t.Fatalf("%s: throttled at request %d of 2", endpoint, i+1)
			}
		}
		a := call(t, s, tok, mp[0], mp[1], body)
		ra, _ := strconv.Atoi(a.header.Get("Retry-After"))
		if a.status != http.StatusTooManyRequests || ra < 3500 || ra > 3601 || !strings.Contains(string(a.body), `"message"`) {
			t.Errorf("%s past its limit: %d, Retry-After %q, %s", endpoint, a.status, a.header.Get("Retry-After"), a.body)
		}
	}
	if a := call(t, s, tok, "GET", "/groups", nil); a.status != http.StatusOK {
		t.Errorf("an unlimited endpoint answered %d", a.status)
	}
	if th := s.Throttled(); len(th) != 5 {
		t.Errorf("throttled: %v", th)
	}
}

// TestModifiedAnswersChanges: the modified endpoint names exactly the workspaces changed
// since modifiedSince; deleted ones are gone from every listing; added ones appear.
func TestModifiedAnswersChanges(t *testing.T) {
	tenant := Generate(2, SmallSize())
	s, err := NewServer(tenant)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok := s.IssueToken(time.Hour)
	since := time.Now().Add(-31 * time.Minute).UTC().Format(time.RFC3339)
	modified := func() []string {
		a := call(t, s, tok, "GET", "/admin/workspaces/modified?modifiedSince="+since+"&excludePersonalWorkspaces=true&excludeInActiveWorkspaces=true", nil)
		var out []struct{ ID string }
		if err := json.Unmarshal(a.body, &out); err != nil || a.status != 200 {
			t.Fatalf("modified: %d %s", a.status, a.body)
		}
		var ids []string
		for _, w := range out {
			ids = append(ids, w.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if got := modified(); len(got) != 0 {
		t.Fatalf("nothing changed, modified says %v", got)
	}
	resp, err := http.Post(strings.TrimSuffix(s.URL(), APIPrefix)+"/emulator/change?modify=3&delete=1&add=1&rename=1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ch Change
	_ = json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	if len(ch.Modified) != 3 || len(ch.Deleted) != 1 || len(ch.Added) != 1 || len(ch.Renamed) != 1 {
		t.Fatalf("change: %+v", ch)
	}
	// rename=1 renames the first workspace's first model; modify=3 modified it too.
	want := append(slices.Clone(ch.Modified), ch.Added...)
	if !slices.Contains(want, ch.Renamed[0]) {
		want = append(want, ch.Renamed[0])
	}
	slices.Sort(want)
	s.Tenant(func(tn *snapshot.Snapshot) {
		for _, w := range tn.Workspaces {
			if w.ID == ch.Renamed[0] && !strings.Contains(w.SemanticModels[0].Name, " r") {
				t.Errorf("rename left the model's name %q", w.SemanticModels[0].Name)
			}
		}
	})
	if got := modified(); !slices.Equal(got, want) {
		t.Errorf("modified says %v, want %v", got, want)
	}
	a := call(t, s, tok, "GET", "/admin/groups?$top=100", nil)
	if strings.Contains(string(a.body), ch.Deleted[0]) || !strings.Contains(string(a.body), ch.Added[0]) {
		t.Errorf("the listing after the change: %s", a.body)
	}
	s.Age(time.Hour)
	if got := modified(); len(got) != 0 {
		t.Errorf("an hour later, modified since 31 minutes ago says %v", got)
	}
}

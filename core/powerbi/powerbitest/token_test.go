package powerbitest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestStaticAPIToken(t *testing.T) {
	s := start(t, WithAPIToken("my-static-token"))
	if got := s.APIToken(); got != "my-static-token" {
		t.Fatalf("APIToken() = %q", got)
	}
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"static token", "my-static-token", http.StatusOK},
		{"unknown token", "not-the-token", http.StatusUnauthorized},
		{"no token", "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if a := call(t, s, c.token, "GET", "/groups", nil); a.status != c.status {
				t.Fatalf("GET /groups with %s: status %d, want %d: %s", c.name, a.status, c.status, a.body)
			}
		})
	}
	// Expiring issued tokens leaves the static one valid.
	s.ExpireTokens()
	if a := call(t, s, "my-static-token", "GET", "/groups", nil); a.status != http.StatusOK {
		t.Fatalf("static token after ExpireTokens: status %d", a.status)
	}
}

func TestStaticAPITokenDefaultIsRandom(t *testing.T) {
	a, b := start(t), start(t, WithAPIToken(""))
	if a.APIToken() == "" || b.APIToken() == "" || a.APIToken() == b.APIToken() {
		t.Fatalf("default static tokens %q and %q: want two different non-empty tokens", a.APIToken(), b.APIToken())
	}
}

func TestFailedRefreshes(t *testing.T) {
	tenant := SampleTenant()
	ws := tenant.Workspaces[0]
	ds := ws.SemanticModels[0].ID
	s := start(t, WithFailedRefreshes(ds))
	tok := s.APIToken()
	if a := call(t, s, tok, "POST", "/groups/"+ws.ID+"/datasets/"+ds+"/refreshes", map[string]any{"notifyOption": "NoNotification"}); a.status != http.StatusAccepted {
		t.Fatalf("trigger: status %d: %s", a.status, a.body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := call(t, s, tok, "GET", "/groups/"+ws.ID+"/datasets/"+ds+"/refreshes", nil)
		var doc struct {
			Value []jRefresh `json:"value"`
		}
		if err := json.Unmarshal(a.body, &doc); err != nil || len(doc.Value) == 0 {
			t.Fatalf("history: %v: %s", err, a.body)
		}
		if st := doc.Value[0].Status; st != "Unknown" {
			if st != "Failed" || doc.Value[0].ServiceExceptionJSON != FailedRefreshException {
				t.Fatalf("refresh ended %s with %q, want Failed with FailedRefreshException", st, doc.Value[0].ServiceExceptionJSON)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("refresh did not end")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package serve_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestEstateUI: serve's sync fills the estate, which the UI's read-only API then serves
// (search, impact, refreshes); the UI is there; mutating routes still need the token.
func TestEstateUI(t *testing.T) {
	f := newFixture(t)
	base, _ := f.start(t, true)
	var est struct {
		Generation int64
		Counts     map[string]int
	}
	waitFor(t, "the first sync's estate", func() bool {
		get(t, base+"/api/estate", &est)
		return est.Generation > 0
	})
	if est.Counts["semantic_model"] == 0 || est.Counts["table"] == 0 {
		t.Fatalf("estate after the first sync: %+v", est.Counts)
	}
	var hits struct{ Hits []struct{ Name string } }
	get(t, base+"/api/search?q=inventory", &hits)
	if len(hits.Hits) == 0 {
		t.Error("search for inventory found nothing")
	}
	var imp struct{ Impacted []struct{ Type string } }
	get(t, base+"/api/impact?name=inventory/public/stock_levels", &imp)
	if len(imp.Impacted) == 0 {
		t.Error("nothing downstream of inventory.public.stock_levels")
	}
	if page := get(t, base+"/", nil); !strings.Contains(page, "pbisync estate") {
		t.Errorf("UI page: %.200s", page)
	}
	if code, _ := post(t, base+"/v1/sync", "", ""); code != http.StatusUnauthorized {
		t.Errorf("POST /v1/sync without the token: %d", code)
	}
	if code, _ := post(t, base+"/api/estate", token, ""); code != http.StatusMethodNotAllowed {
		t.Errorf("POST to the read-only API: %d", code)
	}
}

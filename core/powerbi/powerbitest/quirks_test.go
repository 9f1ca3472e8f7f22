package powerbitest

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/snapshot"
)

func TestParseQuirks(t *testing.T) {
	tests := []struct {
		in      []string
		want    Quirks
		wantErr bool
	}{
		{in: []string{"rdl-pages-400", "status-casing=upper"}, want: Quirks{RDLPages400: true, StatusCasing: "upper"}},
		{in: []string{"page-size=1000", "next-link", "odd-field-types"}, want: Quirks{PageSize: 1000, NextLink: true, OddFieldTypes: true}},
		{in: []string{"service-exception-object", "odd-history-entry", "clock-skew=-5m"},
			want: Quirks{ServiceExceptionObject: true, OddHistoryEntry: true, ClockSkew: -5 * time.Minute}},
		{in: []string{"not-found=pages", "not-found=tiles", "malformed-workspace=w1", "omit-from-scan=w2"},
			want: Quirks{NotFound: []string{"pages", "tiles"}, MalformedWorkspaces: []string{"w1"}, OmitFromScan: []string{"w2"}}},
		{in: []string{"status-casing=title"}, wantErr: true},
		{in: []string{"page-size=0"}, wantErr: true},
		{in: []string{"not-found=reports"}, wantErr: true},
		{in: []string{"malformed-workspace"}, wantErr: true},
		{in: []string{"clock-skew=soon"}, wantErr: true},
		{in: []string{"bogus"}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseQuirks(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseQuirks(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

// The quirks change the answers as QUIRKS.md says.
func TestQuirkAnswers(t *testing.T) {
	s := start(t)
	tok := s.IssueToken(time.Hour)
	s.SetQuirks(Quirks{PageSize: 2, NextLink: true, StatusCasing: "upper", RDLPages400: true, OddFieldTypes: true})
	a := call(t, s, tok, "GET", "/admin/groups?$top=5000", nil)
	var page struct {
		Value []struct{ Type, State string }
		Next  string `json:"@odata.nextLink"`
	}
	json.Unmarshal(a.body, &page)
	if len(page.Value) != 2 || page.Value[0].Type != "WORKSPACE" || page.Value[0].State != "ACTIVE" {
		t.Errorf("page %+v", page)
	}
	if u, err := url.Parse(page.Next); err != nil || u.Query().Get("$skip") != "2" {
		t.Errorf("next link %q", page.Next)
	}
	var fin, invoice, sales, overview string
	s.Tenant(func(tn *snapshot.Snapshot) {
		for _, w := range tn.Workspaces {
			for _, r := range w.Reports {
				switch r.Name {
				case "Invoice Register":
					fin, invoice = w.ID, r.ID
				case "Sales Overview":
					sales, overview = w.ID, r.ID
				}
			}
		}
	})
	if a := call(t, s, tok, "GET", "/groups/"+fin+"/reports/"+invoice+"/pages", nil); a.status != 400 || !json.Valid(a.body) {
		t.Errorf("RDL pages: %d %s", a.status, a.body)
	}
	a = call(t, s, tok, "GET", "/groups/"+sales+"/reports/"+overview+"/pages", nil)
	var pages struct{ Value []struct{ Order any } }
	json.Unmarshal(a.body, &pages)
	if len(pages.Value) == 0 {
		t.Fatalf("pages: %s", a.body)
	}
	if _, ok := pages.Value[0].Order.(string); !ok {
		t.Errorf("order %v, want a string", pages.Value[0].Order)
	}
}

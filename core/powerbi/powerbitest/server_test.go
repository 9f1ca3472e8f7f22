package powerbitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, opts ...Option) *Server {
	t.Helper()
	s, err := NewServer(SampleTenant(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, s *Server, token, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, data}
}

// exampleBody reads the documented response body of an msdocs example.
func exampleBody(t *testing.T, file string) any {
	t.Helper()
	data, err := os.ReadFile("testdata/msdocs/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples map[string]struct {
			Responses map[string]map[string]any `json:"responses"`
		} `json:"examples"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ex := range doc.Examples {
		for _, r := range ex.Responses {
			if b, ok := r["body"]; ok {
				return b
			}
			return r // groups.json has no "body" level
		}
	}
	t.Fatalf("%s: no example body", file)
	return nil
}

func firstItem(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		if l, ok := x["value"].([]any); ok && len(l) > 0 {
			return l[0].(map[string]any)
		}
		return x
	case []any:
		if len(x) > 0 {
			return x[0].(map[string]any)
		}
	}
	return nil
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestShapesMatchMSDocs checks that the emulator answers with the keys Microsoft's
// examples show (keys an item only has in some tenants are listed as optional).
func TestShapesMatchMSDocs(t *testing.T) {
	s := start(t)
	tok := s.IssueToken(time.Hour)
	tenant := SampleTenant()
	ws := tenant.Workspaces[0]
	g := "/groups/" + ws.ID
	optional := map[string]bool{"capacityId": true, "defaultDatasetStorageFormat": true, "dataflowStorageId": true,
		"description": true, "datasetWorkspaceId": true, "datamarts": true, "relationships": true, "roles": true,
		"misconfiguredDatasourceUsages": true, "upstreamDataflows": true, "modifiedBy": true, "createdDateTime": true,
		"modifiedDateTime": true, "endorsementDetails": true, "sensitivityLabel": true, "users": true, "expressions": true, "gatewayId": true}
	scan := call(t, s, tok, "POST", "/admin/workspaces/getInfo?lineage=true", map[string]any{"workspaces": []string{ws.ID}})
	var started map[string]any
	json.Unmarshal(scan.body, &started)
	scanID, _ := started["id"].(string)
	call(t, s, tok, "GET", "/admin/workspaces/scanStatus/"+scanID, nil)
	tests := []struct {
		file, method, path string
		status             int
	}{
		{"groups.json", "GET", "/groups", 200},
		{"datasets.json", "GET", g + "/datasets", 200},
		{"datasources.json", "GET", g + "/datasets/" + ws.SemanticModels[0].ID + "/datasources", 200},
		{"reports.json", "GET", g + "/reports", 200},
		{"pages.json", "GET", g + "/reports/" + ws.Reports[0].ID + "/pages", 200},
		{"dashboards.json", "GET", g + "/dashboards", 200},
		{"tiles.json", "GET", g + "/dashboards/" + ws.Dashboards[0].ID + "/tiles", 200},
		{"scanStatus.json", "GET", "/admin/workspaces/scanStatus/" + scanID, 200},
		{"scanResult.json", "GET", "/admin/workspaces/scanResult/" + scanID, 200},
		{"modified.json", "GET", "/admin/workspaces/modified", 200},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			a := call(t, s, tok, tt.method, tt.path, nil)
			if a.status != tt.status {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if a.header.Get("RequestId") == "" {
				t.Error("no RequestId header")
			}
			var got any
			if err := json.Unmarshal(a.body, &got); err != nil {
				t.Fatal(err)
			}
			want := exampleBody(t, tt.file)
			if _, isList := want.([]any); isList {
				if _, ok := got.([]any); !ok {
					t.Fatalf("want a bare array as the example, got %s", a.body)
				}
			}
			if m, ok := got.(map[string]any); ok {
				if _, hasValue := m["value"]; hasValue && m["@odata.context"] == nil {
					t.Error("collection without @odata.context")
				}
			}
			gotItem, wantItem := firstItem(got), firstItem(want)
			if tt.file == "scanResult.json" {
				gotItem = got.(map[string]any)["workspaces"].([]any)[0].(map[string]any)
				wantItem = want.(map[string]any)["workspaces"].([]any)[0].(map[string]any)
			}
			for _, k := range keys(wantItem) {
				if _, ok := gotItem[k]; !ok && !optional[k] {
					t.Errorf("key %q of the example is missing; got keys %v", k, keys(gotItem))
				}
			}
		})
	}
}

func TestAuthAndErrors(t *testing.T) {
	s := start(t)
	good := s.IssueToken(time.Hour)
	expired := s.IssueToken(-time.Second)
	tests := []struct {
		name, token, method, path string
		status                    int
		code                      string
	}{
		{"no token", "", "GET", "/groups", 401, "PowerBINotAuthorizedException"},
		{"unknown token", "nope", "GET", "/groups", 401, "PowerBINotAuthorizedException"},
		{"expired token", expired, "GET", "/groups", 403, "TokenExpired"},
		{"admin groups needs $top", good, "GET", "/admin/groups", 400, "InvalidRequest"},
		{"admin groups $top too big", good, "GET", "/admin/groups?$top=5001", 400, "InvalidRequest"},
		{"unknown workspace", good, "GET", "/groups/nope/datasets", 404, "PowerBIEntityNotFound"},
		{"unknown scan", good, "GET", "/admin/workspaces/scanStatus/nope", 404, "PowerBIEntityNotFound"},
		{"modifiedSince too old", good, "GET", "/admin/workspaces/modified?modifiedSince=2020-01-01T00:00:00Z", 400, "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, tt.token, tt.method, tt.path, nil)
			var env struct {
				Error struct{ Code string } `json:"error"`
			}
			json.Unmarshal(a.body, &env)
			if a.status != tt.status || env.Error.Code != tt.code {
				t.Errorf("got %d %s, want %d %s", a.status, a.body, tt.status, tt.code)
			}
		})
	}
}

func TestAdminGroupsPaging(t *testing.T) {
	s := start(t)
	tok := s.IssueToken(time.Hour)
	var ids []string
	for skip := 0; ; skip += 3 {
		a := call(t, s, tok, "GET", "/admin/groups?$top=3&$skip="+url.QueryEscape(string(rune('0'+skip))), nil)
		var body struct{ Value []struct{ ID, State string } }
		json.Unmarshal(a.body, &body)
		for _, v := range body.Value {
			ids = append(ids, v.ID)
			if v.State != "Active" {
				t.Errorf("admin groups carry state, got %q", v.State)
			}
		}
		if len(body.Value) < 3 {
			break
		}
	}
	if len(ids) != 7 {
		t.Errorf("paged %d workspaces, want 7", len(ids))
	}
}

func TestScanStateMachine(t *testing.T) {
	s := start(t, WithScanPolls(3))
	tok := s.IssueToken(time.Hour)
	ws := SampleTenant().Workspaces[0].ID
	if a := call(t, s, tok, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{}}); a.status != 400 {
		t.Errorf("empty getInfo: %d", a.status)
	}
	a := call(t, s, tok, "POST", "/admin/workspaces/getInfo", map[string]any{"workspaces": []string{ws}})
	var st struct{ ID, Status string }
	json.Unmarshal(a.body, &st)
	if a.status != 202 || st.Status != "NotStarted" || a.header.Get("Location") == "" {
		t.Fatalf("getInfo: %d %s", a.status, a.body)
	}
	if r := call(t, s, tok, "GET", "/admin/workspaces/scanResult/"+st.ID, nil); r.status != 400 {
		t.Errorf("result before Succeeded: %d", r.status)
	}
	var seen []string
	for range 4 {
		r := call(t, s, tok, "GET", "/admin/workspaces/scanStatus/"+st.ID, nil)
		var p struct{ Status string }
		json.Unmarshal(r.body, &p)
		seen = append(seen, p.Status)
	}
	if want := []string{"Running", "Running", "Succeeded", "Succeeded"}; !slices.Equal(seen, want) {
		t.Errorf("statuses %v, want %v", seen, want)
	}
	if r := call(t, s, tok, "GET", "/admin/workspaces/scanResult/"+st.ID, nil); r.status != 200 || !bytes.Contains(r.body, []byte(`"datasourceInstances"`)) {
		t.Errorf("result: %d %s", r.status, r.body)
	}
}

func TestThrottleBody(t *testing.T) {
	s := start(t, WithFaults(Fault{Endpoint: "GET /groups", Kind: Throttle, Count: 1, RetryAfter: 1500 * time.Millisecond}))
	tok := s.IssueToken(time.Hour)
	a := call(t, s, tok, "GET", "/groups", nil)
	if a.status != 429 || a.header.Get("Retry-After") != "2" || !bytes.HasPrefix(a.body, []byte(`{"message":"You have exceeded`)) {
		t.Errorf("got %d %v %s", a.status, a.header, a.body)
	}
	if a := call(t, s, tok, "GET", "/groups", nil); a.status != 200 {
		t.Errorf("after the fault: %d", a.status)
	}
}

func TestHandleExtends(t *testing.T) {
	s := start(t)
	s.Handle("POST /groups/{group}/datasets/{dataset}/takeover", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", s.URL()+"/groups/"+r.PathValue("group")+"/datasets/"+r.PathValue("dataset")+"/takeover/x")
		w.WriteHeader(http.StatusAccepted)
	})
	if a := call(t, s, "", "POST", "/groups/g/datasets/d/takeover", nil); a.status != 401 {
		t.Errorf("extension handler without token: %d", a.status)
	}
	a := call(t, s, s.IssueToken(time.Hour), "POST", "/groups/g/datasets/d/takeover", nil)
	if a.status != 202 || !strings.HasSuffix(a.header.Get("Location"), "/takeover/x") {
		t.Errorf("got %d %v", a.status, a.header)
	}
	if n := s.Requests()["POST /groups/{id}/datasets/{id}/takeover"]; n != 2 {
		t.Errorf("count %d", n)
	}
}

func TestAuthority(t *testing.T) {
	s := start(t)
	cl := s.TLSClient()
	cr := s.Credentials()
	token := func(form url.Values) (int, map[string]any) {
		resp, err := cl.PostForm(s.AuthorityURL()+"/"+s.TenantID+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	base := func() url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.ClientID}, "scope": {powerBIScope}}
	}
	f := base()
	f.Set("client_secret", cr.ClientSecret)
	if st, out := token(f); st != 200 || out["access_token"] == "" || out["token_type"] != "Bearer" {
		t.Errorf("secret: %d %v", st, out)
	}
	f.Set("client_secret", "wrong")
	if st, out := token(f); st != 401 || !strings.HasPrefix(out["error_description"].(string), "AADSTS7000215") {
		t.Errorf("wrong secret: %d %v", st, out)
	}
	f = base()
	f.Set("client_id", "someone-else")
	f.Set("client_secret", cr.ClientSecret)
	if st, _ := token(f); st != 400 {
		t.Errorf("unknown client: %d", st)
	}
	f = base()
	f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	f.Set("client_assertion", "eyJhbGciOiJQUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln")
	if st, out := token(f); st != 401 || out["error"] != "invalid_client" {
		t.Errorf("forged assertion: %d %v", st, out)
	}
	resp, err := cl.Get(s.AuthorityURL() + "/" + s.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var oc map[string]any
	json.NewDecoder(resp.Body).Decode(&oc)
	resp.Body.Close()
	if oc["issuer"] != s.AuthorityURL()+"/"+s.TenantID+"/v2.0" {
		t.Errorf("issuer %v", oc["issuer"])
	}
}

func TestParseFault(t *testing.T) {
	tests := []struct {
		in      string
		want    Fault
		wantErr bool
	}{
		{in: "throttle:3@GET /groups,retry-after=2s", want: Fault{Kind: Throttle, Count: 3, Endpoint: "GET /groups", RetryAfter: 2 * time.Second}},
		{in: "drop:1", want: Fault{Kind: Drop, Count: 1}},
		{in: "error,status=503", want: Fault{Kind: ServerError, Status: 503}},
		{in: "redirect:1@GET /admin/groups", want: Fault{Kind: Redirect, Count: 1, Endpoint: "GET /admin/groups"}},
		{in: "explode", wantErr: true},
		{in: "error,status=200", wantErr: true},
		{in: "throttle:x", wantErr: true},
		{in: "throttle,bogus=1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && got != tt.want) {
			t.Errorf("ParseFault(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	if _, err := NewServer(nil, WithAddr("0.0.0.0:0")); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("want a loopback error, got %v", err)
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"throttle:3@GET /groups,retry-after=2s", "drop:1", "error,status=503", "redirect", "truncate:1", ":@,=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		fault, err := ParseFault(v)
		if err == nil && fault.Kind != Throttle && fault.Kind != ServerError && fault.Kind != Drop && fault.Kind != Redirect && fault.Kind != Truncate {
			t.Fatalf("accepted kind %q", fault.Kind)
		}
	})
}

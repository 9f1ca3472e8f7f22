package powerbi

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDecodeError feeds error bodies and Retry-After values to the parsers Do uses.
func FuzzDecodeError(f *testing.F) {
	f.Add([]byte(`{"error":{"code":"TokenExpired","message":"Access token has expired"}}`), "5")
	f.Add([]byte(`{"message":"You have exceeded the amount of requests allowed. Retry in 3600 seconds."}`), "3600")
	f.Add([]byte(`{"error":{"code":"","pbi.error":{"code":"PowerBIEntityNotFound"}}}`), "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add([]byte(`<html>bad gateway</html>`), "-1")
	f.Fuzz(func(t *testing.T, body []byte, retry string) {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {retry}}, Body: io.NopCloser(bytes.NewReader(body))}
		e := decodeError(resp, "GET /groups")
		if !strings.HasPrefix(e.Error(), "GET /groups: 429") {
			t.Fatalf("error does not name the endpoint: %q", e.Error())
		}
		if d := retryAfter(retry, 1); d < 0 {
			t.Fatalf("negative wait %s for %q", d, retry)
		}
	})
}

func TestEndpointTemplate(t *testing.T) {
	tests := map[string]string{
		"groups?$top=10":                        "GET /groups",
		"groups/abc/datasets":                   "GET /groups/{id}/datasets",
		"groups/abc/datasets/def/datasources":   "GET /groups/{id}/datasets/{id}/datasources",
		"groups/a/datasets/b/refreshes/c":       "GET /groups/{id}/datasets/{id}/refreshes/{id}",
		"admin/groups?$top=5000&$skip=0":        "GET /admin/groups",
		"admin/workspaces/scanStatus/x":         "GET /admin/workspaces/scanStatus/{id}",
		"admin/workspaces/getInfo?lineage=true": "GET /admin/workspaces/getInfo",
		"/groups/a/reports/b/pages":             "GET /groups/{id}/reports/{id}/pages",
	}
	for in, want := range tests {
		if got := EndpointTemplate("GET", in); got != want {
			t.Errorf("EndpointTemplate(%q) = %q, want %q", in, got, want)
		}
	}
}

package powerbitest_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// The emulator serves the sample tenant on loopback; a token from IssueToken (or from
// its authority) opens the API.
func ExampleNewServer() {
	srv, err := powerbitest.NewServer(powerbitest.SampleTenant())
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL()+"/admin/groups?$top=100", nil)
	req.Header.Set("Authorization", "Bearer "+srv.IssueToken(time.Hour))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status, srv.Requests()["GET /admin/groups"])
	// Output: 200 OK 1
}

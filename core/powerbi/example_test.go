package powerbi_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// Reading the in-process emulator's sample tenant with a service principal, the way the
// engine runs `emulator: {tenant: sample}`.
func ExampleClient_Snapshots() {
	srv, err := powerbitest.NewServer(powerbitest.SampleTenant())
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	cr := srv.Credentials()
	cfg := powerbi.Config{
		APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID,
		Credentials: powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)},
	}
	cfg.Scanner.PollInterval = 20 * time.Millisecond
	c, err := powerbi.New(cfg, powerbi.WithRootCAs(srv.RootCAs()))
	if err != nil {
		panic(err)
	}
	models := 0
	st, err := c.Snapshots(context.Background(), func(s *snapshot.Snapshot) error {
		for _, w := range s.Workspaces {
			models += len(w.SemanticModels)
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Path, st.Workspaces, "workspaces,", models, "semantic models")
	// Output: scanner 6 workspaces, 7 semantic models
}

package powerbi_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

func TestDecodeConfig(t *testing.T) {
	dir := t.TempDir()
	certFile := filepath.Join(dir, "sp.pem")
	os.WriteFile(certFile, []byte("x"), 0o600)
	t.Setenv("PBI_SECRET", "s3cr3t-value")
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, c powerbi.Config)
	}{
		{
			name: "defaults with a secret from the environment",
			yaml: "tenant_id: t\ncredentials:\n  client_id: c\n  client_secret: ${env:PBI_SECRET}\n",
			check: func(t *testing.T, c powerbi.Config) {
				if c.APIURL != powerbi.DefaultAPIURL || c.AuthorityHost != powerbi.DefaultAuthorityHost || c.Workspaces.Discover != "admin" ||
					c.Scanner.BatchSize != 0 || c.Scanner.BatchFor(1000) != 50 || c.Scanner.BatchFor(12500) != 50 || c.Scanner.BatchFor(12501) != 100 ||
					c.Scanner.ParallelScans != 16 || !c.ScannerEnabled() || !c.FallbackEnabled() ||
					len(c.Workspaces.Types) != 1 || c.Workspaces.Types[0] != "Workspace" {
					t.Errorf("defaults: %+v", c)
				}
				if c.Credentials.ClientSecret.Reveal() != "s3cr3t-value" {
					t.Error("secret not read")
				}
			},
		},
		{
			name: "scanner off discovers groups",
			yaml: "credentials: {token: abc}\nscanner: {enabled: false}\n",
			check: func(t *testing.T, c powerbi.Config) {
				if c.Workspaces.Discover != "groups" {
					t.Errorf("discover %q", c.Workspaces.Discover)
				}
			},
		},
		{
			name: "certificate file",
			yaml: "tenant_id: t\ncredentials: {client_id: c, certificate_file: " + certFile + "}\nscanner: {poll_interval: 5s, timeout: 10m}\nretry: {max_attempts: 3, max_wait: 2m}\n",
			check: func(t *testing.T, c powerbi.Config) {
				if c.Scanner.PollInterval != 5*time.Second || c.Retry.MaxWait != 2*time.Minute {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			name: "a batch size set",
			yaml: "credentials: {token: a}\nscanner:\n  batch_size: 100\n",
			check: func(t *testing.T, c powerbi.Config) {
				if c.Scanner.BatchFor(10) != 100 || c.Scanner.BatchFor(50000) != 100 {
					t.Errorf("batch_size 100 scans %d and %d at a time", c.Scanner.BatchFor(10), c.Scanner.BatchFor(50000))
				}
			},
		},
		{name: "batch too big", yaml: "credentials: {token: a}\nscanner:\n  batch_size: 101\n", wantErr: "test.yaml:3:15: scanner.batch_size must be 1..100"},
		{name: "too many scans", yaml: "credentials: {token: a}\nscanner:\n  parallel_scans: 17\n", wantErr: "test.yaml:3:19: scanner.parallel_scans must be 1..16"},
		{name: "no credentials", yaml: "tenant_id: t\n", wantErr: "credentials: give token"},
		{name: "http authority with MSAL", yaml: "tenant_id: t\nauthority_host: http://127.0.0.1:8400\ncredentials: {client_id: c, client_secret: s}\n",
			wantErr: "test.yaml:2:17: authority_host \"http://127.0.0.1:8400\" is http, and MSAL only signs in against an https authority; serve a private or test authority over TLS and trust its certificate with ca_file"},
		{name: "http authority with a token is unused", yaml: "authority_host: http://127.0.0.1:8400\ncredentials: {token: a}\n",
			check: func(t *testing.T, c powerbi.Config) {}},
		{name: "two credentials", yaml: "tenant_id: t\ncredentials: {client_id: c, client_secret: x, certificate_pem: y}\n", wantErr: "test.yaml:2:14: credentials: with client_id give exactly one"},
		{name: "token and client", yaml: "credentials: {token: a, client_id: c}\n", wantErr: "not both"},
		{name: "tenant missing", yaml: "credentials: {client_id: c, client_secret: x}\n", wantErr: "tenant_id is required"},
		{name: "bad regex", yaml: "credentials: {token: a}\nworkspaces: {include_names: ['(']}\n", wantErr: "test.yaml:2:13: workspaces.include_names: \"(\" is not a valid regular expression"},
		{name: "bad discover", yaml: "credentials: {token: a}\nworkspaces: {discover: all}\n", wantErr: "test.yaml:2:24: workspaces.discover must be admin, groups or none"},
		{name: "discover none needs ids", yaml: "credentials: {token: a}\nworkspaces: {discover: none}\n", wantErr: "needs workspaces.ids"},
		{name: "unknown key", yaml: "credentials: {token: a}\napi_urll: x\n", wantErr: "test.yaml:2:1: unknown key \"api_urll\""},
		{name: "bad url", yaml: "credentials: {token: a}\napi_url: ftp://x\n", wantErr: "test.yaml:2:10: api_url must be an http(s) URL"},
		{name: "missing cert file", yaml: "tenant_id: t\ncredentials: {client_id: c, certificate_file: /nope.pem}\n", wantErr: "certificate_file:"},
		{name: "missing ca file", yaml: "credentials: {token: a}\nca_file: /nope.pem\n", wantErr: "test.yaml:2:10: ca_file:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := config.Parse("test.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			c, err := powerbi.DecodeConfig(n)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t-value") {
					t.Errorf("secret in error: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// TestCAFile reaches an emulator whose API and authority use TLS, trusting it only
// through ca_file, the way a pipeline points at `pbisync emulate`.
func TestCAFile(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithAPITLS(true))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, srv.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(srv, withCert)
	cfg.CAFile = caFile
	c, err := powerbi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := collect(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Workspaces) != 6 { // the sample's personal workspace is not synced by default
		t.Errorf("workspaces %d", len(s.Workspaces))
	}
	cfg.CAFile = ""
	c, err = powerbi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := collect(t, c); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without ca_file, want a certificate error, got %v", err)
	}
}

func TestWorkspaceFilters(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant())
	tests := []struct {
		name string
		set  func(*powerbi.WorkspaceConfig)
		want []string
	}{
		{"include names", func(w *powerbi.WorkspaceConfig) { w.IncludeNames = []string{"^(Sales|Fin)"} }, []string{"Sales Analytics", "Finance", "Sales App Publishing"}},
		{"exclude names", func(w *powerbi.WorkspaceConfig) { w.ExcludeNames = []string{"^Sales"} }, []string{"Finance", "Operations", "Marketing", "Archive"}},
		{"types", func(w *powerbi.WorkspaceConfig) { w.Types = []string{"PersonalGroup"} }, []string{"PersonalWorkspace Ana Lima"}},
		{"ids with discovery", func(w *powerbi.WorkspaceConfig) {
			w.IDs = []string{powerbitest.SampleTenant().Workspaces[2].ID}
		}, []string{"Operations"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(srv, withToken)
			tt.set(&cfg.Workspaces)
			s, _, err := collect(t, newClient(t, srv, cfg, nil))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range s.Workspaces {
				got = append(got, w.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

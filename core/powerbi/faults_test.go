package powerbi_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// emptyTenant has n workspaces with one report each.
func emptyTenant(n int) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Version: snapshot.Version}
	for i := range n {
		s.Workspaces = append(s.Workspaces, snapshot.Workspace{
			ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: fmt.Sprintf("WS %03d", i), Type: "Workspace", State: "Active",
			Reports: []snapshot.Report{{ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i), Name: "R"}},
		})
	}
	return s
}

func TestFaults(t *testing.T) {
	sample := powerbitest.SampleTenant()
	salesID := sample.Workspaces[0].ID
	tests := []struct {
		name   string
		opts   []powerbitest.Option
		faults []powerbitest.Fault
		cfg    func(*powerbi.Config)
		during func(srv *powerbitest.Server, batch int) // called as each batch is emitted
		// wantErr is a substring of the error; "" means success.
		wantErr  string
		wantLog  string
		check    func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats)
		wantPath string
	}{
		{
			name:   "throttled with Retry-After",
			faults: []powerbitest.Fault{{Endpoint: "POST /admin/workspaces/getInfo", Kind: powerbitest.Throttle, Count: 2, RetryAfter: time.Second}},
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if n := c.Requests()["POST /admin/workspaces/getInfo"]; n != 3 {
					t.Errorf("getInfo requests = %d, want 3 (2 throttled)", n)
				}
			},
			wantLog:  "throttled",
			wantPath: "scanner",
		},
		{
			name:   "long Retry-After outlives the token",
			opts:   []powerbitest.Option{powerbitest.WithTokenLifetime(1 * time.Second)},
			faults: []powerbitest.Fault{{Endpoint: "GET /admin/groups", Kind: powerbitest.Throttle, Count: 1, RetryAfter: 2 * time.Second}},
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if n := srv.Requests()["POST /{tenant}/oauth2/v2.0/token"]; n < 2 {
					t.Errorf("token requests = %d, want a renewal after the wait", n)
				}
			},
			wantPath: "scanner",
		},
		{
			name:     "server errors are retried",
			faults:   []powerbitest.Fault{{Endpoint: "GET /admin/workspaces/scanStatus/{id}", Kind: powerbitest.ServerError, Count: 2, Status: 503}},
			wantPath: "scanner",
		},
		{
			name:     "dropped connections are retried",
			faults:   []powerbitest.Fault{{Endpoint: "GET /admin/workspaces/scanResult/{id}", Kind: powerbitest.Drop, Count: 2}},
			wantPath: "scanner",
		},
		{
			name:     "answers broken off mid-body are repeated",
			faults:   []powerbitest.Fault{{Endpoint: "GET /admin/workspaces/scanResult/{id}", Kind: powerbitest.Truncate, Count: 2}, {Endpoint: "GET /admin/groups", Kind: powerbitest.Truncate, Count: 1}},
			wantPath: "scanner",
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if n := c.Requests()["GET /admin/workspaces/scanResult/{id}"]; n != 3 {
					t.Errorf("scanResult requests = %d, want 3", n)
				}
			},
		},
		{
			name:     "307 redirect is followed with the token",
			faults:   []powerbitest.Fault{{Endpoint: "GET /admin/groups", Kind: powerbitest.Redirect, Count: 1}},
			wantPath: "scanner",
		},
		{
			name:    "giving up after max attempts",
			faults:  []powerbitest.Fault{{Endpoint: "GET /admin/groups", Kind: powerbitest.ServerError}},
			cfg:     func(c *powerbi.Config) { c.Retry.MaxAttempts = 2 },
			wantErr: "giving up after 2 attempts: GET /admin/groups: 500",
		},
		{
			name:    "Retry-After longer than max_wait",
			faults:  []powerbitest.Fault{{Endpoint: "GET /admin/groups", Kind: powerbitest.Throttle, RetryAfter: 3 * time.Second}},
			cfg:     func(c *powerbi.Config) { c.Retry.MaxWait = time.Second },
			wantErr: "longer than retry.max_wait",
		},
		{
			name: "slow scan",
			opts: []powerbitest.Option{powerbitest.WithScanPolls(6)},
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if n := srv.Requests()["GET /admin/workspaces/scanStatus/{id}"]; n != 6 {
					t.Errorf("scanStatus polls = %d, want 6", n)
				}
			},
			wantPath: "scanner",
		},
		{
			name:    "failed scan names its workspaces",
			opts:    []powerbitest.Option{powerbitest.WithFailedScans(salesID)},
			wantErr: `failed: ScanFailed`,
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
			},
		},
		{
			name:    "scan timeout",
			opts:    []powerbitest.Option{powerbitest.WithScanPolls(1 << 20)},
			cfg:     func(c *powerbi.Config) { c.Scanner.Timeout = 100 * time.Millisecond },
			wantErr: "did not finish within scanner.timeout 100ms",
		},
		{
			name: "token expires mid-sync",
			cfg:  func(c *powerbi.Config) { c.Scanner.BatchSize = 1; c.Scanner.ParallelScans = 1 },
			during: func(srv *powerbitest.Server, batch int) {
				if batch == 1 {
					srv.ExpireTokens()
				}
			},
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if st.Batches != 6 {
					t.Errorf("batches = %d", st.Batches)
				}
				if n := srv.Requests()["POST /{tenant}/oauth2/v2.0/token"]; n < 2 {
					t.Errorf("token requests = %d, want a renewal", n)
				}
			},
			wantLog:  "token expired; renewing",
			wantPath: "scanner",
		},
		{
			name:     "refused admin falls back with a warning",
			opts:     []powerbitest.Option{powerbitest.WithRefusedAdmin(true)},
			wantLog:  "level=WARN msg=\"the scanner (admin) API was refused",
			wantPath: "api",
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if !st.FellBack || st.Workspaces != 6 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name: "regular path retries throttled and failed calls",
			faults: []powerbitest.Fault{
				{Endpoint: "GET /groups/{id}/datasets", Kind: powerbitest.Throttle, Count: 2, RetryAfter: time.Second},
				{Endpoint: "GET /groups/{id}/reports/{id}/pages", Kind: powerbitest.ServerError, Count: 3},
				{Endpoint: "GET /groups/{id}/dashboards/{id}/tiles", Kind: powerbitest.Drop, Count: 2},
			},
			cfg:      func(c *powerbi.Config) { c.Scanner.Enabled = boolp(false) },
			wantPath: "api",
			check: func(t *testing.T, srv *powerbitest.Server, c *powerbi.Client, st powerbi.Stats) {
				if st.Workspaces != 6 || len(st.Problems) != 0 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:     "401 on the admin listing falls back too",
			faults:   []powerbitest.Fault{{Endpoint: "GET /admin/groups", Kind: powerbitest.ServerError, Status: 401}},
			wantLog:  "the scanner (admin) API was refused",
			wantPath: "api",
		},
		{
			name:    "refused admin without fallback",
			opts:    []powerbitest.Option{powerbitest.WithRefusedAdmin(true)},
			cfg:     func(c *powerbi.Config) { c.Scanner.Fallback = boolp(false) },
			wantErr: "scanner.fallback is false",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startEmulator(t, powerbitest.SampleTenant(), append(tt.opts, powerbitest.WithFaults(tt.faults...))...)
			cfg := baseConfig(srv, withSecret)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			logs := &logBuffer{}
			c := newClient(t, srv, cfg, logs)
			batch := 0
			st, err := c.Snapshots(context.Background(), func(s *snapshot.Snapshot) error {
				batch++
				if tt.during != nil {
					tt.during(srv, batch)
				}
				return nil
			})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v\nlogs:\n%s", err, logs)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
			if tt.wantPath != "" && st.Path != tt.wantPath {
				t.Errorf("path %q, want %q", st.Path, tt.wantPath)
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("logs lack %q:\n%s", tt.wantLog, logs)
			}
			secret := srv.Credentials().ClientSecret
			for _, text := range []string{logs.String(), fmt.Sprint(err)} {
				if strings.Contains(text, secret) {
					t.Errorf("the client secret leaked: %s", text)
				}
			}
			if tt.check != nil {
				tt.check(t, srv, c, st)
			}
		})
	}
}

func TestFailedScanNamesWorkspaces(t *testing.T) {
	tenant := powerbitest.SampleTenant()
	srv := startEmulator(t, tenant, powerbitest.WithFailedScans(tenant.Workspaces[1].ID))
	cfg := baseConfig(srv, withSecret)
	_, _, err := collect(t, newClient(t, srv, cfg, nil))
	var se *powerbi.ScanError
	if !errors.As(err, &se) {
		t.Fatalf("want a ScanError, got %v", err)
	}
	for _, w := range tenant.Workspaces {
		if w.Type == "PersonalGroup" {
			continue // not synced by default, so not scanned
		}
		if !strings.Contains(err.Error(), w.ID) || !strings.Contains(err.Error(), w.Name) {
			t.Errorf("error does not name workspace %s (%s): %v", w.Name, w.ID, err)
		}
	}
}

func TestWrongSecret(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant())
	cfg := baseConfig(srv, withSecret)
	wrong := "wrong-secret-value-1234"
	cfg.Credentials.ClientSecret = config.NewSecret(wrong)
	logs := &logBuffer{}
	_, _, err := collect(t, newClient(t, srv, cfg, logs))
	if err == nil {
		t.Fatal("want an error")
	}
	var ae *powerbi.AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Errorf("want an AuthError naming AADSTS7000215, got %v", err)
	}
	if strings.Contains(err.Error(), wrong) || strings.Contains(logs.String(), wrong) {
		t.Errorf("secret leaked: %v\n%s", err, logs)
	}
	if len(err.Error()) > 400 {
		t.Errorf("error too long to read: %v", err)
	}
}

func TestCancelDuringRetryAfter(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant(), powerbitest.WithFaults(powerbitest.Fault{Kind: powerbitest.Throttle, RetryAfter: time.Hour}))
	c := newClient(t, srv, baseConfig(srv, withToken), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Snapshots(ctx, func(*snapshot.Snapshot) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancel took %s", time.Since(start))
	}
}

// The default batch is powerbi.SmallBatchSize workspaces (the tenants here are below
// powerbi.SmallBatchWorkspaces); scanner.batch_size sets it.
func TestScannerRequestCounts(t *testing.T) {
	for _, tc := range []struct{ n, batch, per int }{
		{1, 0, powerbi.SmallBatchSize}, {50, 0, powerbi.SmallBatchSize}, {51, 0, powerbi.SmallBatchSize}, {250, 0, powerbi.SmallBatchSize},
		{100, 100, 100}, {101, 100, 100}, {250, 100, 100},
	} {
		n := tc.n
		t.Run(fmt.Sprintf("%d/batch=%d", n, tc.batch), func(t *testing.T) {
			srv := startEmulator(t, emptyTenant(n), powerbitest.WithScanPolls(3))
			cfg := baseConfig(srv, withToken)
			cfg.Scanner.BatchSize = tc.batch
			c := newClient(t, srv, cfg, nil)
			s, st, err := collect(t, c)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Workspaces) != n {
				t.Fatalf("workspaces %d, want %d", len(s.Workspaces), n)
			}
			batches := int64((n + tc.per - 1) / tc.per)
			want := map[string]int64{
				// The listing ends at an empty page: the service may cap pages below $top.
				"GET /admin/groups":                     2,
				"POST /admin/workspaces/getInfo":        batches,
				"GET /admin/workspaces/scanStatus/{id}": 3 * batches,
				"GET /admin/workspaces/scanResult/{id}": batches,
			}
			got := c.Requests()
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %d requests, want %d", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("unexpected endpoints: %v", got)
			}
			// The emulator saw the same.
			emu := srv.Requests()
			for k, v := range want {
				if emu[k] != v {
					t.Errorf("emulator %s: %d, want %d", k, emu[k], v)
				}
			}
			if st.Batches != int(batches) {
				t.Errorf("batches %d", st.Batches)
			}
		})
	}
}

func TestExpiredStaticToken(t *testing.T) {
	srv := startEmulator(t, powerbitest.SampleTenant())
	cfg := baseConfig(srv, withToken)
	srv.ExpireTokens()
	_, _, err := collect(t, newClient(t, srv, cfg, nil))
	var apiErr *powerbi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "TokenExpired" || apiErr.Status != 403 {
		t.Fatalf("want 403 TokenExpired, got %v", err)
	}
	tok := cfg.Credentials.Token.Reveal()
	if strings.Contains(err.Error(), tok) {
		t.Errorf("token leaked: %v", err)
	}
}

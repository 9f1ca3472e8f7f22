package powerbi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
)

// TestPlan covers how a plan follows the mark and the modified endpoint's limits.
func TestPlan(t *testing.T) {
	size := powerbitest.SmallSize()
	size.Workspaces = 12
	srv := startEmulator(t, powerbitest.Generate(7, size))
	changed := srv.ModifyWorkspaces(3)
	ctx := context.Background()
	now := time.Now()
	off := false
	for _, tc := range []struct {
		name      string
		since     time.Time
		disable   bool
		full      bool
		read      int
		askedFrom time.Duration // how long before now modifiedSince was, 0: not asked
	}{
		{name: "no mark", full: true, read: 12},
		{name: "mark an hour ago", since: now.Add(-time.Hour), read: 3, askedFrom: time.Hour + 2*time.Minute},
		{name: "mark a minute ago asks from the 30-minute minimum", since: now.Add(-time.Minute), read: 3, askedFrom: 31 * time.Minute},
		{name: "mark older than the modified window", since: now.Add(-31 * 24 * time.Hour), full: true, read: 12},
		{name: "incremental off", since: now.Add(-time.Hour), disable: true, full: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(srv, withSecret)
			on := true
			cfg.Incremental.Enabled = &on
			if tc.disable {
				cfg.Incremental.Enabled = &off
			}
			c := newClient(t, srv, cfg, nil)
			srv.ResetCounts()
			p, err := c.Plan(ctx, tc.since, now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Full != tc.full || len(p.Read) != tc.read || p.Reason == "" || !p.Mark.Equal(now.UTC()) {
				t.Fatalf("plan full=%v read=%d reason=%q mark=%v", p.Full, len(p.Read), p.Reason, p.Mark)
			}
			if !tc.full {
				for i, w := range p.Read {
					if w.ID != changed[i] {
						t.Errorf("read %s, want %s", w.ID, changed[i])
					}
				}
			}
			var asked string
			for _, r := range srv.Log() {
				if r.Endpoint == "GET /admin/workspaces/modified" {
					asked = r.Path
				}
			}
			if (asked != "") != (tc.askedFrom > 0) {
				t.Fatalf("modified asked: %q", asked)
			}
			if tc.askedFrom > 0 {
				want := now.Add(-tc.askedFrom).UTC().Format("2006-01-02T15:04:05")
				if !strings.Contains(asked, "modifiedSince="+strings.ReplaceAll(want, ":", "%3A")) || !strings.Contains(asked, "excludePersonalWorkspaces=true") || !strings.Contains(asked, "excludeInActiveWorkspaces=true") {
					t.Errorf("asked %s, want modifiedSince %s and both exclusions", asked, want)
				}
			}
		})
	}
}

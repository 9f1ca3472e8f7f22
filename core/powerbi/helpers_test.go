package powerbi_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// startEmulator runs an emulator for the test.
func startEmulator(t testing.TB, tenant *snapshot.Snapshot, opts ...powerbitest.Option) *powerbitest.Server {
	t.Helper()
	srv, err := powerbitest.NewServer(tenant, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

type credKind int

const (
	withSecret credKind = iota
	withCert
	withToken
)

// baseConfig is a client config for srv with fast polls and retries.
func baseConfig(srv *powerbitest.Server, kind credKind) powerbi.Config {
	cr := srv.Credentials()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID}
	switch kind {
	case withSecret:
		cfg.Credentials = powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}
	case withCert:
		cfg.Credentials = powerbi.Credentials{ClientID: cr.ClientID, CertificatePEM: config.NewSecret(string(cr.CertificatePEM))}
	case withToken:
		cfg.Credentials = powerbi.Credentials{Token: config.NewSecret(srv.IssueToken(time.Hour))}
	}
	cfg.Scanner.PollInterval = 5 * time.Millisecond
	cfg.Scanner.Timeout = 10 * time.Second
	return cfg
}

// logBuffer collects slog output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newClient(t testing.TB, srv *powerbitest.Server, cfg powerbi.Config, logs *logBuffer) *powerbi.Client {
	t.Helper()
	opts := []powerbi.Option{powerbi.WithAuthorityHTTPClient(srv.TLSClient())}
	if logs != nil {
		opts = append(opts, powerbi.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	c, err := powerbi.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect runs Snapshots and merges the batches into one snapshot.
func collect(t testing.TB, c *powerbi.Client) (*snapshot.Snapshot, powerbi.Stats, error) {
	t.Helper()
	merged := &snapshot.Snapshot{Version: snapshot.Version}
	seen := map[string]bool{}
	st, err := c.Snapshots(context.Background(), func(s *snapshot.Snapshot) error {
		merged.Workspaces = append(merged.Workspaces, s.Workspaces...)
		for _, d := range s.DataSources {
			if !seen[d.ID] {
				seen[d.ID] = true
				merged.DataSources = append(merged.DataSources, d)
			}
		}
		return nil
	})
	return merged, st, err
}

// normalize keeps what both API paths deliver, sorted, so snapshots compare.
// scanOnly keeps the fields only the scanner returns (tables, audit fields).
func normalize(s *snapshot.Snapshot, keep string) *snapshot.Snapshot {
	out := &snapshot.Snapshot{Version: snapshot.Version}
	for _, w := range s.Workspaces {
		nw := snapshot.Workspace{ID: w.ID, Name: w.Name, Type: w.Type, IsOnDedicatedCapacity: w.IsOnDedicatedCapacity, CapacityID: w.CapacityID, Description: w.Description}
		for _, m := range w.SemanticModels {
			nm := snapshot.SemanticModel{ID: m.ID, Name: m.Name, Description: m.Description, ConfiguredBy: m.ConfiguredBy,
				CreatedDate: m.CreatedDate, ContentProviderType: m.ContentProviderType, TargetStorageMode: m.TargetStorageMode,
				DataSourceIDs: slices.Sorted(slices.Values(m.DataSourceIDs)), UpstreamDataflows: m.UpstreamDataflows}
			if keep == "scan" {
				nm.Tables, nm.Expressions, nm.Endorsement, nm.CertifiedBy, nm.SensitivityLabel = m.Tables, m.Expressions, m.Endorsement, m.CertifiedBy, m.SensitivityLabel
				nm.UpstreamModels = m.UpstreamModels
			}
			if keep == "api" {
				nm.IsRefreshable = m.IsRefreshable
			}
			nw.SemanticModels = append(nw.SemanticModels, nm)
		}
		for _, r := range w.Reports {
			nr := snapshot.Report{ID: r.ID, Name: r.Name, Description: r.Description, DatasetID: r.DatasetID, DatasetWorkspaceID: r.DatasetWorkspaceID, ReportType: r.ReportType, AppID: r.AppID,
				DataSourceIDs: slices.Sorted(slices.Values(r.DataSourceIDs))}
			if keep == "scan" {
				nr.CreatedBy, nr.ModifiedBy, nr.CreatedDateTime, nr.ModifiedDateTime = r.CreatedBy, r.ModifiedBy, r.CreatedDateTime, r.ModifiedDateTime
				nr.Endorsement, nr.CertifiedBy, nr.SensitivityLabel = r.Endorsement, r.CertifiedBy, r.SensitivityLabel
			}
			if keep == "api" {
				nr.Pages = r.Pages
			}
			nw.Reports = append(nw.Reports, nr)
		}
		for _, b := range w.Dashboards {
			nb := snapshot.Dashboard{ID: b.ID, DisplayName: b.DisplayName, IsReadOnly: b.IsReadOnly, AppID: b.AppID}
			for _, tl := range b.Tiles {
				nt := snapshot.Tile{ID: tl.ID, Title: tl.Title, ReportID: tl.ReportID, DatasetID: tl.DatasetID}
				if keep == "scan" {
					nt.DatasetWorkspaceID = tl.DatasetWorkspaceID
				}
				if keep == "api" {
					nt.RowSpan, nt.ColSpan = tl.RowSpan, tl.ColSpan
				}
				nb.Tiles = append(nb.Tiles, nt)
			}
			if keep == "scan" {
				nb.SensitivityLabel = b.SensitivityLabel
			}
			nw.Dashboards = append(nw.Dashboards, nb)
		}
		out.Workspaces = append(out.Workspaces, nw)
	}
	for _, d := range s.DataSources {
		out.DataSources = append(out.DataSources, snapshot.DataSource{ID: d.ID, Type: d.Type, GatewayID: d.GatewayID, ConnectionDetails: d.ConnectionDetails, IDDerived: d.IDDerived})
	}
	slices.SortFunc(out.Workspaces, func(a, b snapshot.Workspace) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(out.DataSources, func(a, b snapshot.DataSource) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func snapJSON(t testing.TB, s *snapshot.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := snapshot.Save(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/pipeline"
	"github.com/pbisync/pbisync/core/powerbi"
	"github.com/pbisync/pbisync/core/powerbi/powerbitest"
	"github.com/pbisync/pbisync/core/snapshot"
)

// EmulatorConfig is the YAML of an `emulator` source: the bundled Power BI emulator,
// started in-process on 127.0.0.1 and read through the real client, MSAL sign-in included.
type EmulatorConfig struct {
	// Tenant is "sample" (the hand-written sample tenant) or "generated".
	Tenant string `yaml:"tenant"`
	// Generated shapes a generated tenant; zero fields take the small defaults, and
	// `size: large` starts from 1,000 workspaces.
	Generated GeneratedTenant `yaml:"generated"`
	// Credentials is how the client signs in: secret (default), certificate or token.
	Credentials string `yaml:"credentials"`
	// Scanner reads through the admin scanner API (default true); false uses the
	// regular API.
	Scanner *bool `yaml:"scanner"`
	// Faults are injected into the emulator, as `pbisync emulate --fault` takes them.
	Faults []string `yaml:"faults"`
	// Quirks make the emulator answer as the live service was recorded to, as
	// `pbisync emulate --quirk` takes them.
	Quirks []string `yaml:"quirks"`
	// Fabric adds Microsoft Fabric content to the tenant (powerbitest.AddFabric):
	// Lakehouses, Warehouses, SQL endpoints, Direct Lake models, dataflows with
	// definitions, datamarts; the client then reads dataflow definitions too.
	Fabric bool `yaml:"fabric"`
	// Incremental syncs only the workspaces modified since the last complete sync, as a
	// powerbi source's incremental.enabled (default false).
	Incremental bool `yaml:"incremental"`
}

// GeneratedTenant is the shape of a generated emulator tenant.
type GeneratedTenant struct {
	Seed                    int64  `yaml:"seed"`
	Size                    string `yaml:"size"` // small (default) or large
	Workspaces              int    `yaml:"workspaces"`
	ModelsPerWorkspace      int    `yaml:"models_per_workspace"`
	TablesPerModel          int    `yaml:"tables_per_model"`
	ColumnsPerTable         int    `yaml:"columns_per_table"`
	MeasuresPerTable        int    `yaml:"measures_per_table"`
	ReportsPerWorkspace     int    `yaml:"reports_per_workspace"`
	PagesPerReport          int    `yaml:"pages_per_report"`
	DashboardsPerWorkspace  int    `yaml:"dashboards_per_workspace"`
	TilesPerDashboard       int    `yaml:"tiles_per_dashboard"`
	DataSourcesPerWorkspace int    `yaml:"data_sources_per_workspace"`
}

func (g GeneratedTenant) size(n config.Node) (powerbitest.Size, error) {
	var sz powerbitest.Size
	switch g.Size {
	case "", "small":
		sz = powerbitest.SmallSize()
	case "large":
		sz = powerbitest.LargeSize()
	default:
		return sz, config.Errorf(n.Child("size"), "size must be small or large, got %q", g.Size)
	}
	for _, f := range []struct {
		v   int
		dst *int
	}{{g.Workspaces, &sz.Workspaces}, {g.ModelsPerWorkspace, &sz.ModelsPerWorkspace}, {g.TablesPerModel, &sz.TablesPerModel},
		{g.ColumnsPerTable, &sz.ColumnsPerTable}, {g.MeasuresPerTable, &sz.MeasuresPerTable}, {g.ReportsPerWorkspace, &sz.ReportsPerWorkspace},
		{g.PagesPerReport, &sz.PagesPerReport}, {g.DashboardsPerWorkspace, &sz.DashboardsPerWorkspace},
		{g.TilesPerDashboard, &sz.TilesPerDashboard}, {g.DataSourcesPerWorkspace, &sz.DataSourcesPerWorkspace}} {
		if f.v < 0 {
			return sz, config.Errorf(n, "generated tenant sizes must not be negative")
		}
		if f.v > 0 {
			*f.dst = f.v
		}
	}
	return sz, nil
}

// powerbiSource reads a tenant through the Power BI client.
type powerbiSource struct {
	name   string
	client *powerbi.Client

	mu    sync.Mutex
	stats powerbi.Stats
	plan  *powerbi.SyncPlan // set by PlanSync for the next Snapshots
	// resume keeps what the source reads in the raw store and replays it (resume.go);
	// nil without a state store.
	resume *resumer
}

func (p *powerbiSource) Name() string { return p.name }

// PlanSync lists the workspaces and decides which the next Snapshots scans.
// What it replays from the raw store instead of scanning follows replay (resume.go).
func (p *powerbiSource) PlanSync(ctx context.Context, since time.Time, replay replayMode) (*powerbi.SyncPlan, error) {
	plan, err := p.client.Plan(ctx, since, time.Time{})
	if err != nil {
		return nil, err
	}
	switch {
	case p.resume != nil:
		if err := p.resume.apply(ctx, plan, replay); err != nil {
			return nil, err
		}
	case replay == replayAll && plan.Listed != nil:
		// No raw store to replay from: everything listed is scanned.
		plan.Read = plan.Listed
	}
	p.mu.Lock()
	p.plan = plan
	p.mu.Unlock()
	return plan, nil
}

// FullEvery is the source's incremental.full_every.
func (p *powerbiSource) FullEvery() time.Duration { cfg := p.client.Config(); return cfg.FullEvery() }

func (p *powerbiSource) Snapshots(ctx context.Context, emit func(*snapshot.Snapshot) error) error {
	p.mu.Lock()
	plan := p.plan
	p.plan = nil
	p.mu.Unlock()
	var st powerbi.Stats
	var err error
	switch {
	case plan != nil && p.resume != nil:
		st, err = p.resume.snapshots(ctx, p.client, plan, emit, func(rest *powerbi.SyncPlan, emit func(*snapshot.Snapshot) error) (powerbi.Stats, error) {
			return p.client.ScanPlan(ctx, rest, emit)
		})
	case plan != nil:
		st, err = p.client.ScanPlan(ctx, plan, emit)
	default:
		st, err = p.client.Snapshots(ctx, emit)
	}
	p.mu.Lock()
	p.stats = st
	p.mu.Unlock()
	return err
}

// Requests returns the API requests sent, per endpoint.
func (p *powerbiSource) Requests() map[string]int64 { return p.client.Requests() }

// Problems returns the items the last run could not read.
func (p *powerbiSource) Problems() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.Problems
}

// Client returns the Power BI client, for refreshes.
func (p *powerbiSource) Client() *powerbi.Client { return p.client }

func (s *setup) powerbiSource(src pipeline.Source) (Source, error) {
	cfg, err := powerbi.DecodeConfig(src.PowerBI)
	if err != nil {
		return nil, err
	}
	if cfg.CAFile != "" {
		cfg.CAFile = s.resolve(cfg.CAFile)
	}
	if cfg.Credentials.CertificateFile != "" {
		cfg.Credentials.CertificateFile = s.resolve(cfg.Credentials.CertificateFile)
	}
	// Validation builds the client too (it calls nothing), so it refuses what a sync does.
	c, err := powerbi.New(cfg, powerbi.WithLogger(s.opts.Logger.With("source", src.Name)), powerbi.WithProgress(s.scanProgress(src.Name)))
	if err != nil {
		return nil, &config.Error{Pos: src.Pos, Msg: fmt.Sprintf("source %q: %v", src.Name, err)}
	}
	if s.dryRun {
		return nil, nil
	}
	return &powerbiSource{name: src.Name, client: c}, nil
}

func (s *setup) emulatorSource(src pipeline.Source) (Source, error) {
	var ec EmulatorConfig
	if err := config.Decode(src.Emulator, &ec); err != nil {
		return nil, err
	}
	var tenant *snapshot.Snapshot
	switch ec.Tenant {
	case "", "sample":
		tenant = powerbitest.SampleTenant()
	case "generated":
		size, err := ec.Generated.size(src.Emulator.Child("generated"))
		if err != nil {
			return nil, err
		}
		tenant = powerbitest.Generate(ec.Generated.Seed, size)
	default:
		return nil, config.Errorf(src.Emulator.Child("tenant"), "tenant must be sample or generated, got %q", ec.Tenant)
	}
	if ec.Fabric {
		tenant = powerbitest.AddFabric(tenant)
	}
	var faults []powerbitest.Fault
	for i, f := range ec.Faults {
		ft, err := powerbitest.ParseFault(f)
		if err != nil {
			return nil, config.Errorf(src.Emulator.Child("faults").Item(i), "%v", err)
		}
		faults = append(faults, ft)
	}
	var quirks powerbitest.Quirks
	for i, q := range ec.Quirks {
		if err := powerbitest.ParseQuirk(q, &quirks); err != nil {
			return nil, config.Errorf(src.Emulator.Child("quirks").Item(i), "%v", err)
		}
	}
	switch ec.Credentials {
	case "", "secret", "certificate", "token":
	default:
		return nil, config.Errorf(src.Emulator.Child("credentials"), "credentials must be secret, certificate or token, got %q", ec.Credentials)
	}
	if s.dryRun {
		return nil, nil
	}
	srv, err := powerbitest.NewServer(tenant, powerbitest.WithFaults(faults...), powerbitest.WithQuirks(quirks))
	if err != nil {
		return nil, &config.Error{Pos: src.Pos, Msg: fmt.Sprintf("source %q: %v", src.Name, err)}
	}
	s.closers = append(s.closers, func() { srv.Close() })
	cr := srv.Credentials()
	cfg := powerbi.Config{APIURL: srv.URL(), AuthorityHost: srv.AuthorityURL(), TenantID: srv.TenantID}
	switch ec.Credentials {
	case "", "secret":
		cfg.Credentials = powerbi.Credentials{ClientID: cr.ClientID, ClientSecret: config.NewSecret(cr.ClientSecret)}
	case "certificate":
		cfg.Credentials = powerbi.Credentials{ClientID: cr.ClientID, CertificatePEM: config.NewSecret(string(cr.CertificatePEM))}
	case "token":
		cfg.Credentials = powerbi.Credentials{Token: config.NewSecret(srv.IssueToken(srv.TokenLifetime()))}
	}
	cfg.Scanner.Enabled = ec.Scanner
	// The bundled emulator starts afresh each run: it syncs incrementally only when asked.
	cfg.Incremental.Enabled = &ec.Incremental
	if ec.Fabric {
		cfg.Scanner.DataflowDefinitions = &ec.Fabric
	}
	// The emulator finishes a scan in two polls; no need for the live service's pace.
	cfg.Scanner.PollInterval = 100 * time.Millisecond
	c, err := powerbi.New(cfg, powerbi.WithAuthorityHTTPClient(srv.TLSClient()), powerbi.WithLogger(s.opts.Logger.With("source", src.Name)),
		powerbi.WithProgress(s.scanProgress(src.Name)))
	if err != nil {
		return nil, &config.Error{Pos: src.Pos, Msg: fmt.Sprintf("source %q: %v", src.Name, err)}
	}
	s.opts.Logger.Info("started the bundled Power BI emulator", "source", src.Name, "api", srv.URL(), "authority", srv.AuthorityURL(),
		"tenant", strings.TrimSpace(ec.Tenant+" "+fmt.Sprint(len(tenant.Workspaces))+" workspaces"))
	return &powerbiSource{name: src.Name, client: c}, nil
}

// scanProgress passes a client's progress on to the progress display.
func (s *setup) scanProgress(source string) func(powerbi.Progress) {
	return func(p powerbi.Progress) {
		if s.opts.Progress != nil {
			s.opts.Progress(Progress{Scan: &ScanProgress{Source: source, Path: p.Path, WorkspacesTotal: p.WorkspacesTotal, WorkspacesDone: p.WorkspacesDone}})
		}
	}
}

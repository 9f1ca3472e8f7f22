// Package powerbi is pbisync's Power BI REST client: it authenticates (a static token,
// or a service principal with a secret or certificate through MSAL), retries throttled
// and failed calls, and reads a tenant through the scanner (admin) API or the regular
// API as a stream of snapshot.Snapshot batches.
package powerbi

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/pbisync/pbisync/core/config"
)

// Defaults of Config.
const (
	DefaultAPIURL        = "https://api.powerbi.com/v1.0/myorg"
	DefaultAuthorityHost = "https://login.microsoftonline.com"
	MaxBatchSize         = 100
	MaxParallelScans     = 16
	// SmallBatchSize is the default scanner.batch_size of a sync that scans at most
	// SmallBatchWorkspaces workspaces: half the service's most, so that what a sync
	// holds at once (a batch's scan document while it is worked on, and the next one's
	// while it is decoded) is half as large. Past SmallBatchWorkspaces (250 scans, half
	// the service's hourly limit of 500 getInfo requests) a sync scans MaxBatchSize
	// workspaces at a time, so that the scans of a large tenant fit the hour.
	SmallBatchSize       = 50
	SmallBatchWorkspaces = 12500
)

// Config is the `powerbi:` section of a source in pipeline.yaml.
type Config struct {
	APIURL        string      `yaml:"api_url"`
	AuthorityHost string      `yaml:"authority_host"`
	TenantID      string      `yaml:"tenant_id"`
	Credentials   Credentials `yaml:"credentials"`
	// CAFile is a PEM file of extra root CAs to trust for the API and the authority
	// (for `pbisync emulate` or a TLS-inspecting proxy).
	CAFile     string          `yaml:"ca_file"`
	Workspaces WorkspaceConfig `yaml:"workspaces"`
	Scanner    ScannerConfig   `yaml:"scanner"`
	Retry      RetryConfig     `yaml:"retry"`
	// Incremental: scan only what changed since the last complete sync (modified.go).
	Incremental IncrementalConfig `yaml:"incremental"`
	// Concurrency is how many workspaces the regular API path reads at once (default 4).
	Concurrency int `yaml:"concurrency"`
}

// Credentials is one of: a token; a client id with a client secret; a client id with a
// certificate (file or PEM) and an optional password.
type Credentials struct {
	Token               config.Secret `yaml:"token"`
	ClientID            string        `yaml:"client_id"`
	ClientSecret        config.Secret `yaml:"client_secret"`
	CertificateFile     string        `yaml:"certificate_file"`
	CertificatePEM      config.Secret `yaml:"certificate_pem"`
	CertificatePassword config.Secret `yaml:"certificate_password"`
}

// WorkspaceConfig says which workspaces to read.
type WorkspaceConfig struct {
	// IDs lists workspaces to read; with discover: none they are all that is read.
	IDs []string `yaml:"ids"`
	// Discover is how to list workspaces: admin (GET admin/groups), groups (GET groups,
	// the workspaces the principal is a member of) or none. Default: admin when the
	// scanner is enabled, else groups.
	Discover     string   `yaml:"discover"`
	IncludeNames []string `yaml:"include_names"`
	ExcludeNames []string `yaml:"exclude_names"`
	IncludeIDs   []string `yaml:"include_ids"`
	ExcludeIDs   []string `yaml:"exclude_ids"`
	// Types are the workspace types to keep (default [Workspace]).
	Types []string `yaml:"types"`
}

// ScannerConfig configures the admin scanner API path.
type ScannerConfig struct {
	Enabled *bool `yaml:"enabled"`
	// Fallback: when the admin API answers 401/403, read through the regular API instead
	// (with a warning). Default true.
	Fallback *bool `yaml:"fallback"`
	// BatchSize is how many workspaces a scan reads (at most MaxBatchSize); 0, the
	// default, is BatchFor's choice.
	BatchSize     int           `yaml:"batch_size"`
	ParallelScans int           `yaml:"parallel_scans"`
	PollInterval  time.Duration `yaml:"poll_interval"`
	Timeout       time.Duration `yaml:"timeout"`
	// DataflowDefinitions reads each dataflow's definition (one regular API call
	// per dataflow) so its entities' M is resolved: warehouse table -> dataflow ->
	// model lineage. Default false.
	DataflowDefinitions *bool `yaml:"dataflow_definitions"`
}

// RetryConfig bounds retries of throttled and failed calls.
type RetryConfig struct {
	MaxAttempts int           `yaml:"max_attempts"`
	MaxWait     time.Duration `yaml:"max_wait"`
}

// ScannerEnabled reports whether the scanner path is on.
func (c *Config) ScannerEnabled() bool { return c.Scanner.Enabled == nil || *c.Scanner.Enabled }

// FallbackEnabled reports whether a refused scanner falls back to the regular API.
func (c *Config) FallbackEnabled() bool { return c.Scanner.Fallback == nil || *c.Scanner.Fallback }

// filters are the compiled workspace filters.
type filters struct {
	includeNames, excludeNames, includeIDs, excludeIDs []*regexp.Regexp
	types                                              map[string]bool
}

// DecodeConfig decodes and validates a `powerbi:` section; errors name file:line:col.
func DecodeConfig(n config.Node) (Config, error) {
	var c Config
	if err := config.Decode(n, &c); err != nil {
		return c, err
	}
	c.SetDefaults()
	if err := c.validate(n); err != nil {
		return c, err
	}
	return c, nil
}

// SetDefaults fills in every unset field.
func (c *Config) SetDefaults() {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.AuthorityHost == "" {
		c.AuthorityHost = DefaultAuthorityHost
	}
	if c.Workspaces.Discover == "" {
		if c.ScannerEnabled() {
			c.Workspaces.Discover = "admin"
		} else {
			c.Workspaces.Discover = "groups"
		}
	}
	if len(c.Workspaces.Types) == 0 {
		c.Workspaces.Types = []string{"Workspace"}
	}
	if c.Scanner.ParallelScans == 0 {
		c.Scanner.ParallelScans = MaxParallelScans
	}
	if c.Scanner.PollInterval == 0 {
		c.Scanner.PollInterval = 2 * time.Second
	}
	if c.Scanner.Timeout == 0 {
		c.Scanner.Timeout = 30 * time.Minute
	}
	if c.Retry.MaxAttempts == 0 {
		c.Retry.MaxAttempts = 8
	}
	if c.Retry.MaxWait == 0 {
		c.Retry.MaxWait = time.Hour
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
}

// Validate checks a Config built in Go (DecodeConfig validates with positions).
func (c *Config) Validate() error { return c.validate(config.Node{File: "powerbi config"}) }

func (c *Config) validate(n config.Node) error {
	at := func(path ...string) config.Node {
		cur := n
		for _, p := range path {
			next := cur.Child(p)
			if next.Node == nil {
				return cur
			}
			cur = next
		}
		return cur
	}
	for _, k := range []struct{ key, v string }{{"api_url", c.APIURL}, {"authority_host", c.AuthorityHost}} {
		u, err := url.Parse(k.v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return config.Errorf(at(k.key), "%s must be an http(s) URL, got %q", k.key, k.v)
		}
	}
	cr := c.Credentials
	if u, _ := url.Parse(c.AuthorityHost); cr.Token.IsZero() && u.Scheme == "http" {
		return config.Errorf(at("authority_host"), "authority_host %q is http, and MSAL only signs in against an https authority; "+
			"serve a private or test authority over TLS and trust its certificate with ca_file (a PEM file of its CA), or give a token instead", c.AuthorityHost)
	}
	switch {
	case !cr.Token.IsZero():
		if cr.ClientID != "" || !cr.ClientSecret.IsZero() || cr.CertificateFile != "" || !cr.CertificatePEM.IsZero() {
			return config.Errorf(at("credentials"), "credentials: give either token, or client_id with client_secret or a certificate, not both")
		}
	case cr.ClientID == "":
		return config.Errorf(at("credentials"), "credentials: give token, or client_id with client_secret, certificate_file or certificate_pem")
	default:
		kinds := 0
		for _, set := range []bool{!cr.ClientSecret.IsZero(), cr.CertificateFile != "", !cr.CertificatePEM.IsZero()} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return config.Errorf(at("credentials"), "credentials: with client_id give exactly one of client_secret, certificate_file, certificate_pem")
		}
		if c.TenantID == "" {
			return config.Errorf(at("tenant_id"), "tenant_id is required with a service principal (client_id)")
		}
		if cr.CertificateFile != "" {
			if _, err := os.Stat(cr.CertificateFile); err != nil {
				return config.Errorf(at("credentials", "certificate_file"), "certificate_file: %v", err)
			}
		}
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			return config.Errorf(at("ca_file"), "ca_file: %v", err)
		}
	}
	switch c.Workspaces.Discover {
	case "admin", "groups":
	case "none":
		if len(c.Workspaces.IDs) == 0 {
			return config.Errorf(at("workspaces", "discover"), "workspaces: discover: none needs workspaces.ids")
		}
	default:
		return config.Errorf(at("workspaces", "discover"), "workspaces.discover must be admin, groups or none, got %q", c.Workspaces.Discover)
	}
	if _, err := c.compileFilters(); err != nil {
		return config.Errorf(at("workspaces"), "%v", err)
	}
	if c.Scanner.BatchSize < 0 || c.Scanner.BatchSize > MaxBatchSize {
		return config.Errorf(at("scanner", "batch_size"), "scanner.batch_size must be 1..%d (or left out for the default), got %d", MaxBatchSize, c.Scanner.BatchSize)
	}
	if c.Scanner.ParallelScans < 1 || c.Scanner.ParallelScans > MaxParallelScans {
		return config.Errorf(at("scanner", "parallel_scans"), "scanner.parallel_scans must be 1..%d (the service runs at most %d scans at once), got %d", MaxParallelScans, MaxParallelScans, c.Scanner.ParallelScans)
	}
	if c.Scanner.PollInterval < 0 || c.Scanner.Timeout < 0 {
		return config.Errorf(at("scanner"), "scanner durations must be positive")
	}
	if c.Retry.MaxAttempts < 1 || c.Retry.MaxWait < 0 {
		return config.Errorf(at("retry"), "retry.max_attempts must be at least 1 and max_wait positive")
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		return config.Errorf(at("concurrency"), "concurrency must be 1..64, got %d", c.Concurrency)
	}
	return nil
}

func (c *Config) compileFilters() (*filters, error) {
	f := &filters{types: map[string]bool{}}
	for _, l := range []struct {
		key  string
		in   []string
		into *[]*regexp.Regexp
	}{
		{"include_names", c.Workspaces.IncludeNames, &f.includeNames},
		{"exclude_names", c.Workspaces.ExcludeNames, &f.excludeNames},
		{"include_ids", c.Workspaces.IncludeIDs, &f.includeIDs},
		{"exclude_ids", c.Workspaces.ExcludeIDs, &f.excludeIDs},
	} {
		for _, p := range l.in {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("workspaces.%s: %q is not a valid regular expression: %v", l.key, p, err)
			}
			*l.into = append(*l.into, re)
		}
	}
	for _, t := range c.Workspaces.Types {
		f.types[strings.ToLower(t)] = true // the service's casing of types varies
	}
	return f, nil
}

// keep reports whether a discovered workspace passes the filters.
func (f *filters) keep(id, name, typ string) bool {
	if typ != "" && !f.types[strings.ToLower(typ)] {
		return false
	}
	match := func(list []*regexp.Regexp, s string) bool {
		for _, re := range list {
			if re.MatchString(s) {
				return true
			}
		}
		return false
	}
	if len(f.includeNames) > 0 && !match(f.includeNames, name) {
		return false
	}
	if len(f.includeIDs) > 0 && !match(f.includeIDs, id) {
		return false
	}
	return !match(f.excludeNames, name) && !match(f.excludeIDs, id)
}

// BatchFor is how many workspaces each scan of a sync that reads n workspaces covers:
// scanner.batch_size when set, else SmallBatchSize, or MaxBatchSize past
// SmallBatchWorkspaces.
func (c ScannerConfig) BatchFor(n int) int {
	switch {
	case c.BatchSize > 0:
		return c.BatchSize
	case n > SmallBatchWorkspaces:
		return MaxBatchSize
	}
	return SmallBatchSize
}

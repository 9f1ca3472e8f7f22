// Package datahub is the DataHub sink: it turns pbisync's events into metadata change
// proposals (MCPs) and sends them to a DataHub GMS over its REST API
// (POST /aspects?action=ingestProposal, token auth), or writes them to a file that
// DataHub's file source ingests. Entities are named as DataHub's own Power BI source
// names them, so both can feed one DataHub; README.md lists the mapping.
package datahub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Config is the sink's section in pipeline.yaml.
type Config struct {
	// Server is the GMS base URL, e.g. http://localhost:8080. Give Server or File.
	Server string `json:"server"`
	// Token is a DataHub access token, sent as "Authorization: Bearer".
	Token sink.Secret `json:"token"`
	// File receives the MCPs as a JSON array, for `datahub ingest` with the file source.
	// A sync replaces it whole when it completes; a failed one leaves it as it was.
	File string `json:"file"`
	// KeepPartial keeps a failed sync's unfinished file as FILE.partial.
	KeepPartial bool `json:"keep_partial"`
	// Env is the environment of dataset URNs (default PROD).
	Env string `json:"env"`
	// PlatformInstance prefixes entity names, as DataHub's platform_instance does.
	PlatformInstance string `json:"platform_instance"`
	// LowercaseURNs lower-cases table dataset names (DataHub's convert_urns_to_lowercase,
	// default false as there).
	LowercaseURNs bool `json:"lowercase_urns"`
	// DatasetsToContainers makes each semantic model a container holding its tables
	// (DataHub's extract_datasets_to_containers, default false: tables sit in the
	// workspace container).
	DatasetsToContainers bool `json:"datasets_to_containers"`
	// UsePowerBIEmail names report and dashboard owners by email (default true, as
	// DataHub's ownership.use_powerbi_email); false names them users.<id>. Tables are
	// always users.<configuredBy>, as in DataHub.
	UsePowerBIEmail *bool `json:"use_powerbi_email"`
	// RemoveEmailSuffix drops "@domain" from owner names (DataHub's remove_email_suffix).
	RemoveEmailSuffix bool `json:"remove_email_suffix"`
	// SpecTags adds the specs' own tags to the endorsement tags DataHub writes.
	SpecTags bool `json:"spec_tags"`
	// PbisyncProperties adds pbisync's key and text metadata to custom properties.
	PbisyncProperties bool `json:"pbisync_properties"`
	// WorkspaceIDAsURNPart keys workspace containers by id instead of name.
	WorkspaceIDAsURNPart bool `json:"workspace_id_as_urn_part"`
	// Upstream names the platform of the warehouse tables semantic models read.
	Upstream upstreamConfig `json:"upstream"`
	// StateFile remembers what pbisync made under each asset (a model's tables, a
	// report's pages, a dashboard's tiles) across syncs, so a removal soft-deletes them too.
	StateFile string `json:"state_file"`
	// Timeout bounds one HTTP request (default 30s).
	Timeout sink.Duration `json:"timeout"`
	// Retries is how often a failed request is retried (default 3); 4xx other than
	// 408 and 429 are not retried.
	Retries *int `json:"retries"`
	// Workers is how many requests run at once (default 4).
	Workers int `json:"workers"`
}

type upstreamConfig struct {
	Platform  string `json:"platform"`
	Env       string `json:"env"`
	Instance  string `json:"instance"`
	Lowercase *bool  `json:"lowercase"`
}

func (u upstreamConfig) env() string {
	if u.Env == "" {
		return "PROD"
	}
	return u.Env
}

func (u upstreamConfig) lowercase() bool { return u.Lowercase == nil || *u.Lowercase }

// emitter delivers MCPs.
type emitter interface {
	emit(ctx context.Context, mcps []MCP) error
}

// Sink sends MCPs to DataHub.
type Sink struct {
	cfg    Config
	n      namer
	opt    options
	m      *mapper
	rest   *restEmitter // server mode
	file   *fileEmitter // file mode, while a sync runs
	out    emitter      // rest or file; nil when the run writes nothing
	logger *slog.Logger
	warned bool
}

// New returns an unconfigured sink.
func New() *Sink { return &Sink{} }

// Check checks the config without opening the target (`pbisync validate`).
func (s *Sink) Check(_ context.Context, c sink.Config) error {
	_, err := New().decode(c)
	return err
}

// decode decodes and checks the config, applies defaults and reads the state file:
// everything Configure does (it opens nothing: Begin does). It returns the retry count.
func (s *Sink) decode(c sink.Config) (int, error) {
	if err := c.Decode(&s.cfg); err != nil {
		return 0, err
	}
	cfg := &s.cfg
	s.logger = c.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case cfg.Server == "" && cfg.File == "":
		return 0, sink.ConfigErrorf("", "give server (a DataHub GMS URL) or file")
	case cfg.Server != "" && cfg.File != "":
		return 0, sink.ConfigErrorf("file", "give server or file, not both")
	}
	if cfg.Env == "" {
		cfg.Env = "PROD"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = sink.Duration(30 * time.Second)
	}
	retries := 3
	if cfg.Retries != nil {
		if *cfg.Retries < 0 {
			return 0, sink.ConfigErrorf("retries", "retries must be 0 or more")
		}
		retries = *cfg.Retries
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Workers < 1 || cfg.Workers > 64 {
		return 0, sink.ConfigErrorf("workers", "workers must be between 1 and 64")
	}
	s.n = namer{env: cfg.Env, instance: cfg.PlatformInstance, lowercase: cfg.LowercaseURNs, workspaceID: cfg.WorkspaceIDAsURNPart}
	s.opt = options{datasetsToContainers: cfg.DatasetsToContainers, useEmail: cfg.UsePowerBIEmail == nil || *cfg.UsePowerBIEmail,
		removeEmailSuffix: cfg.RemoveEmailSuffix, specTags: cfg.SpecTags, pbisyncProperties: cfg.PbisyncProperties}
	if _, err := loadState(cfg.StateFile); err != nil {
		return 0, sink.ConfigErrorf("state_file", "%v", err)
	}
	if cfg.Server != "" {
		u, err := url.Parse(cfg.Server)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return 0, sink.ConfigErrorf("server", "want an http(s) URL such as http://localhost:8080, got %q", cfg.Server)
		}
		return retries, nil
	}
	if st, err := os.Stat(cfg.File); err == nil && st.IsDir() {
		return 0, sink.ConfigErrorf("file", "%s is a folder", cfg.File)
	}
	return retries, nil
}

// Configure checks the config. The target is opened by Begin.
func (s *Sink) Configure(_ context.Context, c sink.Config) error {
	retries, err := s.decode(c)
	if err != nil {
		return err
	}
	if cfg := &s.cfg; cfg.Server != "" {
		s.rest = newRESTEmitter(strings.TrimRight(cfg.Server, "/"), cfg.Token, time.Duration(cfg.Timeout), retries, cfg.Workers)
	}
	return nil
}

// Accepts says that only specs and removals become MCPs: a refresh never opens the file.
func (s *Sink) Accepts() []event.Kind { return []event.Kind{event.KindSpec, event.KindRemoved} }

// TakesChanges reports whether a sync of changes only can be applied: in server mode every
// aspect is an upsert into DataHub and removals soft-delete, so what did not change stays
// as the last sync left it; a file of MCPs is replaced by each sync and needs every asset.
// With nothing changed, the file is left as it is, if it is there.
func (s *Sink) TakesChanges(_ context.Context, run sink.Run) bool {
	if s.rest != nil {
		return true
	}
	st, err := os.Stat(s.cfg.File)
	return run.Unchanged && err == nil && st.Mode().IsRegular()
}

// Begin starts a run. In file mode a sync writes a new file beside the target (renamed
// over it on Commit); other runs carry nothing DataHub takes, and leave it alone.
func (s *Sink) Begin(_ context.Context, run sink.Run) error {
	tables, err := loadState(s.cfg.StateFile)
	if err != nil {
		return fmt.Errorf("state_file: %w", err)
	}
	s.m, s.warned = newMapper(s.n, s.cfg.Upstream, s.opt, tables), false
	if s.rest != nil {
		s.out = s.rest
		return nil
	}
	s.out = nil
	if !run.Kind.Replaces() || run.ChangesOnly {
		return nil // a run of no changes (TakesChanges) leaves the file as it is
	}
	fe, err := newFileEmitter(s.cfg.File, run, sink.FileOptions{KeepPartial: s.cfg.KeepPartial, Logger: s.logger})
	if err != nil {
		return err
	}
	s.file, s.out = fe, fe
	return nil
}

// Commit puts a sync's file in place and then its state file (in server mode every
// batch was delivered, and the state saved, already).
func (s *Sink) Commit(context.Context) error {
	s.out = nil
	if s.file == nil {
		return nil
	}
	fe := s.file
	s.file = nil
	if err := fe.commit(); err != nil {
		return err
	}
	if s.cfg.StateFile != "" {
		if err := saveState(s.cfg.StateFile, s.m.children); err != nil {
			return fmt.Errorf("state_file: %w", err)
		}
	}
	return nil
}

// Abort leaves the target file (and the state file) as they were.
func (s *Sink) Abort(_ context.Context, reason string) error {
	s.out = nil
	if s.file == nil {
		return nil
	}
	fe := s.file
	s.file = nil
	return fe.abort(reason)
}

// WriteBatch maps the batch to MCPs and delivers them all before acknowledging.
func (s *Sink) WriteBatch(ctx context.Context, events []event.Event) error {
	if s.m == nil {
		return errors.New("datahub: no run is open")
	}
	var mcps []MCP
	for i := range events {
		e := &events[i]
		if e.Kind == event.KindRemoved && s.cfg.StateFile == "" && len(s.m.children[childKey(e.Removed.PowerBI)]) == 0 && !s.warned {
			s.warned = true
			s.logger.Warn("an asset was removed but what pbisync made under it (tables, pages, tiles) is unknown without state_file: only the asset itself is soft-deleted",
				"asset", e.Removed.PowerBI.String())
		}
		ms, err := s.m.mcps(e)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		mcps = append(mcps, ms...)
	}
	if s.out == nil {
		if len(mcps) > 0 {
			return errors.New("catalog metadata outside a sync: the DataHub file takes it only from a sync")
		}
		return nil
	}
	if err := s.out.emit(ctx, mcps); err != nil {
		return err
	}
	if s.rest != nil && s.cfg.StateFile != "" {
		if err := saveState(s.cfg.StateFile, s.m.children); err != nil {
			return fmt.Errorf("state_file: %w", err)
		}
	}
	return nil
}

// Close releases the HTTP client; a file still open is abandoned (the kit commits or
// aborts a run before Close).
func (s *Sink) Close(ctx context.Context) error {
	if s.file != nil {
		return s.Abort(ctx, "closed with the run open")
	}
	if s.rest != nil {
		return s.rest.close()
	}
	return nil
}

func loadState(path string) (map[string][]string, error) {
	tables := map[string][]string{}
	if path == "" {
		return tables, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return tables, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &tables); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tables, nil
}

// saveState writes the file whole and renames it into place, so a crash leaves the old one.
func saveState(path string, tables map[string][]string) error {
	data, err := json.MarshalIndent(tables, "", " ")
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := writeSynced(tmp, data); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeSynced writes a file and flushes it to disk, so a rename of it survives a crash.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

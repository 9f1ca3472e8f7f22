// Package openlineage is the OpenLineage sink: semantic model refreshes become runs of a
// job (START, RUNNING, COMPLETE, FAIL, ABORT) with the model's upstream tables and data
// sources as inputs and its tables, with schema facets, as outputs; semantic model
// tables, reports, dashboards and data sources become dataset events with lineage.
// Events go over HTTP in the Marquez API shape (POST /api/v1/lineage) or to a JSON
// Lines file. README.md documents the mapping.
package openlineage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
)

// Config is the sink's section in pipeline.yaml.
type Config struct {
	// URL is the OpenLineage backend, e.g. http://localhost:5000 for Marquez. Give URL or File.
	URL string `json:"url"`
	// Endpoint is the path events are posted to (default /api/v1/lineage).
	Endpoint string `json:"endpoint"`
	// APIKey is sent as "Authorization: Bearer".
	APIKey sink.Secret `json:"api_key"`
	// File receives the events as JSON Lines instead. A sync replaces it whole when it
	// completes (a failed one leaves it as it was); refreshes add their runs to it.
	File string `json:"file"`
	// KeepPartial keeps a failed sync's unfinished file as FILE.partial.
	KeepPartial bool `json:"keep_partial"`
	// Namespace is the namespace of refresh jobs (default pbisync).
	Namespace string `json:"namespace"`
	// DatasetNamespace is the namespace of Power BI datasets (default powerbi).
	DatasetNamespace string `json:"dataset_namespace"`
	// UpstreamNamespace, when set, names the warehouse dependency keys of a model none
	// of whose tables' M resolved, e.g. mssql://server:1433. Unset (the default), only
	// tables with a physical name (platform and server from the M) become datasets.
	UpstreamNamespace string `json:"upstream_namespace"`
	// DatabricksNaming is the namespace form of Databricks tables: "unitycatalog"
	// (default, unitycatalog://{host} as OpenLineage's naming spec lists Unity Catalog)
	// or "databricks" (databricks://{host}, as dbt's OpenLineage integration writes).
	DatabricksNaming string `json:"databricks_naming"`
	// Producer is the producer URI of every event and facet.
	Producer string `json:"producer"`
	// Specs sends dataset events for asset specs (default true); false sends only runs.
	Specs *bool `json:"specs"`
	// StateFile remembers each semantic model's inputs and tables across syncs, so a
	// refresh run without the model's spec in the same sync still carries them.
	StateFile string `json:"state_file"`
	// Timeout bounds one request (default 30s).
	Timeout sink.Duration `json:"timeout"`
	// Retries on network errors, 408, 429 and 5xx (default 3).
	Retries *int `json:"retries"`
}

// DefaultProducer names pbisync as the producer of events.
const DefaultProducer = "https://github.com/pbisync/pbisync/tree/main/plugins/sinks/openlineage"

// Sink sends OpenLineage events.
type Sink struct {
	cfg Config
	// unchanged is set for a sync of no changes into a file (TakesChanges), which is
	// left as it is.
	unchanged bool
	b         *builder
	client    *http.Client
	target    string
	retries   int
	f         *sink.RunFile // the run's file, in file mode
	w         *bufio.Writer
	logger    *slog.Logger
	now       func() time.Time
}

// New returns an unconfigured sink.
func New() *Sink { return &Sink{now: time.Now} }

// Check checks the config without opening the target (`pbisync validate`).
func (s *Sink) Check(_ context.Context, c sink.Config) error {
	return New().decode(c)
}

// decode decodes and checks the config, applies defaults and loads the state file:
// everything Configure does before it opens the target.
func (s *Sink) decode(c sink.Config) error {
	if err := c.Decode(&s.cfg); err != nil {
		return err
	}
	cfg := &s.cfg
	switch {
	case cfg.URL == "" && cfg.File == "":
		return sink.ConfigErrorf("", "give url (an OpenLineage backend such as Marquez) or file")
	case cfg.URL != "" && cfg.File != "":
		return sink.ConfigErrorf("file", "give url or file, not both")
	}
	for _, d := range []struct {
		v   *string
		def string
	}{{&cfg.Endpoint, "/api/v1/lineage"}, {&cfg.Namespace, "pbisync"}, {&cfg.DatasetNamespace, "powerbi"},
		{&cfg.DatabricksNaming, "unitycatalog"}, {&cfg.Producer, DefaultProducer}} {
		if *d.v == "" {
			*d.v = d.def
		}
	}
	if cfg.DatabricksNaming != "unitycatalog" && cfg.DatabricksNaming != "databricks" {
		return sink.ConfigErrorf("databricks_naming", "want unitycatalog or databricks, got %q", cfg.DatabricksNaming)
	}
	if u, err := url.Parse(cfg.Producer); err != nil || u.Scheme == "" {
		return sink.ConfigErrorf("producer", "want a URI, got %q", cfg.Producer)
	}
	if !strings.HasPrefix(cfg.Endpoint, "/") {
		return sink.ConfigErrorf("endpoint", "want a path starting with /, got %q", cfg.Endpoint)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = sink.Duration(30 * time.Second)
	}
	s.retries = 3
	if cfg.Retries != nil {
		if *cfg.Retries < 0 {
			return sink.ConfigErrorf("retries", "retries must be 0 or more")
		}
		s.retries = *cfg.Retries
	}
	s.logger = c.Logger
	if err := newBuilder(cfg).loadState(cfg.StateFile); err != nil {
		return sink.ConfigErrorf("state_file", "%v", err)
	}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return sink.ConfigErrorf("url", "want an http(s) URL such as http://localhost:5000, got %q", cfg.URL)
		}
	}
	return nil
}

// Configure checks the config and opens the target.
func (s *Sink) Configure(_ context.Context, c sink.Config) error {
	if err := s.decode(c); err != nil {
		return err
	}
	cfg := &s.cfg
	if cfg.URL != "" {
		s.target = strings.TrimRight(cfg.URL, "/") + cfg.Endpoint
		s.client = &http.Client{Timeout: time.Duration(cfg.Timeout)}
		return nil
	}
	if st, err := os.Stat(cfg.File); err == nil && st.IsDir() {
		return sink.ConfigErrorf("file", "%s is a folder", cfg.File)
	}
	return nil
}

// Accepts names the events that become OpenLineage events.
func (s *Sink) Accepts() []event.Kind {
	if s.cfg.Specs != nil && !*s.cfg.Specs {
		return []event.Kind{event.KindRefresh}
	}
	return []event.Kind{event.KindSpec, event.KindRemoved, event.KindRefresh}
}

// TakesChanges reports whether a sync of changes only can be applied: events posted to a
// backend add to what it holds; a file of events is replaced by each sync and needs every
// asset.
// With nothing changed, the file is left as it is, if it is there.
func (s *Sink) TakesChanges(_ context.Context, run sink.Run) bool {
	if s.cfg.File == "" {
		return true
	}
	st, err := os.Stat(s.cfg.File)
	return run.Unchanged && err == nil && st.Mode().IsRegular()
}

// Begin starts a run with the state the last committed run left. In file mode a sync
// writes a new file beside the target, renamed over it on Commit; a refresh or a
// stream appends its events to the target.
func (s *Sink) Begin(_ context.Context, run sink.Run) error {
	b := newBuilder(&s.cfg)
	if s.logger != nil {
		b.warn = s.logger.Warn
	}
	if err := b.loadState(s.cfg.StateFile); err != nil {
		return fmt.Errorf("state_file: %w", err)
	}
	s.b = b
	s.unchanged = run.ChangesOnly && s.cfg.File != ""
	if s.cfg.File == "" || s.unchanged {
		return nil
	}
	f, err := sink.OpenRunFile(s.cfg.File, run, sink.FileOptions{KeepPartial: s.cfg.KeepPartial, Logger: s.logger})
	if err != nil {
		return err
	}
	s.f, s.w = f, bufio.NewWriter(f)
	return nil
}

// Commit puts the run's file in place, then the state it leaves.
func (s *Sink) Commit(context.Context) error {
	if s.f != nil {
		f, w := s.f, s.w
		s.f, s.w = nil, nil
		if err := w.Flush(); err != nil {
			f.Abort(err.Error())
			return fmt.Errorf("%s: %w", f.Path(), err)
		}
		if err := f.Commit(); err != nil {
			return err
		}
	}
	if s.b == nil {
		return nil
	}
	return s.b.saveState(s.cfg.StateFile)
}

// Abort leaves a sync's target file, and the state file, as they were.
func (s *Sink) Abort(_ context.Context, reason string) error {
	if s.f == nil {
		return nil
	}
	f := s.f
	s.f, s.w = nil, nil
	return f.Abort(reason)
}

// WriteBatch sends the batch's events in order; the batch is acknowledged when all were accepted.
func (s *Sink) WriteBatch(ctx context.Context, events []event.Event) error {
	if s.b == nil {
		return errors.New("openlineage: no run is open")
	}
	if s.unchanged {
		// A sync of no changes into a file, which stays as it is: only its summary
		// comes, which is no OpenLineage event.
		for i := range events {
			if events[i].Kind == event.KindSpec || events[i].Kind == event.KindRemoved {
				return fmt.Errorf("event %d: a %s event in a sync that was begun as having no changes", i, events[i].Kind)
			}
		}
		return nil
	}
	now := s.now()
	for i := range events {
		e := &events[i]
		if (e.Kind == event.KindSpec || e.Kind == event.KindRemoved) && s.cfg.Specs != nil && !*s.cfg.Specs {
			continue
		}
		if e.Kind == event.KindRefresh && e.Refresh.RequestID == "" {
			// A refresh refused before it started (the model was refreshing already,
			// say) is no run; failing the batch would lose the others with it.
			if s.logger != nil {
				s.logger.Warn("a refresh that never started is not an OpenLineage run: skipped", "model", e.Refresh.Model.String(), "error", e.Refresh.Error)
			}
			continue
		}
		ols, err := s.b.events(e, now)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		for _, ol := range ols {
			body, err := json.Marshal(ol)
			if err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			if s.f != nil {
				s.w.Write(body)
				s.w.WriteByte('\n')
				continue
			}
			if err := s.post(ctx, body); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
	}
	if s.f != nil {
		if err := s.w.Flush(); err != nil {
			return fmt.Errorf("%s: %w", s.f.Path(), err)
		}
		return s.f.Sync()
	}
	// Over HTTP every event was delivered: the state follows at once.
	if err := s.b.saveState(s.cfg.StateFile); err != nil {
		return fmt.Errorf("state_file: %w", err)
	}
	return nil
}

func (s *Sink) post(ctx context.Context, body []byte) error {
	var last error
	for attempt := 0; attempt <= s.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.target, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		if !s.cfg.APIKey.IsZero() {
			req.Header.Set("Authorization", "Bearer "+s.cfg.APIKey.Reveal())
		}
		resp, err := s.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = fmt.Errorf("POST %s: %w", s.target, err)
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("POST %s: %s: %s", s.target, resp.Status, bytes.TrimSpace(msg))
		if resp.StatusCode/100 == 4 && resp.StatusCode != 408 && resp.StatusCode != 429 {
			return last
		}
	}
	return fmt.Errorf("after %d attempts: %w", s.retries+1, last)
}

// Close releases the HTTP client; a file still open is abandoned (the kit commits or
// aborts a run before Close).
func (s *Sink) Close(ctx context.Context) error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	if s.f != nil {
		return s.Abort(ctx, "closed with the run open")
	}
	return nil
}

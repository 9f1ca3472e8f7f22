// Package serve runs pbisync as a service: syncs and refreshes on cron schedules, an HTTP
// endpoint that refreshes the models downstream of changed upstream tables (for a dbt or
// Airflow job to call), health and Prometheus metrics, and graceful shutdown. Refreshes
// it started are kept in the state store, so a restarted server goes on following them.
package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"github.com/pbisync/pbisync/core/estate"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/pbisync/pbisync/core/config"
	"github.com/pbisync/pbisync/core/engine"
	"github.com/pbisync/pbisync/core/refresh"
	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
)

// Config is the `serve` section of a pipeline.
type Config struct {
	// Addr is where the HTTP endpoints listen (default 127.0.0.1:8089).
	Addr string `yaml:"addr"`
	// Token authenticates POST requests (Authorization: Bearer TOKEN). Required.
	Token config.Secret `yaml:"token"`
	// Sync and Refresh are cron schedules ("*/30 * * * *", "@every 1h", "@daily") for a
	// sync, and for a refresh of the pipeline's refresh selection.
	Sync    string `yaml:"sync"`
	Refresh string `yaml:"refresh"`
	// SyncOnStart syncs once at start, so the models are known (default true).
	SyncOnStart *bool `yaml:"sync_on_start"`
	// ShutdownTimeout bounds how long a shutdown waits for a running sync (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Decode reads and checks a serve section.
func Decode(n config.Node) (*Config, error) {
	c := &Config{}
	if n.Node != nil {
		if err := config.Decode(n, c); err != nil {
			return nil, err
		}
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8089"
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return nil, config.Errorf(n.Child("addr"), "addr: %v", err)
	}
	if c.Token.IsZero() {
		return nil, config.Errorf(n, "serve: a token is required (token: ${env:PBISYNC_SERVE_TOKEN}); callers send it as Authorization: Bearer TOKEN")
	}
	parser := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	for _, f := range []struct{ key, spec string }{{"sync", c.Sync}, {"refresh", c.Refresh}} {
		if f.spec == "" {
			continue
		}
		if _, err := parser.Parse(f.spec); err != nil {
			return nil, config.Errorf(n.Child(f.key), "%s: not a cron schedule: %v", f.key, err)
		}
	}
	if c.SyncOnStart == nil {
		t := true
		c.SyncOnStart = &t
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	return c, nil
}

// Server is a running `pbisync serve`.
type Server struct {
	cfg     *Config
	eng     *engine.Engine
	log     *slog.Logger
	journal refresh.Journal
	metrics *metrics

	mu       sync.Mutex
	models   []engine.Model
	lastSync *engine.Result
	recent   []refreshView // newest last, bounded
	running  map[string]*refreshView

	syncMu sync.Mutex     // one sync at a time
	jobs   sync.WaitGroup // syncs
	follow sync.WaitGroup // refreshes being followed
	ln     net.Listener
	// syncCtx runs syncs: cancelled only when a shutdown times out. refreshCtx runs
	// refreshes: cancelled when a shutdown starts, leaving them to the journal.
	syncCtx, refreshCtx context.Context
}

// refreshView is what GET /v1/refreshes shows of a refresh.
type refreshView struct {
	RequestID   string    `json:"requestId"`
	Model       string    `json:"model"`
	ModelID     string    `json:"modelId"`
	WorkspaceID string    `json:"workspaceId"`
	State       string    `json:"state"`
	Trigger     string    `json:"trigger"`
	RequestedAt time.Time `json:"requestedAt,omitzero"`
	EndedAt     time.Time `json:"endedAt,omitzero"`
	Error       string    `json:"error,omitempty"`
}

// New prepares a server on an engine; Run starts it. The engine's Journal (the state
// store's, from FromPipeline) keeps the refreshes across restarts.
func New(cfg *Config, eng *engine.Engine, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	journal := eng.Journal
	// A shutdown stops following refreshes; it must not cancel them: a restarted
	// server resumes them from the journal.
	rc := *eng.RefreshConfig()
	f := false
	rc.CancelOnInterrupt = &f
	eng.SetRefreshConfig(&rc)
	return &Server{cfg: cfg, eng: eng, log: log, journal: journal, metrics: newMetrics(), running: map[string]*refreshView{}}
}

// Addr is the address the server listens on, once Run has started it.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully: no new work, the running sync
// finished (up to ShutdownTimeout), refreshes left running in the service and kept in
// the journal for the next start.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	srv := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	s.log.Info("serving", "addr", ln.Addr().String())

	syncCtx, stopSyncs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSyncs()
	refreshCtx, stopRefreshes := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRefreshes()
	s.mu.Lock()
	s.syncCtx, s.refreshCtx = syncCtx, refreshCtx
	s.mu.Unlock()
	// Syncs, refreshes and upstream triggers share each output through the engine's
	// stream: one writer per output, never two.
	s.eng.StartStream(syncCtx)
	defer s.eng.StopStream(context.WithoutCancel(ctx))
	s.resume(refreshCtx)
	if *s.cfg.SyncOnStart {
		s.jobs.Go(func() { s.sync(syncCtx, "start") })
	}
	c := cron.New()
	if s.cfg.Sync != "" {
		c.AddFunc(s.cfg.Sync, func() { s.jobs.Go(func() { s.sync(syncCtx, "schedule") }) })
	}
	if s.cfg.Refresh != "" {
		c.AddFunc(s.cfg.Refresh, func() { s.refresh(refreshCtx, nil, "schedule") })
	}
	c.Start()
	if ready != nil {
		ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-httpErr:
		runErr = fmt.Errorf("serve: %w", runErr)
	}
	s.log.Info("shutting down")
	<-c.Stop().Done()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	_ = srv.Shutdown(sctx)
	// Stop following refreshes (they go on in the service and stay in the journal);
	// let a running sync finish, within the timeout.
	stopRefreshes()
	s.follow.Wait()
	done := make(chan struct{})
	go func() { s.jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		stopSyncs()
		s.log.Warn("shutdown timed out; stopping the running sync")
		<-done
	}
	return runErr
}

func (s *Server) sync(ctx context.Context, trigger string) {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	// Keep the models' specs: the refreshes it triggers later send them with their events.
	res, err := s.eng.Run(ctx, engine.RunOptions{ModelSpecs: true})
	s.metrics.sync(err == nil, time.Since(start), res)
	if err != nil {
		s.log.Error("sync failed", "trigger", trigger, "error", err)
		return
	}
	s.mu.Lock()
	s.models, s.lastSync = res.Models, res
	s.mu.Unlock()
	s.log.Info("sync finished", "trigger", trigger, "models", len(res.Models), "problems", res.Errors(), "duration", time.Since(start).Round(time.Millisecond))
}

// refresh refreshes the models named (ids), or the pipeline's selection, in the background.
func (s *Server) refresh(ctx context.Context, ids []string, trigger string) {
	s.mu.Lock()
	models := s.models
	s.mu.Unlock()
	if len(models) == 0 {
		s.log.Warn("no sync has finished yet: nothing to refresh", "trigger", trigger)
		return
	}
	s.follow.Go(func() {
		outs, err := s.eng.RefreshModels(ctx, models, ids, func(ev event.Refresh) { s.observe(ev, trigger) })
		if err != nil {
			s.log.Error("refresh", "trigger", trigger, "error", err)
		}
		for _, o := range outs {
			if o.RequestID == "" && o.Err != nil {
				s.log.Error("refresh not started", "model", o.Target.Name, "error", o.Err)
			}
		}
	})
}

// observe keeps the state of each refresh for the API and the metrics.
func (s *Server) observe(ev event.Refresh, trigger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.running[ev.RequestID]
	if v == nil {
		v = &refreshView{RequestID: ev.RequestID, Model: ev.Model.Name, ModelID: ev.Model.ID, WorkspaceID: ev.Model.WorkspaceID, Trigger: trigger}
		s.running[ev.RequestID] = v
	}
	v.State, v.RequestedAt, v.EndedAt, v.Error = string(ev.State), ev.RequestedAt, ev.EndedAt, ev.Error
	switch ev.State {
	case event.RefreshRequested, event.RefreshStarted:
		if ev.State == event.RefreshRequested {
			s.metrics.refreshStarted()
		}
		return
	}
	delete(s.running, ev.RequestID)
	s.metrics.refreshEnded(string(ev.State))
	s.recent = append(s.recent, *v)
	if len(s.recent) > 200 {
		s.recent = s.recent[len(s.recent)-200:]
	}
}

// resume follows the refreshes a previous process started and did not see end.
func (s *Server) resume(ctx context.Context) {
	if s.journal == nil {
		return
	}
	runs, err := s.journal.Unfinished(ctx)
	if err != nil {
		s.log.Error("reading the refresh journal", "error", err)
		return
	}
	if len(runs) == 0 {
		return
	}
	cfg := s.eng.RefreshConfig()
	names, apis := s.eng.RefreshAPIs()
	if len(names) == 0 {
		s.log.Error("refreshes to resume, but no source reads from Power BI", "refreshes", len(runs))
		return
	}
	// Each refresh is followed through the source that started it; one journaled
	// before sources were recorded goes to the first.
	bySource := map[string][]refresh.Run{}
	for _, run := range runs {
		src := run.Source
		if _, ok := apis[src]; !ok {
			if src != "" {
				s.log.Warn("the source that started a refresh is gone from the pipeline; following it through another", "source", src, "request_id", run.RequestID)
			}
			src = names[0]
		}
		bySource[src] = append(bySource[src], run)
	}
	for src, list := range bySource {
		s.follow.Go(func() {
			r := &refresh.Refresher{API: apis[src], Source: src, Config: cfg, Logger: s.log, Journal: s.journal,
				OnEvent: func(ev event.Refresh) { s.observe(ev, "resumed"); s.eng.StreamRefresh(ev) }}
			r.Resume(ctx, list)
		})
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /v1/refreshes", s.handleRefreshes)
	mux.HandleFunc("POST /v1/upstream-changed", s.auth(s.handleUpstream))
	mux.HandleFunc("POST /v1/sync", s.auth(s.handleSync))
	if src := s.eng.Estate(); src != nil {
		// The read-only estate API (/api/...) and the web UI (/).
		mux.Handle("/", estate.Handler(src, s.log))
	}
	return mux
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + s.cfg.Token.Reveal())
	return func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="pbisync"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		h(w, r)
	}
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	body := map[string]any{"status": "ok", "models": len(s.models), "running_refreshes": len(s.running)}
	if s.lastSync != nil {
		body["last_sync"] = s.lastSync.Summary.EndedAt
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleRefreshes(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := map[string]any{"recent": append([]refreshView{}, s.recent...)}
	var running []refreshView
	for _, v := range s.running {
		running = append(running, *v)
	}
	out["running"] = running
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// upstreamRequest names changed upstream assets by key, as ["db","schema","table"] or
// "db/schema/table".
type upstreamRequest struct {
	Keys []json.RawMessage `json:"keys"`
}

func (s *Server) handleUpstream(w http.ResponseWriter, r *http.Request) {
	var req upstreamRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"keys\": [[\"db\",\"schema\",\"table\"], \"db/schema/table\", ...]}: " + err.Error()})
		return
	}
	var keys []spec.Key
	for i, raw := range req.Keys {
		var k spec.Key
		var str string
		switch {
		case json.Unmarshal(raw, &k) == nil:
		case json.Unmarshal(raw, &str) == nil:
			k = strings.Split(str, "/")
		}
		if err := k.Validate(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("keys[%d]: %v", i, err)})
			return
		}
		keys = append(keys, k)
	}
	s.metrics.trigger()
	s.mu.Lock()
	models := s.models
	s.mu.Unlock()
	if models == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no sync has finished yet; try again shortly"})
		return
	}
	ids := engine.Downstream(models, keys)
	var names []string
	for _, m := range models {
		for _, id := range ids {
			if m.Record.Spec.PowerBI.ID == id {
				names = append(names, m.Record.Spec.PowerBI.Name)
			}
		}
	}
	if len(ids) > 0 {
		s.mu.Lock()
		ctx := s.refreshCtx
		s.mu.Unlock()
		s.refresh(ctx, ids, "upstream")
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"models": names, "ids": ids})
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ctx := s.syncCtx
	s.mu.Unlock()
	s.jobs.Go(func() { s.sync(ctx, "api") })
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "sync started"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

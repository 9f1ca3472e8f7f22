// Package sqlite is the SQLite catalog sink: it keeps a queryable catalog of assets,
// their dependencies, metadata, tags and column schemas, refresh runs and syncs in an
// embedded SQLite database (the pure-Go modernc.org/sqlite driver). README.md
// documents the schema.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/spec"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Config is the sink's section in pipeline.yaml.
type Config struct {
	// Path is the database file; it is created when missing.
	Path string `json:"path" required:"true"`
	// DeleteRemoved deletes removed assets instead of setting their removed_at.
	DeleteRemoved bool `json:"delete_removed"`
}

// Sink writes the catalog.
type Sink struct {
	cfg    Config
	logger *slog.Logger
	// staging is the id of the sync being staged; "" outside a sync.
	staging string
	db      *sql.DB
	now     func() time.Time
	stmts   map[string]*sql.Stmt // prepared once: parsing SQL per row costs more than the row
}

// txn is one batch's transaction with the sink's prepared statements.
type txn struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *txn) exec(ctx context.Context, query string, args ...any) error {
	st, ok := t.stmts[query]
	if !ok {
		_, err := t.tx.ExecContext(ctx, query, args...)
		return err
	}
	_, err := t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return err
}

// New returns an unconfigured sink.
func New() *Sink { return &Sink{now: time.Now} }

// Check checks the config without creating or changing the database (`pbisync
// validate`): what Configure checks.
func (s *Sink) Check(ctx context.Context, c sink.Config) error {
	return New().decode(ctx, c)
}

// Configure checks the config and, when the database exists, that it is a catalog
// this sink can write. The database is opened by Begin.
func (s *Sink) Configure(ctx context.Context, c sink.Config) error {
	s.logger = c.Logger
	return s.decode(ctx, c)
}

// decode decodes and checks the config, and reads (never writes) an existing database's
// schema version.
func (s *Sink) decode(ctx context.Context, c sink.Config) error {
	if err := c.Decode(&s.cfg); err != nil {
		return err
	}
	if strings.TrimSpace(s.cfg.Path) == "" {
		return sink.ConfigErrorf("path", "path is empty")
	}
	st, err := os.Stat(s.cfg.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return sink.ConfigErrorf("path", "%v", err)
	case st.IsDir():
		return sink.ConfigErrorf("path", "%s is a folder", s.cfg.Path)
	}
	db, err := sql.Open("sqlite", "file:"+s.cfg.Path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return sink.ConfigErrorf("path", "%v", err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return sink.ConfigErrorf("path", "%s is not a readable SQLite database: %v", s.cfg.Path, err)
	}
	if v > schemaVersion {
		return sink.ConfigErrorf("path", "%s has catalog schema version %d; this sink knows %d", s.cfg.Path, v, schemaVersion)
	}
	return nil
}

// Begin opens the database (creating it and its schema when missing). A sync is staged
// (staging.go): each batch is committed into the staging tables, and Commit applies the
// whole sync to the catalog in one transaction, so a sync that fails leaves the catalog
// as the last completed one left it, and a sink restarted within a sync (run.Resume)
// carries on with what its earlier process staged. A refresh or a stream commits every
// batch to the catalog.
func (s *Sink) Begin(ctx context.Context, run sink.Run) error {
	if s.db == nil {
		if err := s.open(ctx); err != nil {
			return err
		}
	}
	s.staging = ""
	if !run.Kind.Replaces() {
		return nil
	}
	return s.beginStaging(ctx, run)
}

// TakesChanges reports whether a sync of changes only can be applied: the catalog holds
// a completed sync already (every statement is an upsert, and removals are sent), so
// only a new, emptied or never-synced catalog needs every asset.
func (s *Sink) TakesChanges(ctx context.Context, run sink.Run) bool {
	if s.db == nil {
		if err := s.open(ctx); err != nil {
			return false // Begin reports it
		}
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM syncs`).Scan(&n); err != nil {
		return false
	}
	return n > 0
}

// Commit applies a staged sync to the catalog, in one transaction.
func (s *Sink) Commit(ctx context.Context) error {
	if s.staging == "" {
		return nil
	}
	return s.commitStaging(ctx)
}

// Abort drops a sync's staging: the catalog stays as the last completed sync left it.
func (s *Sink) Abort(ctx context.Context, reason string) error {
	if s.staging == "" {
		return nil
	}
	if err := s.abortStaging(ctx); err != nil {
		return err
	}
	if s.logger != nil {
		s.logger.Warn("sync aborted: the catalog is left as the last completed sync left it", "file", s.cfg.Path, "reason", reason)
	}
	return nil
}

func (s *Sink) open(ctx context.Context) error {
	if dir := filepath.Dir(s.cfg.Path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	db, err := sql.Open("sqlite", "file:"+s.cfg.Path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		db.Close()
		return fmt.Errorf("%s is not a readable SQLite database: %w", s.cfg.Path, err)
	}
	if v > schemaVersion {
		db.Close()
		return fmt.Errorf("%s has catalog schema version %d; this sink knows %d", s.cfg.Path, v, schemaVersion)
	}
	if v < schemaVersion {
		// Only a new or older catalog is written here: a current one is left byte for
		// byte as it is until a run writes to it.
		if _, err := db.ExecContext(ctx, schema); err != nil {
			db.Close()
			return fmt.Errorf("%s: creating the schema: %w", s.cfg.Path, err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
			db.Close()
			return fmt.Errorf("%s: %w", s.cfg.Path, err)
		}
	}
	s.db = db
	s.stmts = map[string]*sql.Stmt{}
	for _, q := range prepared {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			db.Close()
			s.db = nil
			return fmt.Errorf("%s: %w", s.cfg.Path, err)
		}
		s.stmts[q] = st
	}
	return nil
}

// WriteBatch stages a sync's batch, or applies a refresh's or a stream's batch to the
// catalog; either way it is committed (and synced to disk) before WriteBatch returns,
// so an acknowledged batch survives the process. Every statement is an upsert or an
// idempotent update, so a batch sent again after a restart changes nothing twice.
func (s *Sink) WriteBatch(ctx context.Context, events []event.Event) error {
	if s.db == nil {
		return errors.New("sqlite: no run is open")
	}
	if s.staging != "" {
		return s.stageBatch(ctx, events)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	defer tx.Rollback()
	if err := s.apply(ctx, &txn{tx: tx, stmts: s.stmts}, events, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	return nil
}

// apply writes events to the catalog tables within t.
func (s *Sink) apply(ctx context.Context, t *txn, events []event.Event, now string) error {
	var err error
	for i := range events {
		e := &events[i]
		switch e.Kind {
		case event.KindSpec:
			err = upsertAsset(ctx, t, e.Spec, now)
		case event.KindRemoved:
			err = s.removeAsset(ctx, t, e.Removed, now)
		case event.KindRefresh:
			if e.Refresh.RequestID == "" {
				// A refresh refused before it started has no run to record; failing
				// the batch would lose the others with it.
				if s.logger != nil {
					s.logger.Warn("a refresh that never started has no refresh_runs row: skipped", "model", e.Refresh.Model.String(), "error", e.Refresh.Error)
				}
				continue
			}
			err = upsertRefresh(ctx, t, e.Refresh, now)
		case event.KindSummary:
			err = insertSync(ctx, t, e.Summary)
		}
		if err != nil {
			return fmt.Errorf("%s: event %d (%s): %w", s.cfg.Path, i, e.Kind, err)
		}
	}
	return nil
}

// Close closes the database; a sync still open is aborted.
func (s *Sink) Close(ctx context.Context) error {
	if s.staging != "" {
		s.Abort(ctx, "closed with the run open")
	}
	if s.db == nil {
		return nil
	}
	for _, st := range s.stmts {
		st.Close()
	}
	err := s.db.Close()
	s.db = nil
	return err
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func upsertAsset(ctx context.Context, t *txn, a *spec.AssetSpec, now string) error {
	key := a.Key.String()
	id := a.PowerBI
	// A translator may have changed this asset's key since the last sync: the old row goes.
	if err := t.exec(ctx, sqlDeleteRekeyed,
		string(id.Type), id.ID, key); err != nil {
		return err
	}
	if err := t.exec(ctx, sqlUpsertAsset,
		key, jsonText(orEmpty(a.Key)), string(id.Type), id.ID, id.Name, id.WorkspaceID, id.WorkspaceName,
		a.Description, a.Group, jsonText(orEmpty(a.Kinds)), jsonText(orEmpty(a.Owners)), now, now); err != nil {
		return err
	}
	for _, table := range []string{"asset_deps", "asset_metadata", "asset_tags", "asset_columns"} {
		if err := t.exec(ctx, deleteFrom[table], key); err != nil {
			return err
		}
	}
	for i, d := range a.Deps {
		if err := t.exec(ctx, sqlInsertDep, key, d.String(), i); err != nil {
			return err
		}
	}
	for name, m := range a.Metadata {
		if err := t.exec(ctx, sqlInsertMetadata,
			key, name, string(m.Type), jsonText(m.Value)); err != nil {
			return err
		}
		if ts, ok := m.Value.(spec.TableSchema); ok && m.Type == spec.TypeTableSchema {
			table := tableName(name, a)
			for pos, c := range ts.Columns {
				if err := t.exec(ctx, sqlInsertColumn, key, table, pos, c.Name, c.Type, c.Description); err != nil {
					return err
				}
			}
		}
	}
	for name, v := range a.Tags {
		if err := t.exec(ctx, sqlInsertTag, key, name, v); err != nil {
			return err
		}
	}
	return nil
}

// tableName names the table a column-schema metadata entry describes, following
// dagster-powerbi: "dagster/column_schema" with "dagster/table_name", or
// "<table>_column_schema".
func tableName(metadataName string, a *spec.AssetSpec) string {
	if metadataName == "dagster/column_schema" {
		if t, ok := a.Metadata["dagster/table_name"].Value.(string); ok && t != "" {
			return t
		}
		return a.PowerBI.Name
	}
	if t, ok := strings.CutSuffix(metadataName, "_column_schema"); ok && t != "" {
		return t
	}
	return metadataName
}

func (s *Sink) removeAsset(ctx context.Context, t *txn, r *event.Removed, now string) error {
	key := r.Key.String()
	if s.cfg.DeleteRemoved {
		err := t.exec(ctx, sqlDeleteRemoved,
			key, string(r.PowerBI.Type), r.PowerBI.ID)
		return err
	}
	err := t.exec(ctx, sqlMarkRemoved,
		now, now, key, string(r.PowerBI.Type), r.PowerBI.ID)
	return err
}

func timeText(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func upsertRefresh(ctx context.Context, t *txn, r *event.Refresh, now string) error {
	if r.RequestID == "" {
		return errors.New("refresh event without a request id")
	}
	var duration any
	if !r.StartedAt.IsZero() && !r.EndedAt.IsZero() {
		duration = r.EndedAt.Sub(r.StartedAt).Milliseconds()
	}
	key := ""
	if len(r.Key) > 0 {
		key = r.Key.String()
	}
	// COALESCE keeps times learned from earlier states of the same refresh.
	if err := t.exec(ctx, sqlUpsertRefresh,
		r.RequestID, r.Model.ID, r.Model.Name, r.Model.WorkspaceID, r.Model.WorkspaceName, key, string(r.State),
		r.RefreshType, r.Enhanced, timeText(r.RequestedAt), timeText(r.StartedAt), timeText(r.EndedAt), duration, r.Error, now); err != nil {
		return err
	}
	for _, tr := range r.Tables {
		if err := t.exec(ctx, sqlUpsertRefreshTable, r.RequestID, tr.Table, tr.Partition, tr.Status); err != nil {
			return err
		}
	}
	return nil
}

func insertSync(ctx context.Context, t *txn, s *event.Summary) error {
	err := t.exec(ctx, sqlUpsertSync,
		s.StartedAt.UTC().Format(time.RFC3339Nano), s.EndedAt.UTC().Format(time.RFC3339Nano), s.Workspaces, s.Dropped, s.Removed,
		jsonText(nonNilMap(s.Assets)), jsonText(orEmpty(s.Problems)), jsonText(nonNilMap(s.Requests)))
	return err
}

func nonNilMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return map[string]V{}
	}
	return m
}

// The statements the sink prepares.
const (
	sqlDeleteRekeyed = `DELETE FROM assets WHERE type = ? AND powerbi_id = ? AND key <> ? AND powerbi_id <> ''`
	sqlUpsertAsset   = `INSERT INTO assets (key, key_parts, type, powerbi_id, name, workspace_id, workspace_name,
		description, group_name, kinds, owners, first_seen_at, updated_at, removed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
		ON CONFLICT (key) DO UPDATE SET key_parts = excluded.key_parts, type = excluded.type,
		powerbi_id = excluded.powerbi_id, name = excluded.name, workspace_id = excluded.workspace_id,
		workspace_name = excluded.workspace_name, description = excluded.description,
		group_name = excluded.group_name, kinds = excluded.kinds, owners = excluded.owners,
		updated_at = excluded.updated_at, removed_at = NULL`
	sqlInsertDep      = `INSERT OR IGNORE INTO asset_deps (asset_key, dep_key, position) VALUES (?, ?, ?)`
	sqlInsertMetadata = `INSERT INTO asset_metadata (asset_key, name, type, value) VALUES (?, ?, ?, ?)`
	sqlInsertColumn   = `INSERT OR REPLACE INTO asset_columns (asset_key, table_name, position, column_name, column_type, description)
					VALUES (?, ?, ?, ?, ?, ?)`
	sqlInsertTag     = `INSERT INTO asset_tags (asset_key, name, value) VALUES (?, ?, ?)`
	sqlDeleteRemoved = `DELETE FROM assets WHERE key = ? OR (type = ? AND powerbi_id = ? AND powerbi_id <> '')`
	sqlMarkRemoved   = `UPDATE assets SET removed_at = ?, updated_at = ?
		WHERE (key = ? OR (type = ? AND powerbi_id = ? AND powerbi_id <> '')) AND removed_at IS NULL`
	sqlUpsertRefresh = `INSERT INTO refresh_runs (request_id, model_id, model_name, workspace_id, workspace_name,
		asset_key, state, refresh_type, enhanced, requested_at, started_at, ended_at, duration_ms, error, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (request_id) DO UPDATE SET state = excluded.state,
		model_name = excluded.model_name, workspace_name = excluded.workspace_name,
		asset_key = CASE WHEN excluded.asset_key <> '' THEN excluded.asset_key ELSE asset_key END,
		refresh_type = CASE WHEN excluded.refresh_type <> '' THEN excluded.refresh_type ELSE refresh_type END,
		enhanced = excluded.enhanced,
		requested_at = COALESCE(excluded.requested_at, requested_at),
		started_at = COALESCE(excluded.started_at, started_at),
		ended_at = COALESCE(excluded.ended_at, ended_at),
		duration_ms = COALESCE(excluded.duration_ms, duration_ms),
		error = excluded.error, updated_at = excluded.updated_at`
	sqlUpsertRefreshTable = `INSERT INTO refresh_tables (request_id, table_name, partition, status) VALUES (?, ?, ?, ?)
			ON CONFLICT (request_id, table_name, partition) DO UPDATE SET status = excluded.status`
	sqlUpsertSync = `INSERT INTO syncs (started_at, ended_at, workspaces, dropped, removed, assets, problems, requests)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (started_at) DO UPDATE SET ended_at = excluded.ended_at,
		workspaces = excluded.workspaces, dropped = excluded.dropped, removed = excluded.removed,
		assets = excluded.assets, problems = excluded.problems, requests = excluded.requests`
)

var deleteFrom = map[string]string{
	"asset_deps":     "DELETE FROM asset_deps WHERE asset_key = ?",
	"asset_metadata": "DELETE FROM asset_metadata WHERE asset_key = ?",
	"asset_tags":     "DELETE FROM asset_tags WHERE asset_key = ?",
	"asset_columns":  "DELETE FROM asset_columns WHERE asset_key = ?",
}

var prepared = []string{
	sqlDeleteRekeyed, sqlUpsertAsset, sqlInsertDep, sqlInsertMetadata, sqlInsertColumn, sqlInsertTag,
	sqlDeleteRemoved, sqlMarkRemoved, sqlUpsertRefresh, sqlUpsertRefreshTable, sqlUpsertSync,
	deleteFrom["asset_deps"], deleteFrom["asset_metadata"], deleteFrom["asset_tags"], deleteFrom["asset_columns"],
}

package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/sdk/spec"
)

// RefreshRun is a refresh pbisync started, as the store keeps it until it ends, so a
// restarted `pbisync serve` goes on following it.
type RefreshRun struct {
	Source      string // the pipeline source that started it
	RequestID   string
	Pipeline    string
	WorkspaceID string
	ModelID     string
	Name        string
	Key         spec.Key
	Enhanced    bool
	RequestedAt time.Time
	Deadline    time.Time
	// State is empty while the refresh runs, then its final state (completed, ...).
	State   string
	EndedAt time.Time
	Error   string
}

func init() {
	addMigrations(migration{2, `
CREATE TABLE refresh_runs (
	request_id   TEXT PRIMARY KEY,
	pipeline     TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	model_id     TEXT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	key          TEXT NOT NULL DEFAULT '[]',
	enhanced     INTEGER NOT NULL DEFAULT 0,
	requested_at TEXT NOT NULL,
	deadline     TEXT NOT NULL,
	state        TEXT NOT NULL DEFAULT '',
	ended_at     TEXT NOT NULL DEFAULT '',
	error        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX refresh_runs_open ON refresh_runs (pipeline, state);`},
		migration{3, `ALTER TABLE refresh_runs ADD COLUMN source TEXT NOT NULL DEFAULT '';`},
		migration{4, estateSchema})
}

const stamp = time.RFC3339Nano

// BeginRefresh records a refresh that was just triggered.
func (s *Store) BeginRefresh(ctx context.Context, r RefreshRun) error {
	key, err := json.Marshal(r.Key)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO refresh_runs (request_id, pipeline, source, workspace_id, model_id, name, key, enhanced, requested_at, deadline)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
		r.RequestID, r.Pipeline, r.Source, r.WorkspaceID, r.ModelID, r.Name, string(key), r.Enhanced,
		r.RequestedAt.UTC().Format(stamp), r.Deadline.UTC().Format(stamp))
	if err != nil {
		return fmt.Errorf("state %s: refresh %s: %w", s.path, r.RequestID, err)
	}
	return nil
}

// EndRefresh records how a refresh ended.
func (s *Store) EndRefresh(ctx context.Context, requestID, state string, endedAt time.Time, errText string) error {
	if endedAt.IsZero() {
		endedAt = time.Now()
	}
	_, err := s.db.ExecContext(ctx, `UPDATE refresh_runs SET state = ?, ended_at = ?, error = ? WHERE request_id = ?`,
		state, endedAt.UTC().Format(stamp), errText, requestID)
	if err != nil {
		return fmt.Errorf("state %s: refresh %s: %w", s.path, requestID, err)
	}
	return nil
}

// OpenRefreshes returns the pipeline's refreshes that have not ended, oldest first.
func (s *Store) OpenRefreshes(ctx context.Context, pipeline string) ([]RefreshRun, error) {
	return s.refreshes(ctx, `WHERE pipeline = ? AND state = '' ORDER BY requested_at`, pipeline)
}

// Refreshes returns the pipeline's newest refreshes, newest first, at most limit.
func (s *Store) Refreshes(ctx context.Context, pipeline string, limit int) ([]RefreshRun, error) {
	return s.refreshes(ctx, `WHERE pipeline = ? ORDER BY requested_at DESC LIMIT ?`, pipeline, limit)
}

func (s *Store) refreshes(ctx context.Context, where string, args ...any) ([]RefreshRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT request_id, pipeline, source, workspace_id, model_id, name, key, enhanced,
		requested_at, deadline, state, ended_at, error FROM refresh_runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []RefreshRun
	for rows.Next() {
		var r RefreshRun
		var key, req, dl, ended string
		if err := rows.Scan(&r.RequestID, &r.Pipeline, &r.Source, &r.WorkspaceID, &r.ModelID, &r.Name, &key, &r.Enhanced,
			&req, &dl, &r.State, &ended, &r.Error); err != nil {
			return nil, fmt.Errorf("state %s: %w", s.path, err)
		}
		if err := json.Unmarshal([]byte(key), &r.Key); err != nil {
			return nil, fmt.Errorf("state %s: refresh %s: bad key %q: %w", s.path, r.RequestID, key, err)
		}
		r.RequestedAt, _ = time.Parse(stamp, req)
		r.Deadline, _ = time.Parse(stamp, dl)
		r.EndedAt, _ = time.Parse(stamp, ended)
		out = append(out, r)
	}
	return out, rows.Err()
}

package state

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// rawSchema (version 15) is the raw store: per pipeline and source, the latest raw
// snapshot of every workspace a sync read, written as its batches arrive, so that a sync
// killed midway is finished without rescanning what it read, and a translator change is
// replayed through the pipeline without rescanning at all. sync_runs lists the syncs
// begun since the last complete one (their rows in raw_workspaces are what a resume
// replays; the oldest mark is the one the completing sync saves); pending_scans holds the
// scans they started (getInfo answered) and did not read yet. sync_marks gains the
// translator fingerprint of the last complete sync. sync_resume (version 12) is no longer
// written: its rows, left by an older pbisync, are still replayed once.
const rawSchema = `
CREATE TABLE raw_workspaces (
	pipeline     TEXT NOT NULL,
	source       TEXT NOT NULL,
	workspace_id TEXT NOT NULL,
	sync_id      TEXT NOT NULL,
	read_at      TEXT NOT NULL,
	data         BLOB NOT NULL,
	PRIMARY KEY (pipeline, source, workspace_id)
);
CREATE INDEX raw_workspaces_sync ON raw_workspaces (pipeline, source, sync_id);
CREATE TABLE sync_runs (
	pipeline   TEXT NOT NULL,
	source     TEXT NOT NULL,
	sync_id    TEXT NOT NULL,
	mark       TEXT NOT NULL,
	started_at TEXT NOT NULL,
	PRIMARY KEY (pipeline, source, sync_id)
) WITHOUT ROWID;
CREATE TABLE pending_scans (
	pipeline     TEXT NOT NULL,
	source       TEXT NOT NULL,
	scan_id      TEXT NOT NULL,
	sync_id      TEXT NOT NULL,
	requested_at TEXT NOT NULL,
	workspaces   TEXT NOT NULL,
	PRIMARY KEY (pipeline, source, scan_id)
) WITHOUT ROWID;
ALTER TABLE sync_marks ADD COLUMN translators TEXT NOT NULL DEFAULT '';`

func init() {
	addMigrations(migration{15, rawSchema})
}

// SyncRun is a sync begun and not (yet) completed.
type SyncRun struct {
	ID        string
	Mark      time.Time // its high-water mark: when it listed the tenant
	StartedAt time.Time
}

// RawWorkspace is one workspace's raw snapshot, encoded by the caller.
type RawWorkspace struct {
	ID     string // the workspace id; kept in lower case
	SyncID string // the sync that read it
	ReadAt time.Time
	Data   []byte
}

// PendingScan is a scan a sync started (getInfo answered) and has not read yet.
type PendingScan struct {
	ScanID      string
	SyncID      string
	RequestedAt time.Time
	Workspaces  []string
}

func (s *Store) rawErr(what, pipeline, source string, err error) error {
	return fmt.Errorf("state %s: %s of %q source %q: %w", s.path, what, pipeline, source, err)
}

// BeginSyncRun records that a sync of the source began, before it reads anything.
func (s *Store) BeginSyncRun(ctx context.Context, pipeline, source string, r SyncRun) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_runs (pipeline, source, sync_id, mark, started_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET mark = excluded.mark, started_at = excluded.started_at`,
		pipeline, source, r.ID, formatMarkTime(r.Mark), formatMarkTime(r.StartedAt))
	if err != nil {
		return s.rawErr("sync run", pipeline, source, err)
	}
	return nil
}

// UnfinishedSyncRuns returns the syncs of the source begun since its last complete one,
// oldest first.
func (s *Store) UnfinishedSyncRuns(ctx context.Context, pipeline, source string) ([]SyncRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sync_id, mark, started_at FROM sync_runs WHERE pipeline = ? AND source = ? ORDER BY started_at`, pipeline, source)
	if err != nil {
		return nil, s.rawErr("sync runs", pipeline, source, err)
	}
	defer rows.Close()
	var out []SyncRun
	for rows.Next() {
		var r SyncRun
		var mark, started string
		if err := rows.Scan(&r.ID, &mark, &started); err != nil {
			return nil, s.rawErr("sync runs", pipeline, source, err)
		}
		if r.Mark, err = parseMarkTime(mark); err == nil {
			r.StartedAt, err = parseMarkTime(started)
		}
		if err != nil {
			return nil, s.rawErr("sync runs", pipeline, source, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRawWorkspaces keeps the raw snapshots of a batch's workspaces, in one transaction,
// replacing what the store held for them.
func (s *Store) SaveRawWorkspaces(ctx context.Context, pipeline, source string, ws []RawWorkspace) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.rawErr("raw workspaces", pipeline, source, err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO raw_workspaces (pipeline, source, workspace_id, sync_id, read_at, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (pipeline, source, workspace_id) DO UPDATE SET sync_id = excluded.sync_id, read_at = excluded.read_at, data = excluded.data`)
	if err != nil {
		return s.rawErr("raw workspaces", pipeline, source, err)
	}
	defer stmt.Close()
	for _, w := range ws {
		if _, err := stmt.ExecContext(ctx, pipeline, source, strings.ToLower(w.ID), w.SyncID, formatMarkTime(w.ReadAt), w.Data); err != nil {
			return s.rawErr("raw workspace "+w.ID, pipeline, source, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.rawErr("raw workspaces", pipeline, source, err)
	}
	s.startWriteback()
	return nil
}

// RawWorkspaceIndex returns, by lower-case workspace id, what the store holds of each
// workspace of the source (without the data).
func (s *Store) RawWorkspaceIndex(ctx context.Context, pipeline, source string) (map[string]RawWorkspace, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT workspace_id, sync_id, read_at FROM raw_workspaces WHERE pipeline = ? AND source = ?`, pipeline, source)
	if err != nil {
		return nil, s.rawErr("raw workspaces", pipeline, source, err)
	}
	defer rows.Close()
	out := map[string]RawWorkspace{}
	for rows.Next() {
		var w RawWorkspace
		var at string
		if err := rows.Scan(&w.ID, &w.SyncID, &at); err != nil {
			return nil, s.rawErr("raw workspaces", pipeline, source, err)
		}
		if w.ReadAt, err = parseMarkTime(at); err != nil {
			return nil, s.rawErr("raw workspace "+w.ID, pipeline, source, err)
		}
		out[w.ID] = w
	}
	return out, rows.Err()
}

// RawWorkspaceData returns one workspace's raw snapshot (nil when the store has none).
func (s *Store) RawWorkspaceData(ctx context.Context, pipeline, source, workspaceID string) (RawWorkspace, error) {
	w := RawWorkspace{ID: strings.ToLower(workspaceID)}
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT sync_id, read_at, data FROM raw_workspaces WHERE pipeline = ? AND source = ? AND workspace_id = ?`,
		pipeline, source, w.ID).Scan(&w.SyncID, &at, &w.Data)
	if err == sql.ErrNoRows {
		return w, nil
	}
	if err == nil {
		w.ReadAt, err = parseMarkTime(at)
	}
	if err != nil {
		return w, s.rawErr("raw workspace "+workspaceID, pipeline, source, err)
	}
	return w, nil
}

// RawStoreSize returns how many workspaces and bytes of raw data the store keeps for the
// pipeline.
func (s *Store) RawStoreSize(ctx context.Context, pipeline string) (workspaces int, bytes int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(LENGTH(data)), 0) FROM raw_workspaces WHERE pipeline = ?`, pipeline).Scan(&workspaces, &bytes)
	if err != nil {
		err = fmt.Errorf("state %s: raw store of %q: %w", s.path, pipeline, err)
	}
	return
}

// SavePendingScan keeps a scan the sync started, until it is read (DropPendingScan) or
// the sync completes.
func (s *Store) SavePendingScan(ctx context.Context, pipeline, source string, p PendingScan) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pending_scans (pipeline, source, scan_id, sync_id, requested_at, workspaces) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO UPDATE SET sync_id = excluded.sync_id, requested_at = excluded.requested_at, workspaces = excluded.workspaces`,
		pipeline, source, p.ScanID, p.SyncID, formatMarkTime(p.RequestedAt), strings.Join(p.Workspaces, ","))
	if err != nil {
		return s.rawErr("pending scan "+p.ScanID, pipeline, source, err)
	}
	return nil
}

// DropPendingScan forgets a scan once read (or once it cannot be).
func (s *Store) DropPendingScan(ctx context.Context, pipeline, source, scanID string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM pending_scans WHERE pipeline = ? AND source = ? AND scan_id = ?`, pipeline, source, scanID); err != nil {
		return s.rawErr("pending scan "+scanID, pipeline, source, err)
	}
	return nil
}

// PendingScans returns the scans unfinished syncs started and did not read, oldest first.
func (s *Store) PendingScans(ctx context.Context, pipeline, source string) ([]PendingScan, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT scan_id, sync_id, requested_at, workspaces FROM pending_scans WHERE pipeline = ? AND source = ? ORDER BY requested_at`, pipeline, source)
	if err != nil {
		return nil, s.rawErr("pending scans", pipeline, source, err)
	}
	defer rows.Close()
	var out []PendingScan
	for rows.Next() {
		var p PendingScan
		var at, ws string
		if err := rows.Scan(&p.ScanID, &p.SyncID, &at, &ws); err != nil {
			return nil, s.rawErr("pending scans", pipeline, source, err)
		}
		if p.RequestedAt, err = parseMarkTime(at); err != nil {
			return nil, s.rawErr("pending scan "+p.ScanID, pipeline, source, err)
		}
		if ws != "" {
			p.Workspaces = strings.Split(ws, ",")
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CompleteSyncRuns is called once a sync of the source completed: the syncs begun
// before it and their pending scans are forgotten (what they read is in this one), and
// so are the kept batches of version 12. With listed (the lower-case ids of the
// complete listing; nil when the sync did not list the tenant), the raw rows of the
// workspaces gone from it are deleted.
func (s *Store) CompleteSyncRuns(ctx context.Context, pipeline, source string, listed map[string]bool) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.rawErr("completing a sync", pipeline, source, err)
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM sync_runs WHERE pipeline = ? AND source = ?`, `DELETE FROM pending_scans WHERE pipeline = ? AND source = ?`,
		`DELETE FROM sync_resume WHERE pipeline = ? AND source = ?`} {
		if _, err := tx.ExecContext(ctx, q, pipeline, source); err != nil {
			return s.rawErr("completing a sync", pipeline, source, err)
		}
	}
	if listed != nil {
		rows, err := tx.QueryContext(ctx, `SELECT workspace_id FROM raw_workspaces WHERE pipeline = ? AND source = ?`, pipeline, source)
		if err != nil {
			return s.rawErr("completing a sync", pipeline, source, err)
		}
		var gone []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return s.rawErr("completing a sync", pipeline, source, err)
			}
			if !listed[id] {
				gone = append(gone, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.rawErr("completing a sync", pipeline, source, err)
		}
		for _, id := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM raw_workspaces WHERE pipeline = ? AND source = ? AND workspace_id = ?`, pipeline, source, id); err != nil {
				return s.rawErr("raw workspace "+id, pipeline, source, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return s.rawErr("completing a sync", pipeline, source, err)
	}
	return nil
}

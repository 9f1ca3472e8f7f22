package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// syncMarksSchema (version 10) keeps, per pipeline and source, the high-water mark of
// incremental syncs: when the last complete sync listed the tenant (the next asks the
// service for the workspaces modified since), and when the last full scan was.
const syncMarksSchema = `
CREATE TABLE sync_marks (
	pipeline TEXT NOT NULL,
	source   TEXT NOT NULL,
	mark     TEXT NOT NULL,
	full_at  TEXT NOT NULL,
	PRIMARY KEY (pipeline, source)
) WITHOUT ROWID;`

func init() {
	addMigrations(migration{10, syncMarksSchema})
}

// SyncMark is a source's high-water mark.
type SyncMark struct {
	// Mark is when the last complete sync listed the tenant; zero: never.
	Mark time.Time
	// FullAt is when the last complete full scan listed it; zero: never.
	FullAt time.Time
	// Translators is the fingerprint of the pipeline's translators at the last complete
	// sync (version 15; empty: not recorded).
	Translators string
}

// SyncMark returns the source's mark in the pipeline (zero when it never completed).
func (s *Store) SyncMark(ctx context.Context, pipeline, source string) (SyncMark, error) {
	var mark, full, translators string
	err := s.db.QueryRowContext(ctx, `SELECT mark, full_at, translators FROM sync_marks WHERE pipeline = ? AND source = ?`, pipeline, source).Scan(&mark, &full, &translators)
	if err == sql.ErrNoRows {
		return SyncMark{}, nil
	}
	if err != nil {
		return SyncMark{}, fmt.Errorf("state %s: sync mark of %q source %q: %w", s.path, pipeline, source, err)
	}
	m := SyncMark{Translators: translators}
	if m.Mark, err = parseMarkTime(mark); err == nil {
		m.FullAt, err = parseMarkTime(full)
	}
	if err != nil {
		return SyncMark{}, fmt.Errorf("state %s: sync mark of %q source %q: %w", s.path, pipeline, source, err)
	}
	return m, nil
}

// SetSyncMark records a source's mark after a complete sync.
func (s *Store) SetSyncMark(ctx context.Context, pipeline, source string, m SyncMark) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_marks (pipeline, source, mark, full_at, translators) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (pipeline, source) DO UPDATE SET mark = excluded.mark, full_at = excluded.full_at, translators = excluded.translators`,
		pipeline, source, formatMarkTime(m.Mark), formatMarkTime(m.FullAt), m.Translators)
	if err != nil {
		return fmt.Errorf("state %s: sync mark of %q source %q: %w", s.path, pipeline, source, err)
	}
	return nil
}

func formatMarkTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func parseMarkTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// UpdateAssets changes the pipeline's remembered assets in place, in one transaction:
// upserts are set, removed are deleted, the rest stay. An incremental sync saves this way,
// in time proportional to what changed rather than to the estate.
func (s *Store) UpdateAssets(ctx context.Context, pipeline string, upserts []Asset, removed []AssetID) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, `INSERT INTO pipeline_assets (pipeline, type, id, key, name, workspace_id, workspace_name)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, type, id) DO UPDATE SET key = excluded.key,
		name = excluded.name, workspace_id = excluded.workspace_id, workspace_name = excluded.workspace_name`)
	if err != nil {
		return fmt.Errorf("state %s: %w", s.path, err)
	}
	defer up.Close()
	for i := range upserts {
		id := upserts[i].PowerBI
		if id.Type == "" || id.ID == "" {
			return fmt.Errorf("state %s: pipeline %q: asset %s has no Power BI identity", s.path, pipeline, upserts[i].Key)
		}
		key, err := json.Marshal(upserts[i].Key)
		if err != nil {
			return err
		}
		if _, err := up.ExecContext(ctx, pipeline, string(id.Type), id.ID, string(key), id.Name, id.WorkspaceID, id.WorkspaceName); err != nil {
			return fmt.Errorf("state %s: pipeline %q: asset %s: %w", s.path, pipeline, upserts[i].Key, err)
		}
	}
	for _, id := range removed {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pipeline_assets WHERE pipeline = ? AND type = ? AND id = ?`, pipeline, string(id.Type), id.ID); err != nil {
			return fmt.Errorf("state %s: pipeline %q: asset %s %s: %w", s.path, pipeline, id.Type, id.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pipeline_syncs (pipeline, synced_at, assets) VALUES (?1, ?2, (SELECT COUNT(*) FROM pipeline_assets WHERE pipeline = ?1))
		ON CONFLICT (pipeline) DO UPDATE SET synced_at = excluded.synced_at, assets = excluded.assets`,
		pipeline, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
	}
	return nil
}

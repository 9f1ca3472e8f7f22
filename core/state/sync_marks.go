package state

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
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

// This file's name sorts after refresh.go, so its init runs after the migrations there
// were added; sorting keeps the order whatever the files.
func init() {
	migrations = append(migrations, migration{10, syncMarksSchema})
	slices.SortFunc(migrations, func(a, b migration) int { return a.version - b.version })
	SchemaVersion = migrations[len(migrations)-1].version
}

// SyncMark is a source's high-water mark.
type SyncMark struct {
	// Mark is when the last complete sync listed the tenant; zero: never.
	Mark time.Time
	// FullAt is when the last complete full scan listed it; zero: never.
	FullAt time.Time
}

// SyncMark returns the source's mark in the pipeline (zero when it never completed).
func (s *Store) SyncMark(ctx context.Context, pipeline, source string) (SyncMark, error) {
	var mark, full string
	err := s.db.QueryRowContext(ctx, `SELECT mark, full_at FROM sync_marks WHERE pipeline = ? AND source = ?`, pipeline, source).Scan(&mark, &full)
	if err == sql.ErrNoRows {
		return SyncMark{}, nil
	}
	if err != nil {
		return SyncMark{}, fmt.Errorf("state %s: sync mark of %q source %q: %w", s.path, pipeline, source, err)
	}
	var m SyncMark
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
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_marks (pipeline, source, mark, full_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (pipeline, source) DO UPDATE SET mark = excluded.mark, full_at = excluded.full_at`,
		pipeline, source, formatMarkTime(m.Mark), formatMarkTime(m.FullAt))
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

package state

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// resumeSchema (version 12) keeps the batches a sync read before it stopped (for a quota,
// with --no-wait), so the next run replays them instead of scanning them again.
const resumeSchema = `
CREATE TABLE sync_resume (
	pipeline   TEXT NOT NULL,
	source     TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	mark       TEXT NOT NULL,  -- the stopped sync's high-water mark (RFC 3339)
	taken_at   TEXT NOT NULL,
	workspaces TEXT NOT NULL,  -- the batch's workspace ids, comma-separated
	snapshot   BLOB NOT NULL,  -- the batch (snapshot file format)
	PRIMARY KEY (pipeline, source, seq)
);`

// estateByAssetSchema (version 13) lets an estate commit find an asset's older row by its
// identity, so it replaces rows in place instead of copying the estate (estate.go).
const estateByAssetSchema = `CREATE INDEX estate_assets_asset ON estate_assets (pipeline, type, id, gen);`

func init() {
	addMigrations(migration{12, resumeSchema}, migration{13, estateByAssetSchema})
}

// ResumeBatch is a batch a stopped sync read.
type ResumeBatch struct {
	Mark       time.Time // the stopped sync's high-water mark
	TakenAt    time.Time
	Workspaces []string
	Snapshot   []byte
}

// SaveResumeBatch keeps a batch that a sync read, as pbisync before version 15 did (its
// tests simulate such a state store with it); a completed sync deletes them
// (CompleteSyncRuns).
func (s *Store) SaveResumeBatch(ctx context.Context, pipeline, source string, b ResumeBatch) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sync_resume (pipeline, source, seq, mark, taken_at, workspaces, snapshot)
		VALUES (?1, ?2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sync_resume WHERE pipeline = ?1 AND source = ?2), ?3, ?4, ?5, ?6)`,
		pipeline, source, formatMarkTime(b.Mark), formatMarkTime(b.TakenAt), strings.Join(b.Workspaces, ","), b.Snapshot)
	if err != nil {
		return fmt.Errorf("state %s: resume batch of %q source %q: %w", s.path, pipeline, source, err)
	}
	return nil
}

// ResumeBatches returns the kept batches taken after since, in the order they were read.
func (s *Store) ResumeBatches(ctx context.Context, pipeline, source string, since time.Time) ([]ResumeBatch, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT mark, taken_at, workspaces, snapshot FROM sync_resume WHERE pipeline = ? AND source = ? ORDER BY seq`, pipeline, source)
	if err != nil {
		return nil, fmt.Errorf("state %s: resume batches of %q source %q: %w", s.path, pipeline, source, err)
	}
	defer rows.Close()
	var out []ResumeBatch
	for rows.Next() {
		var mark, taken, ws string
		var b ResumeBatch
		if err := rows.Scan(&mark, &taken, &ws, &b.Snapshot); err != nil {
			return nil, fmt.Errorf("state %s: resume batches of %q source %q: %w", s.path, pipeline, source, err)
		}
		b.Mark, _ = parseMarkTime(mark)
		b.TakenAt, _ = parseMarkTime(taken)
		if ws != "" {
			b.Workspaces = strings.Split(ws, ",")
		}
		if b.TakenAt.After(since) {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

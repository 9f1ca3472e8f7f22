package state

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// estateSchema (version 4) keeps the estate of each pipeline's last completed sync: a
// small summary of every asset, for the lineage graph and search, and its whole spec, for
// a node's page. A sync writes into estate_staging as it streams and the rows move into
// estate_assets in one transaction only when the sync completed, so a failed sync never
// replaces a good estate.
const estateSchema = `
CREATE TABLE estate_assets (
	pipeline TEXT NOT NULL,
	type     TEXT NOT NULL,
	id       TEXT NOT NULL,
	summary  TEXT NOT NULL,
	spec     TEXT NOT NULL,
	PRIMARY KEY (pipeline, type, id)
) WITHOUT ROWID;
CREATE TABLE estate_staging (
	run      TEXT NOT NULL,
	pipeline TEXT NOT NULL,
	type     TEXT NOT NULL,
	id       TEXT NOT NULL,
	removed  INTEGER NOT NULL DEFAULT 0,
	summary  TEXT NOT NULL DEFAULT '',
	spec     TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run, type, id)
) WITHOUT ROWID;
CREATE TABLE estate_meta (
	pipeline     TEXT PRIMARY KEY,
	generation   INTEGER NOT NULL,
	committed_at TEXT NOT NULL
);`

// EstateRow is one asset of a pipeline's estate: its Power BI type and id, a summary and
// its whole spec (both JSON, as the caller wrote them). Removed marks a staged removal.
type EstateRow struct {
	Type, ID      string
	Summary, Spec string
	Removed       bool
}

// EstateRun stages one sync's changes to a pipeline's estate until Commit or Abort.
type EstateRun struct {
	s        *Store
	pipeline string
	run      string
}

// BeginEstate starts staging a sync's changes to the pipeline's estate. Rows a crashed
// pbisync staged for the same pipeline are dropped first.
func (s *Store) BeginEstate(ctx context.Context, pipeline string) (*EstateRun, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM estate_staging WHERE pipeline = ?`, pipeline); err != nil {
		return nil, fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	run := pipeline + "@" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return &EstateRun{s: s, pipeline: pipeline, run: run}, nil
}

// Stage records rows (upserts, or removals) in one transaction.
func (r *EstateRun) Stage(ctx context.Context, rows []EstateRow) error {
	if len(rows) == 0 {
		return nil
	}
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return r.err(err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO estate_staging (run, pipeline, type, id, removed, summary, spec)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run, type, id) DO UPDATE SET removed = excluded.removed,
		summary = excluded.summary, spec = excluded.spec`)
	if err != nil {
		return r.err(err)
	}
	defer stmt.Close()
	for _, row := range rows {
		if _, err := stmt.ExecContext(ctx, r.run, r.pipeline, row.Type, row.ID, row.Removed, row.Summary, row.Spec); err != nil {
			return fmt.Errorf("state %s: estate of %q: %s %s: %w", r.s.path, r.pipeline, row.Type, row.ID, err)
		}
	}
	return r.err(tx.Commit())
}

// Commit applies the staged rows to the estate in one transaction: upserts replace, removals
// delete, everything else stays as the previous sync left it.
func (r *EstateRun) Commit(ctx context.Context) error {
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return r.err(err)
	}
	defer tx.Rollback()
	steps := []string{
		`DELETE FROM estate_assets WHERE pipeline = ?2 AND (type, id) IN
			(SELECT type, id FROM estate_staging WHERE run = ?1 AND removed = 1)`,
		`INSERT INTO estate_assets (pipeline, type, id, summary, spec)
			SELECT pipeline, type, id, summary, spec FROM estate_staging WHERE run = ?1 AND removed = 0
			ON CONFLICT (pipeline, type, id) DO UPDATE SET summary = excluded.summary, spec = excluded.spec`,
		`DELETE FROM estate_staging WHERE run = ?1`,
		`INSERT INTO estate_meta (pipeline, generation, committed_at) VALUES (?2, 1, ?3)
			ON CONFLICT (pipeline) DO UPDATE SET generation = generation + 1, committed_at = excluded.committed_at`,
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, q := range steps {
		if _, err := tx.ExecContext(ctx, q, r.run, r.pipeline, now); err != nil {
			return r.err(err)
		}
	}
	return r.err(tx.Commit())
}

// Abort drops the staged rows; the estate stays as it was.
func (r *EstateRun) Abort(ctx context.Context) error {
	_, err := r.s.db.ExecContext(ctx, `DELETE FROM estate_staging WHERE run = ?`, r.run)
	return r.err(err)
}

func (r *EstateRun) err(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("state %s: estate of %q: %w", r.s.path, r.pipeline, err)
}

// EstateGeneration returns how many times the pipeline's estate was committed (0: never)
// and when it last was, so a reader can tell whether what it loaded is current.
func (s *Store) EstateGeneration(ctx context.Context, pipeline string) (int64, time.Time, error) {
	var gen int64
	var at string
	err := s.db.QueryRowContext(ctx, `SELECT generation, committed_at FROM estate_meta WHERE pipeline = ?`, pipeline).Scan(&gen, &at)
	if err == sql.ErrNoRows {
		return 0, time.Time{}, nil
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	t, _ := time.Parse(time.RFC3339Nano, at)
	return gen, t, nil
}

// EstateSummaries calls fn with the summary of every asset of the pipeline's estate.
func (s *Store) EstateSummaries(ctx context.Context, pipeline string, fn func(typ, id, summary string) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT type, id, summary FROM estate_assets WHERE pipeline = ? ORDER BY type, id`, pipeline)
	if err != nil {
		return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, id, sum string
		if err := rows.Scan(&typ, &id, &sum); err != nil {
			return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
		}
		if err := fn(typ, id, sum); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EstateSpec returns the whole spec (JSON) of one asset of the estate, or "" when the
// estate has no such asset.
func (s *Store) EstateSpec(ctx context.Context, pipeline, typ, id string) (string, error) {
	var sp string
	err := s.db.QueryRowContext(ctx, `SELECT spec FROM estate_assets WHERE pipeline = ? AND type = ? AND id = ?`, pipeline, typ, id).Scan(&sp)
	if err == sql.ErrNoRows {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("state %s: estate of %q: %s %s: %w", s.path, pipeline, typ, id, err)
	}
	return sp, nil
}

// Pipelines lists the pipelines that have an estate, for a reader given only a state store.
func (s *Store) Pipelines(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT pipeline FROM estate_meta ORDER BY pipeline`)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

package state

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// estateSchema (version 4) keeps the estate of each pipeline's last completed sync: a
// small summary of every asset, for the lineage graph and search, and its page, for
// a node's page (its columns, measures, lineage and metadata, compact). A sync writes its rows under the next generation as it streams; readers
// only see rows up to the generation estate_meta names, which changes in one transaction when
// the sync completed (deleting the rows it replaced), so a failed sync never replaces a good
// estate and nothing is copied.
const estateSchema = `
CREATE TABLE estate_assets (
	pipeline TEXT NOT NULL,
	gen      INTEGER NOT NULL,
	type     TEXT NOT NULL,
	id       TEXT NOT NULL,
	summary  TEXT NOT NULL,
	page     TEXT NOT NULL,
	PRIMARY KEY (pipeline, gen, type, id)
); -- a rowid table: its rows are large, which WITHOUT ROWID tables handle badly
CREATE TABLE estate_removed (
	pipeline TEXT NOT NULL,
	gen      INTEGER NOT NULL,
	type     TEXT NOT NULL,
	id       TEXT NOT NULL,
	PRIMARY KEY (pipeline, gen, type, id)
) WITHOUT ROWID;
CREATE TABLE estate_meta (
	pipeline     TEXT PRIMARY KEY,
	generation   INTEGER NOT NULL,
	committed_at TEXT NOT NULL
);`

// estateDigestSchema (version 16) keeps with every estate row a digest of what it holds
// (its summary, event and related messages, as the caller computed it), so that a sync
// that sends an asset unchanged leaves its row as it is instead of writing it again.
// NULL in rows written before: they are written again once. The asset index carries it,
// so that looking digests up reads the index only, not the rows.
const estateDigestSchema = `ALTER TABLE estate_assets ADD COLUMN digest BLOB;
DROP INDEX estate_assets_asset;
CREATE INDEX estate_assets_asset ON estate_assets (pipeline, type, id, gen, digest);`

func init() {
	addMigrations(migration{16, estateDigestSchema})
}

// EstateRow is one asset of a pipeline's estate: its Power BI type and id, a summary and
// its page (both JSON, as the caller wrote them). Removed marks a removal.
type EstateRow struct {
	Type, ID      string
	Summary, Page string
	// Event is the asset's spec event as the outputs received it (encoded and compressed
	// by the caller), so that an output needing the whole estate can be sent it.
	Event []byte
	// Related is what other events say of the asset (encoded by the caller).
	Related []byte
	// Digest identifies what the row holds (computed by the caller): a sync that would
	// stage a row of the same digest as the asset's kept one need not (KeptDigests).
	Digest  []byte
	Removed bool
}

// EstateRun stages one sync's changes to a pipeline's estate until Commit or Abort.
type EstateRun struct {
	s        *Store
	pipeline string
	cur, gen int64 // the committed generation, and the one this run writes
	staged   int   // rows staged so far
}

// BeginEstate starts staging a sync's changes to the pipeline's estate. Rows that a crashed
// pbisync left (of an uncommitted generation) go first.
func (s *Store) BeginEstate(ctx context.Context, pipeline string) (*EstateRun, error) {
	cur, _, err := s.EstateGeneration(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	for _, q := range []string{`DELETE FROM estate_assets WHERE pipeline = ? AND gen > ?`, `DELETE FROM estate_removed WHERE pipeline = ? AND gen > ?`} {
		if _, err := s.db.ExecContext(ctx, q, pipeline, cur); err != nil {
			return nil, fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
		}
	}
	return &EstateRun{s: s, pipeline: pipeline, cur: cur, gen: cur + 1}, nil
}

// Stage records rows (upserts, or removals) in one transaction.
func (r *EstateRun) Stage(ctx context.Context, rows []EstateRow) error {
	if len(rows) == 0 {
		return nil
	}
	r.staged += len(rows)
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return r.err(err)
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO estate_assets (pipeline, gen, type, id, summary, page, event, related, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return r.err(err)
	}
	defer up.Close()
	rm, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO estate_removed (pipeline, gen, type, id) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return r.err(err)
	}
	defer rm.Close()
	// In the asset index's order: each row then goes to the index page the last one
	// did, or the next, where random ids would read pages back from the log all the
	// time (the page cache holds about a hundred). Rows of the same asset keep their
	// order, so the last one sent is the one kept.
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(strings.Compare(rows[a].Type, rows[b].Type), strings.Compare(rows[a].ID, rows[b].ID))
	})
	for _, i := range order {
		row := &rows[i]
		if row.Removed {
			_, err = rm.ExecContext(ctx, r.pipeline, r.gen, row.Type, row.ID)
		} else {
			_, err = up.ExecContext(ctx, r.pipeline, r.gen, row.Type, row.ID, row.Summary, row.Page, row.Event, row.Related, row.Digest)
		}
		if err != nil {
			return fmt.Errorf("state %s: estate of %q: %s %s: %w", r.s.path, r.pipeline, row.Type, row.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return r.err(err)
	}
	r.s.startWriteback()
	return nil
}

// Committed returns the generation of the estate this run would replace: 0 when the
// pipeline has none (every asset it sends is new to the estate).
func (r *EstateRun) Committed() int64 { return r.cur }

// keptDigestsAtOnce bounds the ids of one KeptDigests query.
const keptDigestsAtOnce = 500

// KeptDigests calls fn with the id and digest of every asset of type typ among ids that
// the estate holds as this run would leave it so far: its row staged by this run, or
// else its committed one. Assets without a row, or whose row has no digest, are left out.
func (r *EstateRun) KeptDigests(ctx context.Context, typ string, ids []string, fn func(id string, digest []byte)) error {
	for len(ids) > 0 {
		part := ids[:min(len(ids), keptDigestsAtOnce)]
		ids = ids[len(part):]
		args := make([]any, 0, 3+len(part))
		args = append(args, r.pipeline, typ, r.gen)
		for _, id := range part {
			args = append(args, id)
		}
		// Each asset has at most two rows up to this run's generation: its committed one
		// and the one this run staged, which is the later.
		rows, err := r.s.db.QueryContext(ctx, `SELECT id, gen, digest FROM estate_assets INDEXED BY estate_assets_asset
			WHERE pipeline = ? AND type = ? AND gen <= ? AND id IN (?`+strings.Repeat(", ?", len(part)-1)+`) ORDER BY id, gen`, args...)
		if err != nil {
			return r.err(err)
		}
		var last string
		var lastDigest []byte
		have := false
		for rows.Next() {
			var id string
			var gen int64
			var digest []byte
			if err := rows.Scan(&id, &gen, &digest); err != nil {
				rows.Close()
				return r.err(err)
			}
			if have && id != last && lastDigest != nil {
				fn(last, lastDigest)
			}
			last, lastDigest, have = id, digest, true
		}
		if have && lastDigest != nil {
			fn(last, lastDigest)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return r.err(err)
		}
	}
	return nil
}

// Commit makes the staged generation the estate, in one transaction: the assets this sync
// sent, plus those of the previous estate it neither sent nor removed (a sync that read
// only part of the tenant keeps the rest). An asset's row keeps the generation that wrote
// it: the estate of generation G is, per asset, its row of the highest generation <= G,
// so the commit deletes the rows the sync replaced or removed and copies nothing else,
// in time proportional to the change rather than to the estate.
func (r *EstateRun) Commit(ctx context.Context) error {
	tx, err := r.s.db.BeginTx(ctx, nil)
	if err != nil {
		return r.err(err)
	}
	defer tx.Rollback()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	if r.staged == 0 && r.cur > 0 {
		// Nothing changed (an incremental sync that rescanned nothing): the estate stays
		// the generation it is, without copying it.
		if _, err := tx.ExecContext(ctx, `UPDATE estate_meta SET committed_at = ? WHERE pipeline = ?`, now, r.pipeline); err != nil {
			return r.err(err)
		}
		return r.err(tx.Commit())
	}
	steps := []struct {
		q    string
		args []any
	}{
		// Rows this sync replaced: an older row of an asset it staged.
		{`DELETE FROM estate_assets WHERE rowid IN (SELECT a.rowid FROM estate_assets s JOIN estate_assets a
			ON a.pipeline = s.pipeline AND a.type = s.type AND a.id = s.id AND a.gen < s.gen
			WHERE s.pipeline = ?1 AND s.gen = ?2)`, []any{r.pipeline, r.gen}},
		// Rows of the assets it removed.
		{`DELETE FROM estate_assets WHERE rowid IN (SELECT a.rowid FROM estate_removed d JOIN estate_assets a
			ON a.pipeline = d.pipeline AND a.type = d.type AND a.id = d.id AND a.gen < d.gen
			WHERE d.pipeline = ?1 AND d.gen = ?2)`, []any{r.pipeline, r.gen}},
		{`INSERT INTO estate_meta (pipeline, generation, committed_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (pipeline) DO UPDATE SET generation = excluded.generation, committed_at = excluded.committed_at`,
			[]any{r.pipeline, r.gen, now}},
		{`DELETE FROM estate_removed WHERE pipeline = ?`, []any{r.pipeline}},
	}
	for _, st := range steps {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return r.err(err)
		}
	}
	return r.err(tx.Commit())
}

// Abort drops the staged rows; the estate stays as it was.
func (r *EstateRun) Abort(ctx context.Context) error {
	for _, q := range []string{`DELETE FROM estate_assets WHERE pipeline = ? AND gen = ?`, `DELETE FROM estate_removed WHERE pipeline = ? AND gen = ?`} {
		if _, err := r.s.db.ExecContext(ctx, q, r.pipeline, r.gen); err != nil {
			return r.err(err)
		}
	}
	return nil
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

// EstateSummaries calls fn with the summary of every asset of generation gen of the
// pipeline's estate (EstateGeneration says which is current). Each asset has one committed
// row (Commit deletes the ones it replaces); rows above gen are a sync's staging.
func (s *Store) EstateSummaries(ctx context.Context, pipeline string, gen int64, fn func(typ, id, summary string) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT type, id, summary FROM estate_assets INDEXED BY estate_assets_asset WHERE pipeline = ? AND gen <= ? ORDER BY type, id`, pipeline, gen)
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

// EstatePage returns the page (JSON) of one asset of the current estate, or "" when the
// estate has no such asset; a row written since version 14 keeps no page but its event
// (as the caller encoded it), which the page is made from.
func (s *Store) EstatePage(ctx context.Context, pipeline, typ, id string) (page string, event []byte, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT page, event FROM estate_assets WHERE pipeline = ? AND type = ? AND id = ?
		AND gen <= (SELECT generation FROM estate_meta WHERE pipeline = ?) ORDER BY gen DESC LIMIT 1`, pipeline, typ, id, pipeline).Scan(&page, &event)
	if err == sql.ErrNoRows {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, fmt.Errorf("state %s: estate of %q: %s %s: %w", s.path, pipeline, typ, id, err)
	}
	return page, event, nil
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

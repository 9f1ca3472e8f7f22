package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// outputsSchema (version 14) lets an incremental sync feed an output that needs the whole
// estate without asking the service: every estate row also keeps its asset's spec event as
// the outputs last received it (event, compressed by the caller; NULL in rows written
// before version 14), and output_marks says which estate generation each output last
// committed, and with which configuration, so that an output that is new, changed, or
// behind is sent every asset.
const outputsSchema = `
ALTER TABLE estate_assets ADD COLUMN event BLOB;
ALTER TABLE estate_assets ADD COLUMN related BLOB;
CREATE TABLE output_marks (
	pipeline     TEXT NOT NULL,
	output       TEXT NOT NULL,
	fingerprint  TEXT NOT NULL,
	generation   INTEGER NOT NULL,
	committed_at TEXT NOT NULL,
	PRIMARY KEY (pipeline, output)
) WITHOUT ROWID;`

func init() {
	addMigrations(migration{14, outputsSchema})
}

// OutputMark is what an output last committed: the estate generation it holds and the
// fingerprint of the configuration it was written with.
type OutputMark struct {
	Fingerprint string
	Generation  int64
}

// OutputMark returns an output's mark; the zero mark when it never committed a sync.
func (s *Store) OutputMark(ctx context.Context, pipeline, output string) (OutputMark, error) {
	var m OutputMark
	err := s.db.QueryRowContext(ctx, `SELECT fingerprint, generation FROM output_marks WHERE pipeline = ? AND output = ?`, pipeline, output).Scan(&m.Fingerprint, &m.Generation)
	if err == sql.ErrNoRows {
		return OutputMark{}, nil
	}
	if err != nil {
		return OutputMark{}, fmt.Errorf("state %s: output %q of %q: %w", s.path, output, pipeline, err)
	}
	return m, nil
}

// SetOutputMark records that an output committed the estate's generation m.Generation.
func (s *Store) SetOutputMark(ctx context.Context, pipeline, output string, m OutputMark) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO output_marks (pipeline, output, fingerprint, generation, committed_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (pipeline, output) DO UPDATE SET fingerprint = excluded.fingerprint, generation = excluded.generation, committed_at = excluded.committed_at`,
		pipeline, output, m.Fingerprint, m.Generation, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("state %s: output %q of %q: %w", s.path, output, pipeline, err)
	}
	return nil
}

// EstateGaps counts the assets of the pipeline's last saved sync (pipeline_assets) whose
// spec event the current estate does not keep (rows written before version 14, or an
// estate that was off): while it is above zero the estate cannot stand in for the service.
func (s *Store) EstateGaps(ctx context.Context, pipeline string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pipeline_assets p WHERE p.pipeline = ?1 AND NOT EXISTS (
		SELECT 1 FROM estate_assets e WHERE e.pipeline = p.pipeline AND e.type = p.type AND e.id = p.id AND e.event IS NOT NULL
		AND e.gen <= (SELECT generation FROM estate_meta WHERE pipeline = ?1))`, pipeline).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	return n, nil
}

// EstateRelated calls fn with what other events say of every asset of generation gen of
// the pipeline's estate (as the caller encoded it), for rows that keep it.
func (s *Store) EstateRelated(ctx context.Context, pipeline string, gen int64, fn func(related []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT related FROM estate_assets WHERE pipeline = ? AND gen <= ? AND related IS NOT NULL`, pipeline, gen)
	if err != nil {
		return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rel []byte
		if err := rows.Scan(&rel); err != nil {
			return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
		}
		if err := fn(rel); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EstateEventsOfType calls fn with the id and kept spec event of every asset of one type
// of generation gen of the pipeline's estate.
func (s *Store) EstateEventsOfType(ctx context.Context, pipeline string, gen int64, typ string, fn func(id string, event []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, event FROM estate_assets INDEXED BY estate_assets_asset WHERE pipeline = ? AND type = ? AND gen <= ? AND event IS NOT NULL ORDER BY id`, pipeline, typ, gen)
	if err != nil {
		return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var ev []byte
		if err := rows.Scan(&id, &ev); err != nil {
			return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
		}
		if err := fn(id, ev); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EstateEvents calls fn with the kept spec event of every asset of generation gen of the
// pipeline's estate, in (type, id) order. The order is the asset index's, so that SQLite
// walks it rather than sorting every event in a temporary tree (about 70 MB for 35,000
// assets).
func (s *Store) EstateEvents(ctx context.Context, pipeline string, gen int64, fn func(typ, id string, event []byte) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT type, id, event FROM estate_assets INDEXED BY estate_assets_asset WHERE pipeline = ? AND gen <= ? AND event IS NOT NULL ORDER BY type, id`, pipeline, gen)
	if err != nil {
		return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, id string
		var ev []byte
		if err := rows.Scan(&typ, &id, &ev); err != nil {
			return fmt.Errorf("state %s: estate of %q: %w", s.path, pipeline, err)
		}
		if err := fn(typ, id, ev); err != nil {
			return err
		}
	}
	return rows.Err()
}

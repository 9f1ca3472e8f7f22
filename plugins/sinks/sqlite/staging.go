package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/sink"
	"github.com/pbisync/pbisync/sdk/sink/sinkpb"
	"google.golang.org/protobuf/proto"
)

// A sync is staged: every batch is committed (durably, before it is acknowledged) into
// the staging tables under the run's id, and Commit applies the staged events to the
// catalog tables in one transaction. A sink process that dies within the sync loses
// nothing it acknowledged: the restarted one resumes the run (same id) and appends to
// its staging, and a sync that fails, is aborted, or whose process died for good never
// touches the catalog tables. The events are kept in the protocol's encoding, the form
// they came in.

// stagingSchema creates the staging tables. They are not part of the catalog's
// documented schema; they hold rows only while a sync is open (or after one died).
const stagingSchema = `
CREATE TABLE IF NOT EXISTS staging_runs (
	run_id   TEXT PRIMARY KEY,
	begun_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS staging_events (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id TEXT NOT NULL,
	event  BLOB NOT NULL                   -- pbisync.sink.v1.Event, protobuf
);
CREATE INDEX IF NOT EXISTS staging_events_run ON staging_events (run_id, seq);
`

const (
	sqlStageEvent     = `INSERT INTO staging_events (run_id, event) VALUES (?, ?)`
	sqlStagedPage     = `SELECT seq, event FROM staging_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`
	sqlStagedRunCount = `SELECT count(*) FROM staging_runs WHERE run_id = ?`
)

// commitPage is how many staged events Commit reads at a time.
const commitPage = 512

// beginStaging prepares the staging of a sync. A new sync drops what syncs that never
// completed left (their process died, or failed to abort); a resumed one finds its own.
func (s *Sink) beginStaging(ctx context.Context, run sink.Run) error {
	if _, err := s.db.ExecContext(ctx, stagingSchema); err != nil {
		return fmt.Errorf("%s: creating the staging tables: %w", s.cfg.Path, err)
	}
	if s.stmts[sqlStageEvent] == nil {
		st, err := s.db.PrepareContext(ctx, sqlStageEvent)
		if err != nil {
			return fmt.Errorf("%s: %w", s.cfg.Path, err)
		}
		s.stmts[sqlStageEvent] = st
	}
	if run.Resume {
		var n int
		if err := s.db.QueryRowContext(ctx, sqlStagedRunCount, run.ID).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", s.cfg.Path, err)
		}
		if n == 0 {
			return fmt.Errorf("%s: the staged rows of sync %s are gone (a later run dropped them); the catalog is as the last completed sync left it (run the sync again)", s.cfg.Path, run.ID)
		}
		s.staging = run.ID
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM staging_events`)
	if err != nil {
		return fmt.Errorf("%s: dropping stale staging: %w", s.cfg.Path, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staging_runs`); err != nil {
		return fmt.Errorf("%s: dropping stale staging: %w", s.cfg.Path, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO staging_runs (run_id, begun_at) VALUES (?, ?)`,
		run.ID, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	if n, _ := res.RowsAffected(); n > 0 && s.logger != nil {
		s.logger.Warn("dropped the staged events of a sync that never completed", "file", s.cfg.Path, "events", n)
	}
	s.staging = run.ID
	return nil
}

// stageBatch records a sync's batch in the staging tables, committed before it returns.
func (s *Sink) stageBatch(ctx context.Context, events []event.Event) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, s.stmts[sqlStageEvent])
	for i := range events {
		p, err := sink.EventToProto(&events[i])
		if err != nil {
			return fmt.Errorf("%s: event %d (%s): %w", s.cfg.Path, i, events[i].Kind, err)
		}
		b, err := proto.Marshal(p)
		if err != nil {
			return fmt.Errorf("%s: event %d (%s): %w", s.cfg.Path, i, events[i].Kind, err)
		}
		if _, err := st.ExecContext(ctx, s.staging, b); err != nil {
			return fmt.Errorf("%s: staging event %d (%s): %w", s.cfg.Path, i, events[i].Kind, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	return nil
}

// commitStaging applies the staged sync to the catalog tables and drops its staging, in
// one transaction: the catalog holds the last completed sync or this one, never a part.
// Events sent again after a restart are staged twice and applied twice; every statement
// is an upsert, so they leave the same rows.
func (s *Sink) commitStaging(ctx context.Context) error {
	runID := s.staging
	s.staging = ""
	// The commit is never retried and must not stop half way because a caller gave up.
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, sqlStagedRunCount, runID).Scan(&n); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: the staged rows of sync %s were dropped by a later run; the catalog is unchanged", s.cfg.Path, runID)
	}
	t := &txn{tx: tx, stmts: s.stmts}
	now := s.now().UTC().Format(time.RFC3339Nano)
	var after int64
	for {
		page, last, err := stagedPage(ctx, tx, runID, after)
		if err != nil {
			return fmt.Errorf("%s: reading the staged sync: %w", s.cfg.Path, err)
		}
		if len(page) == 0 {
			break
		}
		after = last
		if err := s.apply(ctx, t, page, now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staging_events WHERE run_id = ?`, runID); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM staging_runs WHERE run_id = ?`, runID); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", s.cfg.Path, err)
	}
	return nil
}

// stagedPage reads the next staged events of a run after seq, and the last seq read.
func stagedPage(ctx context.Context, tx *sql.Tx, runID string, after int64) ([]event.Event, int64, error) {
	rows, err := tx.QueryContext(ctx, sqlStagedPage, runID, after, commitPage)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&after, &b); err != nil {
			return nil, 0, err
		}
		var p sinkpb.Event
		if err := proto.Unmarshal(b, &p); err != nil {
			return nil, 0, fmt.Errorf("staged event %d: %w", after, err)
		}
		e, err := sink.EventFromProto(&p)
		if err != nil {
			return nil, 0, fmt.Errorf("staged event %d: %w", after, err)
		}
		out = append(out, e)
	}
	return out, after, rows.Err()
}

// abortStaging drops a sync's staging; the catalog tables were never touched.
func (s *Sink) abortStaging(ctx context.Context) error {
	runID := s.staging
	s.staging = ""
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("%s: dropping the aborted sync's staging: %w", s.cfg.Path, err)
	}
	defer tx.Rollback()
	_, err1 := tx.Exec(`DELETE FROM staging_events WHERE run_id = ?`, runID)
	_, err2 := tx.Exec(`DELETE FROM staging_runs WHERE run_id = ?`, runID)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("%s: dropping the aborted sync's staging: %w", s.cfg.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: dropping the aborted sync's staging: %w", s.cfg.Path, err)
	}
	return nil
}

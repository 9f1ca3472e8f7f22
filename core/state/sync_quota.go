package state

import (
	"context"
	"fmt"
	"time"
)

// apiRequestsSchema (version 11) counts the requests sent to the admin APIs' limited
// endpoints, per tenant, so a sync plans against what earlier runs used
// (powerbi.Quota). Rows older than a day are deleted when a run reads them.
const apiRequestsSchema = `
CREATE TABLE api_requests (
	tenant   TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	at       INTEGER NOT NULL -- Unix nanoseconds
);
CREATE INDEX api_requests_at ON api_requests (tenant, endpoint, at);`

func init() {
	addMigrations(migration{11, apiRequestsSchema})
}

// ledgerRetention is how long request rows are kept: longer than any limit's window.
const ledgerRetention = 24 * time.Hour

// RecordRequest counts one request of the tenant to endpoint.
func (s *Store) RecordRequest(ctx context.Context, tenant, endpoint string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO api_requests (tenant, endpoint, at) VALUES (?, ?, ?)`, tenant, endpoint, at.UnixNano()); err != nil {
		return fmt.Errorf("state %s: quota of %s: %w", s.path, endpoint, err)
	}
	return nil
}

// RequestsSince returns when the tenant's requests to endpoint after since were sent,
// oldest first. Rows of the endpoint older than a day go first.
func (s *Store) RequestsSince(ctx context.Context, tenant, endpoint string, since time.Time) ([]time.Time, error) {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM api_requests WHERE tenant = ? AND endpoint = ? AND at < ?`,
		tenant, endpoint, time.Now().Add(-ledgerRetention).UnixNano()); err != nil {
		return nil, fmt.Errorf("state %s: quota of %s: %w", s.path, endpoint, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT at FROM api_requests WHERE tenant = ? AND endpoint = ? AND at > ? ORDER BY at`, tenant, endpoint, since.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("state %s: quota of %s: %w", s.path, endpoint, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var ns int64
		if err := rows.Scan(&ns); err != nil {
			return nil, fmt.Errorf("state %s: quota of %s: %w", s.path, endpoint, err)
		}
		out = append(out, time.Unix(0, ns))
	}
	return out, rows.Err()
}

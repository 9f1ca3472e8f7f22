// Package state is pbisync's embedded state store: a SQLite database at
// <state_dir>/state.db that remembers, per pipeline, the assets of the previous sync,
// so the engine can tell sinks which assets are gone. Its schema evolves through
// numbered migrations (SCHEMA.md documents it); later parts of pbisync add tables the
// same way.
package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pbisync/pbisync/sdk/event"
	"github.com/pbisync/pbisync/sdk/spec"
	_ "modernc.org/sqlite" // pure-Go SQLite driver
)

// FileName is the database's name inside the state directory.
const FileName = "state.db"

// Store is an open state database. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// AssetID identifies a Power BI object across syncs, whatever key translators gave it.
type AssetID struct {
	Type spec.ContentType
	ID   string
}

// IDOf returns the AssetID of an identity.
func IDOf(id spec.Identity) AssetID { return AssetID{Type: id.Type, ID: id.ID} }

// Asset is what the store remembers of one asset of a sync.
type Asset struct {
	Key     spec.Key
	PowerBI spec.Identity
}

// migration is one step of the schema; version n is applied to a database at n-1.
type migration struct {
	version int
	sql     string
}

// migrations are applied in order, each in its own transaction. Never edit one that
// shipped: add the next.
var migrations = []migration{
	{1, `
CREATE TABLE pipeline_assets (
	pipeline       TEXT NOT NULL,
	type           TEXT NOT NULL,
	id             TEXT NOT NULL,
	key            TEXT NOT NULL,
	name           TEXT NOT NULL DEFAULT '',
	workspace_id   TEXT NOT NULL DEFAULT '',
	workspace_name TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (pipeline, type, id)
) WITHOUT ROWID;
CREATE TABLE pipeline_syncs (
	pipeline  TEXT PRIMARY KEY,
	synced_at TEXT NOT NULL,
	assets    INTEGER NOT NULL
);`},
}

// SchemaVersion is the schema version this pbisync writes.
var SchemaVersion = migrations[len(migrations)-1].version

// addMigrations adds the migrations of a part of pbisync that keeps its own tables (an
// init of its file), whatever order the files' inits run in.
func addMigrations(ms ...migration) {
	migrations = append(migrations, ms...)
	slices.SortFunc(migrations, func(a, b migration) int { return a.version - b.version })
	SchemaVersion = migrations[len(migrations)-1].version
}

// Open opens (creating when needed) the state database in dir and brings its schema
// up to date. A database written by a newer pbisync is refused.
func Open(ctx context.Context, dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state: no state directory given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	if err := create(ctx, path); err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	// The write-ahead log is checkpointed every 4,000 pages (64 MB of 16 KB pages) rather
	// than SQLite's 1,000: a full sync writes its estate and raw store in transactions
	// that each rewrite most index pages, and each checkpoint copies every page rewritten
	// since the last one. The full sync of the 1,000-workspace tenant writes 330 MB to
	// the log; it takes about 5% less time so.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(4000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("state %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// newPageSize is the page size of a state database pbisync creates. Its rows are large
// (an estate row, about 2.5 KB, is its asset's kept event; a raw workspace, tens of KB):
// with SQLite's default of 4 KB most pages would hold one estate row and the rest of the
// page would be written for nothing (140 MB for 89 MB of rows of the generated tenant,
// against 97 MB). A database keeps the page size it was created with.
const newPageSize = 16384

// create makes a new, empty state database at path with newPageSize pages; it leaves a
// database that exists as it is.
func create(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		return nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	// The page size applies to a database that has no page yet: one that another
	// process created meanwhile keeps its own. Setting WAL writes the first page.
	_, err = db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL;", newPageSize))
	return err
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Version returns the schema version of the database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func (s *Store) migrate(ctx context.Context) error {
	v, err := s.Version(ctx)
	if err != nil {
		return fmt.Errorf("state %s: not a readable SQLite database: %w", s.path, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("state %s: schema version %d is newer than this pbisync knows (%d); use a newer pbisync or another state_dir", s.path, v, SchemaVersion)
	}
	for _, m := range migrations {
		if m.version <= v {
			continue
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("state %s: %w", s.path, err)
		}
		// Another pbisync may have migrated while we waited for the lock.
		var cur int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
			tx.Rollback()
			return fmt.Errorf("state %s: %w", s.path, err)
		}
		if cur >= m.version {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("state %s: migration %d: %w", s.path, m.version, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return fmt.Errorf("state %s: migration %d: %w", s.path, m.version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("state %s: migration %d: %w", s.path, m.version, err)
		}
	}
	return nil
}

// PreviousAssets returns the assets the pipeline's last saved sync had. A pipeline
// never synced gives an empty map.
func (s *Store) PreviousAssets(ctx context.Context, pipeline string) (map[AssetID]Asset, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT type, id, key, name, workspace_id, workspace_name FROM pipeline_assets WHERE pipeline = ?`, pipeline)
	if err != nil {
		return nil, fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
	}
	defer rows.Close()
	out := map[AssetID]Asset{}
	for rows.Next() {
		var a Asset
		var typ, key string
		if err := rows.Scan(&typ, &a.PowerBI.ID, &key, &a.PowerBI.Name, &a.PowerBI.WorkspaceID, &a.PowerBI.WorkspaceName); err != nil {
			return nil, fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
		}
		a.PowerBI.Type = spec.ContentType(typ)
		if err := json.Unmarshal([]byte(key), &a.Key); err != nil {
			return nil, fmt.Errorf("state %s: pipeline %q: asset %s %s: bad key %q: %w", s.path, pipeline, typ, a.PowerBI.ID, key, err)
		}
		out[IDOf(a.PowerBI)] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state %s: pipeline %q: %w", s.path, pipeline, err)
	}
	return out, nil
}

// Removed lists the assets of prev that current no longer has, as events for the
// sinks, in a stable order (type, then id).
func Removed(prev map[AssetID]Asset, current []Asset) []event.Removed {
	now := make(map[AssetID]bool, len(current))
	for i := range current {
		now[IDOf(current[i].PowerBI)] = true
	}
	return RemovedUnless(prev, func(id AssetID, _ Asset) bool { return now[id] })
}

// RemovedUnless is Removed for a caller that can tell whether an asset of prev is still
// there (has) without a list of what is.
func RemovedUnless(prev map[AssetID]Asset, has func(AssetID, Asset) bool) []event.Removed {
	var out []event.Removed
	for id, a := range prev {
		if !has(id, a) {
			out = append(out, event.Removed{Key: a.Key, PowerBI: a.PowerBI})
		}
	}
	slices.SortFunc(out, func(a, b event.Removed) int {
		if c := strings.Compare(string(a.PowerBI.Type), string(b.PowerBI.Type)); c != 0 {
			return c
		}
		return strings.Compare(a.PowerBI.ID, b.PowerBI.ID)
	})
	return out
}

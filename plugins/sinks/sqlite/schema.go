package sqlite

// schema is version 1 of the catalog (README.md documents it). Later versions add
// migrations; a database newer than the sink knows is refused.
const schema = `
CREATE TABLE IF NOT EXISTS assets (
	key            TEXT PRIMARY KEY,      -- key parts joined by "/"
	key_parts      TEXT NOT NULL,         -- JSON array of the key's parts
	type           TEXT NOT NULL,         -- semantic_model, data_source, report, dashboard, ...
	powerbi_id     TEXT NOT NULL,
	name           TEXT NOT NULL,
	workspace_id   TEXT NOT NULL,
	workspace_name TEXT NOT NULL,
	description    TEXT NOT NULL,
	group_name     TEXT NOT NULL,
	kinds          TEXT NOT NULL,         -- JSON array
	owners         TEXT NOT NULL,         -- JSON array
	first_seen_at  TEXT NOT NULL,         -- RFC 3339, when this sink first received it
	updated_at     TEXT NOT NULL,
	removed_at     TEXT                   -- set when pbisync reported it gone
);
CREATE INDEX IF NOT EXISTS assets_powerbi ON assets (type, powerbi_id);
CREATE TABLE IF NOT EXISTS asset_deps (
	asset_key TEXT NOT NULL REFERENCES assets (key) ON DELETE CASCADE,
	dep_key   TEXT NOT NULL,               -- may name an asset outside the catalog (a warehouse table)
	position  INTEGER NOT NULL,
	PRIMARY KEY (asset_key, dep_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS asset_deps_dep ON asset_deps (dep_key);
CREATE TABLE IF NOT EXISTS asset_metadata (
	asset_key TEXT NOT NULL REFERENCES assets (key) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	type      TEXT NOT NULL,               -- text, url, int, float, bool, json, table_schema
	value     TEXT NOT NULL,               -- the value as JSON
	PRIMARY KEY (asset_key, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS asset_tags (
	asset_key TEXT NOT NULL REFERENCES assets (key) ON DELETE CASCADE,
	name      TEXT NOT NULL,
	value     TEXT NOT NULL,
	PRIMARY KEY (asset_key, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS asset_columns (
	asset_key   TEXT NOT NULL REFERENCES assets (key) ON DELETE CASCADE,
	table_name  TEXT NOT NULL,             -- from dagster/table_name or <table>_column_schema
	position    INTEGER NOT NULL,
	column_name TEXT NOT NULL,
	column_type TEXT NOT NULL,
	description TEXT NOT NULL,
	PRIMARY KEY (asset_key, table_name, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refresh_runs (
	request_id     TEXT PRIMARY KEY,
	model_id       TEXT NOT NULL,
	model_name     TEXT NOT NULL,
	workspace_id   TEXT NOT NULL,
	workspace_name TEXT NOT NULL,
	asset_key      TEXT NOT NULL,          -- "" when unknown
	state          TEXT NOT NULL,          -- requested, started, completed, failed, cancelled, timed_out
	refresh_type   TEXT NOT NULL,
	enhanced       INTEGER NOT NULL,
	requested_at   TEXT,
	started_at     TEXT,
	ended_at       TEXT,
	duration_ms    INTEGER,                -- ended_at - started_at
	error          TEXT NOT NULL,
	updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_runs_model ON refresh_runs (model_id, requested_at);
CREATE TABLE IF NOT EXISTS refresh_tables (
	request_id TEXT NOT NULL REFERENCES refresh_runs (request_id) ON DELETE CASCADE,
	table_name TEXT NOT NULL,
	partition  TEXT NOT NULL,
	status     TEXT NOT NULL,
	PRIMARY KEY (request_id, table_name, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS syncs (
	started_at TEXT PRIMARY KEY,
	ended_at   TEXT NOT NULL,
	workspaces INTEGER NOT NULL,
	dropped    INTEGER NOT NULL,
	removed    INTEGER NOT NULL,
	assets     TEXT NOT NULL,              -- JSON object: count by content type
	problems   TEXT NOT NULL,              -- JSON array
	requests   TEXT NOT NULL               -- JSON object: API requests by endpoint
);
`

// schemaVersion is stored in PRAGMA user_version.
const schemaVersion = 1

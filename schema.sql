-- chatgate schema for SQLite (schema version 1). Times are milliseconds since the Unix epoch (UTC).
-- Applied by src/store/sqlite.ts when PRAGMA user_version is 0; later versions are migrations in
-- src/store/sqlite-migrations.ts. PostgreSQL's twin lives in schema.postgres.sql.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,                 -- UUID v4
  username      TEXT NOT NULL UNIQUE,             -- lowercased a-z 0-9 _ -
  email         TEXT UNIQUE,                      -- lowercased, optional
  password_hash TEXT NOT NULL,                    -- bcrypt
  role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  first_name    TEXT,
  last_name     TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
  id             TEXT PRIMARY KEY,                -- public session_id (UUID v4), never the token
  token_hash     BLOB NOT NULL UNIQUE,            -- sha256(token); the token itself is never stored
  user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'backoffice')),
  device_name    TEXT NOT NULL,
  user_agent     TEXT NOT NULL,
  ip             TEXT NOT NULL,
  created_at     INTEGER NOT NULL,
  last_seen_at   INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  revoked_at     INTEGER,
  revoked_reason TEXT
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC, id DESC);
CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Nodes of the gateway: each live process heartbeats here; rows of dead nodes are purged.
CREATE TABLE nodes (
  id           TEXT PRIMARY KEY,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL
) STRICT;

-- One row per live WebSocket, written by the node that holds it.
CREATE TABLE connections (
  id           TEXT PRIMARY KEY,                  -- connection_id
  session_id   TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  node_id      TEXT NOT NULL,
  ip           TEXT NOT NULL,
  user_agent   TEXT NOT NULL,
  connected_at INTEGER NOT NULL
) STRICT;

CREATE INDEX connections_by_user ON connections (user_id);
CREATE INDEX connections_by_session ON connections (session_id);
CREATE INDEX connections_by_node ON connections (node_id);
CREATE INDEX connections_by_time ON connections (connected_at DESC, id DESC);

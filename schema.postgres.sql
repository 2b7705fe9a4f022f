-- chatgate schema for PostgreSQL (schema version 1), the twin of schema.sql. Times are bigint
-- milliseconds since the Unix epoch (UTC). Applied by src/store/postgres-migrate.ts inside one
-- transaction, under an advisory lock, when the schema_version table is empty; later versions are
-- migrations in src/store/postgres-migrations.ts. Tables are created in the connection's
-- search_path (the schema named by `?schema=` in DATABASE_URL, else `public`).
--
-- Ids use COLLATE "C" so that keyset pagination orders them byte-wise, exactly like SQLite.

CREATE TABLE users (
  id            text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),  -- UUID v4
  username      text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),            -- lowercased a-z 0-9 _ -
  email         text CHECK (length(email) <= 254),                                  -- lowercased, optional
  password_hash text NOT NULL,                                                       -- bcrypt
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  disabled      boolean NOT NULL DEFAULT false,
  first_name    text,
  last_name     text,
  created_at    bigint NOT NULL,
  updated_at    bigint NOT NULL,
  CONSTRAINT users_username_unique UNIQUE (username),
  CONSTRAINT users_email_unique UNIQUE (email)
);

CREATE TABLE sessions (
  id             text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),  -- public session_id, never the token
  token_hash     bytea NOT NULL CHECK (octet_length(token_hash) = 32),              -- sha256(token); the token is never stored
  user_id        text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind           text NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'backoffice')),
  device_name    text NOT NULL,
  user_agent     text NOT NULL,
  ip             text NOT NULL,
  created_at     bigint NOT NULL,
  last_seen_at   bigint NOT NULL,
  expires_at     bigint NOT NULL,
  revoked_at     bigint,
  revoked_reason text,
  CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
);

CREATE INDEX sessions_by_user ON sessions (user_id, created_at DESC, id DESC);
CREATE INDEX sessions_by_created ON sessions (created_at DESC, id DESC);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Nodes of the gateway: each live process heartbeats here; rows of dead nodes are purged.
CREATE TABLE nodes (
  id           text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  started_at   bigint NOT NULL,
  heartbeat_at bigint NOT NULL
);

-- One row per live WebSocket, written by the node that holds it.
CREATE TABLE connections (
  id           text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),  -- connection_id
  session_id   text COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id      text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  node_id      text COLLATE "C" NOT NULL,
  ip           text NOT NULL,
  user_agent   text NOT NULL,
  connected_at bigint NOT NULL
);

CREATE INDEX connections_by_user ON connections (user_id);
CREATE INDEX connections_by_session ON connections (session_id);
CREATE INDEX connections_by_node ON connections (node_id);
CREATE INDEX connections_by_time ON connections (connected_at DESC, id DESC);

/** The schema version this code expects; schema.sql creates version 1. */
export const SCHEMA_VERSION = 4

/**
 * Migrations from one version to the next, applied in order inside one transaction at start.
 * Add `{ to: N, sql: 'ALTER TABLE …' }` here and bump SCHEMA_VERSION; never edit a shipped entry.
 */
export const migrations: { to: number; sql: string }[] = [
  {
    // Version 2: the operators' audit trail, tombstones of deleted accounts' sessions (so nodes
    // watching the database still close their sockets), and the accounts listing's order.
    to: 2,
    sql: `
      CREATE TABLE audit_log (
        id       TEXT PRIMARY KEY,
        at       INTEGER NOT NULL,
        actor    TEXT NOT NULL,
        via      TEXT NOT NULL CHECK (via IN ('http', 'service', 'cli')),
        action   TEXT NOT NULL,
        target   TEXT NOT NULL,
        node_id  TEXT NOT NULL,
        count_on TEXT
      ) STRICT;
      CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);
      CREATE TABLE deleted_sessions (
        id         TEXT PRIMARY KEY,
        deleted_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX deleted_sessions_by_time ON deleted_sessions (deleted_at);
      CREATE INDEX users_by_created ON users (created_at DESC, id DESC);
      CREATE INDEX sessions_live_by_created ON sessions (created_at DESC, id DESC) WHERE revoked_at IS NULL;
    `,
  },
  {
    // Version 3: under DUPLICATE_POLICY=reject, the one connection (on one node) holding each
    // session, claimed in one statement so two nodes can never both admit the pair.
    to: 3,
    sql: `
      CREATE TABLE session_claims (
        session_id    TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        node_id       TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        claimed_at    INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX session_claims_by_node ON session_claims (node_id);
    `,
  },
  {
    // Version 4: the listing order of live connections as an ascending index, read backwards.
    // Descending, every new connection went in at the index's left edge, where a full page splits
    // in half and stays half empty: 102 bytes per row instead of ~50 (decision 0358).
    to: 4,
    sql: `
      DROP INDEX connections_by_time;
      CREATE INDEX connections_by_time ON connections (connected_at, id);
    `,
  },
]

/** The schema version this code expects; schema.postgres.sql creates version 1. */
export const PG_SCHEMA_VERSION = 4

/** One step from the previous version to `to`, run inside the migration transaction. */
export interface PgMigration {
  to: number
  sql: string
}

/**
 * Migrations applied in order at open, in one transaction under an advisory lock.
 * Add `{ to: N, sql: 'ALTER TABLE …' }` here and bump PG_SCHEMA_VERSION (and the SQLite twin in
 * sqlite-migrations.ts); never edit a shipped entry.
 */
export const pgMigrations: PgMigration[] = [
  {
    // Version 2: the operators' audit trail, tombstones of deleted accounts' sessions (so nodes
    // watching the database still close their sockets), and the accounts listing's order.
    to: 2,
    sql: `
      CREATE TABLE audit_log (
        id       text COLLATE "C" PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
        at       bigint NOT NULL,
        actor    text NOT NULL,
        via      text NOT NULL CHECK (via IN ('http', 'service', 'cli')),
        action   text NOT NULL,
        target   text NOT NULL,
        node_id  text NOT NULL,
        count_on text
      );
      CREATE INDEX audit_log_by_time ON audit_log (at DESC, id DESC);
      CREATE TABLE deleted_sessions (
        id         text COLLATE "C" PRIMARY KEY,
        deleted_at bigint NOT NULL
      );
      CREATE INDEX deleted_sessions_by_time ON deleted_sessions (deleted_at);
      CREATE INDEX users_by_created ON users (created_at DESC, id DESC);
      CREATE INDEX sessions_live_by_created ON sessions (created_at DESC, id DESC) WHERE revoked_at IS NULL;
    `,
  },
  {
    // Version 3: under DUPLICATE_POLICY=reject, the one connection (on one node) holding each
    // session; the primary key makes the claim unique, INSERT … ON CONFLICT makes it atomic.
    to: 3,
    sql: `
      CREATE TABLE session_claims (
        session_id    text COLLATE "C" PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        node_id       text COLLATE "C" NOT NULL,
        connection_id text COLLATE "C" NOT NULL,
        claimed_at    bigint NOT NULL
      );
      CREATE INDEX session_claims_by_node ON session_claims (node_id);
    `,
  },
  {
    // Version 4: the listing order of live connections as an ascending index, read backwards
    // (new rows land at its right edge, where pages fill instead of splitting in half; decision 0358).
    to: 4,
    sql: `
      DROP INDEX connections_by_time;
      CREATE INDEX connections_by_time ON connections (connected_at, id);
    `,
  },
]

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createPostgresPool, parsePostgresUrl } from '../../src/store/postgres-pool.js'
import { newSchemaName, pgAdmin, pgUrlFor, requirePostgres } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'

await requirePostgres()

/**
 * A pooled connection the server drops while it is checked out (between two queries of a
 * transaction, say) emits 'error' with no query to fail. pg's pool listens only on idle
 * connections, so without a listener of the store's own that error would end the process (and
 * this test file with it). The store reports it as an outage instead.
 */
test('should report a connection broken while checked out, not end the process', async () => {
  const reported: Error[] = []
  const pool = createPostgresPool(parsePostgresUrl(pgUrlFor(newSchemaName())), { onError: (err) => reported.push(err) })
  try {
    const client = await pool.connect()
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    await pgAdmin('SELECT pg_terminate_backend($1)', [rows[0]!.pid])
    await waitFor(() => reported.length > 0, 5_000, 'the broken connection to be reported')
    assert.match(reported[0]!.message, /terminat|Connection/i)
    client.release(true)
    // The pool goes on with a fresh connection.
    const again = await pool.query<{ one: number }>('SELECT 1 AS one')
    assert.is(again.rows[0]!.one, 1)
  } finally {
    await pool.end()
  }
})

test.run()

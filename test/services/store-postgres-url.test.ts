import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodeProcess, type NodeProcess } from '../helpers/node-process.js'
import { pgUrlFor, requirePostgres } from '../helpers/services.js'

await requirePostgres()

let node: NodeProcess | undefined

test.after.each(async () => {
  if (node) assert.is(await node.stop(), 0, 'the node exits 0 on SIGTERM')
  node = undefined
})

test('postgres url › should refuse to start on a PostgreSQL URL with a bad schema name, saying why', async () => {
  const bad = await startNodeProcess({ DATABASE_URL: pgUrlFor('Bad-Name') }, 30_000).then(
    (n) => {
      node = n
      return null
    },
    (e: Error) => e,
  )
  assert.instance(bad, Error)
  assert.match(bad!.message, /invalid schema name in DATABASE_URL/)
})

test.run()

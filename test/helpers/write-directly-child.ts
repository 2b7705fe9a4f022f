// A separate OS process that writes one statement into a chatgate database and prints the time (ms)
// it began the write: `node --import tsx test/helpers/write-directly-child.ts <databaseUrl> <sql> <json params>`.
// (The time after the commit returned would be too late: a server may see the commit, over
// PostgreSQL's wire, before this process hears its acknowledgement and closes its pool.)
import { writeDirectly } from './write-directly.js'

const [url, sql, params] = process.argv.slice(2)
const startedAt = Date.now()
await writeDirectly(url!, sql!, JSON.parse(params ?? '[]') as unknown[])
process.stdout.write(String(startedAt))

// A separate OS process that writes one statement into a chatgate database, then prints the commit
// time (ms): `node --import tsx test/helpers/write-directly-child.ts <databaseUrl> <sql> <json params>`.
import { writeDirectly } from './write-directly.js'

const [url, sql, params] = process.argv.slice(2)
await writeDirectly(url!, sql!, JSON.parse(params ?? '[]') as unknown[])
process.stdout.write(String(Date.now()))

/**
 * Compares two V8 heap snapshots (from `npm run bench -- --only 2 --heap`) and prints what grew,
 * by object kind (constructor, closure or string), total and per connection.
 *   npx tsx bench/heap-top.ts before.heapsnapshot after.heapsnapshot [connections] [count]
 */
import { readFileSync } from 'node:fs'

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } }
  nodes: number[]
  strings: string[]
}

/** Self size summed by "type name" (objects by constructor, closures by function name). */
function sizesByKind(file: string): Map<string, { size: number; count: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot
  const fields = snap.snapshot.meta.node_fields
  const types = snap.snapshot.meta.node_types[0]
  const width = fields.length
  const [iType, iName, iSize] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number]
  const out = new Map<string, { size: number; count: number }>()
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!
    const name = type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '' : snap.strings[snap.nodes[i + iName]!]!
    const key = `${type} ${name.slice(0, 60)}`.trim()
    const e = out.get(key) ?? { size: 0, count: 0 }
    e.size += snap.nodes[i + iSize]!
    e.count++
    out.set(key, e)
  }
  return out
}

const [beforeFile, afterFile, connArg, countArg] = process.argv.slice(2)
if (!beforeFile || !afterFile) {
  process.stderr.write('usage: tsx bench/heap-top.ts before.heapsnapshot after.heapsnapshot [connections] [count]\n')
  process.exit(2)
}
const conns = Number(connArg ?? 1)
const before = sizesByKind(beforeFile)
const after = sizesByKind(afterFile)
const growth = [...after].map(([k, a]) => {
  const b = before.get(k) ?? { size: 0, count: 0 }
  return { k, size: a.size - b.size, count: a.count - b.count }
})
const total = growth.reduce((s, g) => s + g.size, 0)
process.stdout.write(`heap grew ${(total / 1024).toFixed(0)} KiB = ${(total / conns).toFixed(0)} B per connection (${conns})\n\n`)
process.stdout.write('   B/conn  objects/conn  kind\n')
for (const g of growth.sort((a, b) => b.size - a.size).slice(0, Number(countArg ?? 30))) {
  process.stdout.write(`${(g.size / conns).toFixed(0).padStart(9)}  ${(g.count / conns).toFixed(2).padStart(12)}  ${g.k}\n`)
}

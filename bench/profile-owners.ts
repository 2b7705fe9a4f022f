/**
 * Where a server's CPU per handshake goes, by the code that asked for it: every profile sample is
 * charged to the nearest frame on its stack that is the server's own code (src/… or
 * bench/servers/…), by file, or to `(outside: ws, node, GC…)` when none is. Idle time and start-up
 * (module loading, esbuild) are left out; the rest is scaled to the µs per handshake measured in
 * the same run. Two profiles side by side show where one server's extra µs go.
 *   npx tsx bench/profile-owners.ts A.cpuprofile µsA [B.cpuprofile µsB]
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const STARTUP = /node:internal\/modules|node_modules\/(esbuild|tsx)\/|node:internal\/bootstrap/
const OWN = /^(src|dist|bench\/servers)\//
/** Functions that only run while the server starts. */
const STARTUP_ROOTS = new Set(['createApp', 'buildOpenApi', 'startNode', 'buildAssets'])

/** Share of the non-idle, non-start-up time per owner. */
export function owners(profile: CpuProfile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parentOf = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id)
  const file = (n: ProfileNode) => relative(process.cwd(), n.callFrame.url.replace(/^file:\/\//, ''))
  const startup = new Map<number, boolean>()
  const isStartup = (id: number): boolean => {
    if (startup.has(id)) return startup.get(id)!
    const n = byId.get(id)!
    const p = parentOf.get(id)
    const yes = STARTUP.test(n.callFrame.url) || STARTUP_ROOTS.has(n.callFrame.functionName) || (p !== undefined && isStartup(p))
    startup.set(id, yes)
    return yes
  }
  const ownerOf = new Map<number, string | null>()
  const resolve = (id: number): string | null => {
    if (ownerOf.has(id)) return ownerOf.get(id)!
    const n = byId.get(id)!
    let owner: string | null
    if (n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') owner = null
    else if (isStartup(id)) owner = null
    else if (OWN.test(file(n))) owner = file(n)
    else {
      const p = parentOf.get(id)
      const up = p === undefined ? undefined : resolve(p)
      owner =
        up === null
          ? null
          : up !== undefined
            ? up
            : n.callFrame.functionName === '(garbage collector)'
              ? '(garbage collector)'
              : '(outside: ws, node, libraries)'
    }
    ownerOf.set(id, owner)
    return owner
  }
  const total = new Map<string, number>()
  let sum = 0
  for (const [i, id] of profile.samples.entries()) {
    const o = resolve(id)
    if (o === null) continue
    const us = profile.timeDeltas[i] ?? 0
    total.set(o, (total.get(o) ?? 0) + us)
    sum += us
  }
  return new Map([...total].map(([k, v]) => [k, v / sum]))
}

if (process.argv[1]?.endsWith('profile-owners.ts')) {
  const [fa, ua, fb, ub] = process.argv.slice(2)
  if (!fa || !ua) {
    process.stderr.write('usage: tsx bench/profile-owners.ts A.cpuprofile µsA [B.cpuprofile µsB]\n')
    process.exit(2)
  }
  const load = (f: string) => owners(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile)
  const a = load(fa)
  const b = fb ? load(fb) : new Map<string, number>()
  const keys = [...new Set([...a.keys(), ...b.keys()])]
  const usA = (k: string) => (a.get(k) ?? 0) * Number(ua)
  const usB = (k: string) => (b.get(k) ?? 0) * Number(ub ?? 0)
  keys.sort((x, y) => usA(y) - usB(y) - (usA(x) - usB(x)))
  const lines = ['| charged to | A µs/handshake | B µs/handshake | A − B |', '| --- | ---: | ---: | ---: |']
  for (const k of keys)
    if (usA(k) >= 5 || usB(k) >= 5) lines.push(`| ${k} | ${usA(k).toFixed(0)} | ${fb ? usB(k).toFixed(0) : '–'} | ${fb ? (usA(k) - usB(k)).toFixed(0) : '–'} |`)
  lines.push(`| **total** | ${ua} | ${ub ?? '–'} | ${fb ? (Number(ua) - Number(ub)).toFixed(0) : '–'} |`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

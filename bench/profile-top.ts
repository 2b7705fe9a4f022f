/**
 * Prints the top frames of a V8 CPU profile (from `npm run bench -- --profile`, or any
 * `node --cpu-prof` run) by self time, and the self time summed per source file.
 *   npx tsx bench/profile-top.ts bench/results/profiles/CPU.….cpuprofile [count] [--callers NAME]
 * With --callers, also the call stacks (by self time) that lead to frames named NAME.
 */
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const args = process.argv.slice(2)
const callersOf = args.includes('--callers') ? args.splice(args.indexOf('--callers'), 2)[1] : undefined
const [file, countArg] = args
if (!file) {
  process.stderr.write('usage: tsx bench/profile-top.ts <file.cpuprofile> [count]\n')
  process.exit(2)
}
const count = Number(countArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
for (const [i, id] of profile.samples.entries()) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const parentOf = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id)

const where = (n: ProfileNode) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '')
  return url ? `${relative(process.cwd(), url)}:${n.callFrame.lineNumber + 1}` : '(native)'
}
const frames = new Map<string, number>()
const files = new Map<string, number>()
for (const [id, us] of selfUs) {
  const n = byId.get(id)!
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`
  frames.set(key, (frames.get(key) ?? 0) + us)
  const f = n.callFrame.url
    ? relative(process.cwd(), n.callFrame.url.replace(/^file:\/\//, '')).replace(/node_modules\/([^/]+)\/.*/, 'node_modules/$1')
    : n.callFrame.functionName
  files.set(f, (files.get(f) ?? 0) + us)
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const top = (m: Map<string, number>) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([k, us]) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`)
    .join('\n')
process.stdout.write(`${(total / 1e6).toFixed(1)} s sampled\n\nself time by frame:\n${top(frames)}\n\nself time by file / package:\n${top(files)}\n`)

if (callersOf) {
  const stacks = new Map<string, number>()
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName !== callersOf) continue
    const chain: string[] = []
    for (let p = parentOf.get(id); p !== undefined && chain.length < 12; p = parentOf.get(p)) {
      const n = byId.get(p)!
      chain.push(`${n.callFrame.functionName || '(anonymous)'} ${where(n)}`)
    }
    const key = chain.join('\n      ← ')
    stacks.set(key, (stacks.get(key) ?? 0) + us)
  }
  process.stdout.write(`\ncall stacks into ${callersOf}:\n${top(stacks).replace(/ms {2}/g, 'ms\n      ← ')}\n`)
}

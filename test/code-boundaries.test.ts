import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

/**
 * The import graph of src/, read from the files: which module may import which. A layer may import
 * its own and lower layers, never a higher one; the gateway and the HTTP layer never import each
 * other (what both need lives in request/, envelope.ts and below); and there is no cycle at all.
 */
const src = fileURLToPath(new URL('../src/', import.meta.url))

/** Layers from the bottom; a module's layer is its folder's, or its own name's for top-level files. */
const LAYERS: string[][] = [
  ['errors.ts', 'envelope.ts', 'config.ts', 'log.ts', 'version.ts', 'metrics.ts', 'store', 'health', 'request', 'web'],
  ['cluster'],
  ['limits', 'auth', 'accounts', 'views.ts'],
  ['operators'],
  ['gateway', 'http', 'cli', 'client', 'console'],
  ['backstop.ts', 'bootstrap-admin.ts', 'app.ts', 'node.ts', 'main.ts'],
]

const unitOf = (file: string) => relative(src, file).split('/')[0]!
const layerOf = (file: string) => LAYERS.findIndex((units) => units.includes(unitOf(file)))

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return filesUnder(path)
    return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') ? [path] : []
  })
}

/** The src/ files a file imports (static and dynamic, `import type` included). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    normalize(join(dirname(file), m[1]!)).replace(/\.js$/, (ext) => (statSafe(file, m[1]!) ? ext : '.ts')),
  )
}
const statSafe = (from: string, spec: string) => {
  try {
    return statSync(join(dirname(from), spec)).isFile()
  } catch {
    return false
  }
}

const files = filesUnder(src)
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(src))]))

test('boundaries › should place every module of src/ in a layer', () => {
  const unplaced = files.filter((f) => layerOf(f) === -1).map((f) => relative(src, f))
  assert.equal(unplaced, [], 'add new folders to LAYERS in this test')
})

test('boundaries › should never import a higher layer', () => {
  const upward: string[] = []
  for (const [file, targets] of graph) {
    for (const t of targets) if (layerOf(t) > layerOf(file)) upward.push(`${relative(src, file)} → ${relative(src, t)}`)
  }
  assert.equal(upward, [])
})

test('boundaries › should keep gateway/ and http/ from importing each other', () => {
  const crossing: string[] = []
  for (const [file, targets] of graph) {
    const from = unitOf(file)
    for (const t of targets) {
      const to = unitOf(t)
      if ((from === 'gateway' && to === 'http') || (from === 'http' && to === 'gateway')) crossing.push(`${relative(src, file)} → ${relative(src, t)}`)
    }
  }
  assert.equal(crossing, [])
})

test('boundaries › should have no import cycle', () => {
  const state = new Map<string, 'open' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(' → '))
      return
    }
    state.set(file, 'open')
    for (const t of graph.get(file) ?? []) visit(t, [...path, file])
    state.set(file, 'done')
  }
  for (const f of files) visit(f, [])
  assert.equal(cycles, [])
})

/** What the client SDK (src/client/, bundled for browsers) may take from the server: pure modules only. */
const CLIENT_MAY_IMPORT = ['gateway/close-codes.ts', 'gateway/frames.ts', 'gateway/subprotocol.ts'].map((f) => join(src, f))

/** The src/ files a file imports as values (what a bundle pulls in); `import type` is erased. */
function valueImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.{1,2}\/[^']+)'/gm)].map((m) =>
    normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  )
}

test('boundaries › should let the client SDK take values only from its own folder and the pure gateway modules', () => {
  const clientDir = join(src, 'client')
  const seen = new Set<string>()
  const offending: string[] = []
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const t of valueImportsOf(file)) {
      if (!t.startsWith(clientDir) && !CLIENT_MAY_IMPORT.includes(t)) offending.push(`${relative(src, file)} → ${relative(src, t)}`)
      else visit(t)
    }
  }
  for (const f of files.filter((f) => f.startsWith(clientDir))) visit(f)
  assert.ok(seen.size > 5, 'the client SDK was found')
  assert.equal(offending, [])
})

test('boundaries › should resolve every relative import to a file that exists', () => {
  const missing = [...graph].flatMap(([file, targets]) => targets.filter((t) => !files.includes(t)).map((t) => `${relative(src, file)} → ${relative(src, t)}`))
  assert.equal(missing, [])
})

test.run()

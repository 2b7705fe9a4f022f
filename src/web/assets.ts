import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/** One file the server hands to browsers, built once at start. */
export interface WebAsset {
  body: Buffer
  contentType: string
  /** A strong validator of `body`, for `ETag` / `If-None-Match`. */
  etag: string
}

/** What to build: a source under src/ (TypeScript or CSS), bundled into one file. */
export interface WebEntry {
  /** Path relative to src/, e.g. `client/browser.ts`. */
  source: string
  contentType: string
}

/** src/, from src/web/ (tests, tsx) and dist/web/ (production) alike: the sources ship beside dist/. */
const srcDir = fileURLToPath(new URL('../../src/', import.meta.url))

/**
 * Bundles each entry with esbuild (ES2022 modules, minified, no source maps) into memory. Runs at
 * start-up, so what a node serves is always built from the sources it runs: there is no step for
 * an operator to remember and no stale file to serve.
 */
export async function buildWebAssets(entries: Record<string, WebEntry>): Promise<Map<string, WebAsset>> {
  const built = await Promise.all(
    Object.entries(entries).map(async ([name, entry]) => {
      const result = await build({
        entryPoints: [srcDir + entry.source],
        bundle: true,
        write: false,
        minify: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        legalComments: 'none',
        logLevel: 'silent',
      })
      const body = Buffer.from(result.outputFiles[0]!.contents)
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
      return [name, { body, contentType: entry.contentType, etag }] as const
    }),
  )
  return new Map(built)
}

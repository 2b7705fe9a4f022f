import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** Newest modification time (ms) of the files under `dir`, recursively. */
function newestUnder(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestUnder(path) : statSync(path).mtimeMs)
  }
  return newest
}

/**
 * Whether dist/ (the compiled build, `npm run build`) is at least as new as every file under src/:
 * only then may the bench start chatgate as `node dist/main.js`, which starts in a second or two
 * where compiling TypeScript with tsx took over 30 s on a loaded machine.
 */
export function buildIsFresh(root: string): boolean {
  const main = join(root, 'dist/main.js')
  if (!existsSync(main)) return false
  const built = newestUnder(join(root, 'dist'))
  return built >= newestUnder(join(root, 'src')) && statSync(main).mtimeMs > 0
}

/** Runs `npm run build` in `root` (its output goes to the runner's stderr). */
export function build(root: string): void {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] })
}

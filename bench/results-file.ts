import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const begin = (name: string) => `<!-- bench:${name}:begin -->`
const end = (name: string) => `<!-- bench:${name}:end -->`

/**
 * Replaces the block between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->` with
 * `content`, or appends the block when the markers are missing. The text around the blocks
 * (the hand-written notes) is kept.
 */
export function replaceBlock(markdown: string, name: string, content: string): string {
  const block = `${begin(name)}\n${content.trim()}\n${end(name)}`
  const from = markdown.indexOf(begin(name))
  const to = markdown.indexOf(end(name))
  if (from >= 0 && to > from) return markdown.slice(0, from) + block + markdown.slice(to + end(name).length)
  return `${markdown.trimEnd()}\n\n${block}\n`
}

/** Writes `content` into the named block of the file (creating the file if needed). */
export function writeBlock(path: string, name: string, content: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : ''
  writeFileSync(path, replaceBlock(current, name, content))
}

// Runs in a piscina worker thread so bcrypt never blocks the event loop. Plain JS on purpose:
// the worker needs no TypeScript loader. Input lengths were checked by the caller (≤ 72 bytes).
import bcrypt from 'bcryptjs'

/** @param {{ op: 'hash', password: string, cost: number } | { op: 'compare', password: string, hash: string }} task */
export default async function run(task) {
  if (task.op === 'hash') return bcrypt.hash(task.password, task.cost)
  if (task.op === 'compare') return bcrypt.compare(task.password, task.hash)
  throw new Error(`unknown password task ${String(task.op)}`)
}

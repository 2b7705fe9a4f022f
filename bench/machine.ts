import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

/** What RESULTS.md records about the machine a run happened on. */
export interface MachineInfo {
  nproc: number
  cpuModel: string
  node: string
  os: string
  /** 1-minute load average at the moment of the call (the machine may be shared). */
  loadAvg1: number
  fdLimit: number
}

/** Reads the machine description and the open-files limit this process (and its children) inherit. */
export function describeMachine(): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg1: os.loadavg()[0] ?? 0,
    fdLimit: readFdLimit(),
  }
}

/** `ulimit -n` as a shell started from here sees it (children inherit the same soft limit). */
export function readFdLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()
    return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out)
  } catch {
    return Number.NaN
  }
}

/** CPUs this process may run on (Cpus_allowed_list), e.g. [0, 1]. */
export function allowedCpus(): number[] {
  try {
    const line = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]
    if (!line) return []
    return line.split(',').flatMap((part) => {
      const [a, b] = part.split('-').map(Number)
      if (a === undefined || Number.isNaN(a)) return []
      if (b === undefined) return [a]
      return Array.from({ length: b - a + 1 }, (_, i) => a + i)
    })
  } catch {
    return []
  }
}

/** How server and load generator are placed: one core each with taskset, or unpinned. */
export interface Placement {
  serverCpu: number | null
  clientCpu: number | null
  /** Set when pinning was not possible; printed and recorded with the results. */
  warning: string | null
}

/** Picks two distinct allowed CPUs and checks that taskset works; falls back to no pinning. */
export function choosePlacement(): Placement {
  const cpus = allowedCpus()
  if (cpus.length < 2) {
    return {
      serverCpu: null,
      clientCpu: null,
      warning: `only ${cpus.length || 'an unknown number of'} CPU(s) allowed: server and load generator are NOT pinned and share cores`,
    }
  }
  try {
    execFileSync('taskset', ['-c', String(cpus[0]), 'true'], { stdio: 'ignore' })
  } catch {
    return { serverCpu: null, clientCpu: null, warning: 'taskset is not available (util-linux): server and load generator are NOT pinned' }
  }
  return { serverCpu: cpus[0]!, clientCpu: cpus[1]!, warning: null }
}

/** The argv that runs `argv` on `cpu` (or unpinned when cpu is null). */
export function pinned(cpu: number | null, argv: string[]): string[] {
  return cpu === null ? argv : ['taskset', '-c', String(cpu), ...argv]
}

/**
 * Function-call interrupts (the `CAL` row of /proc/interrupts) CPU `cpu` has received so far, or
 * null where the kernel does not report them. Linux wakes a thread on an idle CPU with one; in a
 * VM each costs the sending CPU an exit to the hypervisor. Counted on the load generator's CPU,
 * they show how often a server had to wake an idle load generator.
 */
export function callInterrupts(cpu: number): number | null {
  try {
    const lines = readFileSync('/proc/interrupts', 'utf8').split('\n')
    const cpus = lines[0]!.trim().split(/\s+/)
    const column = cpus.indexOf(`CPU${cpu}`)
    const row = lines.find((l) => l.trimStart().startsWith('CAL:'))
    if (column === -1 || !row) return null
    const n = Number(row.trim().split(/\s+/)[column + 1])
    return Number.isFinite(n) ? n : null
  } catch {
    return null
  }
}

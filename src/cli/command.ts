import type { ParseArgsConfig } from 'node:util'
import type { CliContext } from './context.js'

/** Where a command reads and writes; process streams in production, the same in tests (child processes). */
export interface CliIo {
  out(text: string): void
  err(text: string): void
  stdin: NodeJS.ReadableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
}

/** What `run` receives once the command line parsed. */
export interface CommandInput {
  values: Record<string, string | boolean | undefined>
  /** The positionals named in `args`, in order. */
  args: string[]
  json: boolean
  io: CliIo
  ctx: CliContext
}

/** One `chatgate …` command: its words, help, options and what it does. */
export interface Command {
  /** The words after `chatgate`, e.g. `['user', 'add']`. */
  words: string[]
  /** One line for the command list. */
  summary: string
  /** The full `--help` text. */
  help: string
  options: NonNullable<ParseArgsConfig['options']>
  /** Names of the required positionals, in order. */
  args: string[]
  /** May create the SQLite file (only `user add`: provisioning before the first start). */
  createsDatabase?: boolean
  run(input: CommandInput): Promise<void>
}

/** Options every command takes. */
export const commonOptions = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>

/** The lines every help text ends with. */
export const commonHelp = `  --json        print JSON for scripts instead of a table
  -h, --help    show this help`

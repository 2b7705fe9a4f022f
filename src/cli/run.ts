import { parseArgs } from 'node:util'
import { ConfigError } from '../config.js'
import { toApiError } from '../errors.js'
import type { CliIo, Command } from './command.js'
import { devices } from './commands/devices.js'
import { sessionsList, sessionsRevoke } from './commands/sessions.js'
import { userAdd, userDisable, userEnable, userPasswd } from './commands/user.js'
import { withContext } from './context.js'
import { CliError, ExitCode, UsageError } from './errors.js'

/** Every command, in the order of the help; the longest matching word list wins (`sessions revoke`). */
const commands: Command[] = [userAdd, userDisable, userEnable, userPasswd, devices, sessionsList, sessionsRevoke]

const list = (cmds: Command[]) => cmds.map((c) => `  ${c.words.join(' ').padEnd(16)} ${c.summary}`).join('\n')

const topHelp = `usage: chatgate <command> [options]

Operates a chatgate server's database: DATABASE_URL (default ./data/chatgate.db), the
same file the server uses; the server may be running on it.

commands:
${list(commands)}

Every command takes --help, and --json for output that scripts read.
Exit codes: 0 ok, 1 error, 2 usage error.
`

const userHelp = `usage: chatgate user <add|disable|enable|passwd> <name> [options]

${list(commands.filter((c) => c.words[0] === 'user'))}

Run chatgate user <command> --help for the options of one.
`

const isHelpFlag = (a: string | undefined) => a === '--help' || a === '-h'

/** The command named by the leading words of argv, and the rest of the arguments. */
function resolve(argv: string[]): { command: Command; rest: string[] } {
  const matches = commands.filter((c) => c.words.every((w, i) => argv[i] === w)).sort((a, b) => b.words.length - a.words.length)
  const command = matches[0]
  if (command) return { command, rest: argv.slice(command.words.length) }
  if (argv[0] === 'user') throw new UsageError(argv[1] === undefined ? 'missing user command' : `unknown user command "${argv[1]}"`, userHelp)
  throw new UsageError(argv[0] === undefined ? 'missing command' : `unknown command "${argv[0]}"`, topHelp)
}

/** parseArgs over a command's options; a malformed command line becomes that command's usage error. */
function parseCommandLine(command: Command, args: string[]) {
  try {
    return parseArgs({ args, options: command.options, allowPositionals: true, strict: true })
  } catch (e) {
    if (e instanceof TypeError && String((e as { code?: string }).code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(e.message, command.help)
    throw e
  }
}

async function dispatch(argv: string[], io: CliIo): Promise<number> {
  if (argv[0] === 'help' || isHelpFlag(argv[0])) {
    const wanted = argv.slice(1)
    io.out(wanted.length > 0 ? resolve(wanted).command.help : topHelp)
    return ExitCode.Ok
  }
  if (argv[0] === 'user' && isHelpFlag(argv[1])) {
    io.out(userHelp)
    return ExitCode.Ok
  }
  const { command, rest } = resolve(argv)
  const parsed = parseCommandLine(command, rest)
  const values = parsed.values as Record<string, string | boolean | undefined>
  if (values.help) {
    io.out(command.help)
    return ExitCode.Ok
  }
  const { positionals } = parsed
  if (positionals.length < command.args.length) throw new UsageError(`missing <${command.args[positionals.length]}>`, command.help)
  if (positionals.length > command.args.length) throw new UsageError(`unexpected argument "${positionals[command.args.length]}"`, command.help)
  try {
    await withContext(io.env, command.createsDatabase === true, (ctx) => command.run({ values, args: positionals, json: values.json === true, io, ctx }))
  } catch (e) {
    // An option value the command rejected: show that command's usage with the message.
    if (e instanceof UsageError && e.usage === undefined) throw new UsageError(e.message, command.help)
    throw e
  }
  return ExitCode.Ok
}

/** Runs one CLI invocation and returns its exit code; errors go to stderr, never a stack for expected ones. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`chatgate: ${e.message}\n${e.usage ? `\n${e.usage}` : ''}`)
      return ExitCode.Usage
    }
    const expected = toApiError(e)
    if (expected) io.err(`chatgate: ${expected.code}: ${expected.message}\n`)
    else if (e instanceof CliError || e instanceof ConfigError) io.err(`chatgate: ${e.message}\n`)
    else io.err(`chatgate: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
    return ExitCode.Error
  }
}

import { parseEmail } from '../../auth/rules.js'
import { findUser, setUserDisabled } from '../../operators/operators.js'
import type { UserRow } from '../../store/types.js'
import { toAdminUserView } from '../../views.js'
import { commonHelp, commonOptions, type Command, type CommandInput } from '../command.js'
import { CliError } from '../errors.js'
import { inert, renderJson } from '../output.js'
import { generatePassword, readPipedPassword } from '../password-input.js'

const PASSWORD_SOURCE = `The password is read from stdin when stdin is not a terminal (one line; its
trailing newline is dropped). Otherwise, or when stdin is empty (</dev/null), a random
password is generated and printed once.`

/** Stdin's password, or a generated one that must be shown. */
async function choosePassword(io: CommandInput['io']): Promise<{ password: string; generated: boolean }> {
  const piped = await readPipedPassword(io.stdin)
  return piped === null ? { password: generatePassword(), generated: true } : { password: piped, generated: false }
}

async function requireUser(input: CommandInput, name: string): Promise<UserRow> {
  const user = await findUser(input.ctx.store, name)
  if (!user) throw new CliError(`no user "${inert(name)}"`)
  return user
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

export const userAdd: Command = {
  words: ['user', 'add'],
  summary: 'create an account (password from stdin, else generated and printed once)',
  help: `usage: chatgate user add <name> [--admin] [--email E] [--json]

Creates an account.
${PASSWORD_SOURCE}

  --admin       an operator account (role admin): it may open backoffice sessions
  --email E     email address (lets the account log in over the Dialogram dialect)
${commonHelp}
`,
  options: { ...commonOptions, admin: { type: 'boolean' }, email: { type: 'string' } },
  args: ['name'],
  createsDatabase: true,
  async run(input) {
    const { ctx, io, values } = input
    const email = typeof values.email === 'string' ? parseEmail(values.email) : null
    const { password, generated } = await choosePassword(io)
    const user = await ctx.accounts.createUser({ username: input.args[0]!, password, email, role: values.admin ? 'admin' : 'user' })
    await ctx.audit('add_user', user.username, { user_id: user.id, role: user.role })
    if (input.json) {
      io.out(renderJson({ user: toAdminUserView(user), ...(generated ? { password } : {}) }))
      return
    }
    io.out(`created ${user.role === 'admin' ? 'admin' : 'user'} ${user.username} (${user.id})\n`)
    if (generated) io.out(`password: ${password}\n(shown once: store it now)\n`)
  },
}

function disableCommand(disabled: boolean): Command {
  const verb = disabled ? 'disable' : 'enable'
  return {
    words: ['user', verb],
    summary: disabled ? 'disable an account and revoke all its sessions' : 'let a disabled account log in again',
    help: `usage: chatgate user ${verb} <name> [--json]

${
  disabled
    ? 'Disables the account: it can no longer log in, and every session of it is revoked\n(its live sockets close with 4501 within a second on the running server).'
    : 'Enables a disabled account: it can log in again. Sessions revoked by disabling stay revoked.'
}

${commonHelp}
`,
    options: { ...commonOptions },
    args: ['name'],
    async run(input) {
      const { ctx, io } = input
      const done = await setUserDisabled(ctx.store, ctx.accounts, input.args[0]!, disabled)
      if (!done) throw new CliError(`no user "${inert(input.args[0]!)}"`)
      await ctx.audit(`${verb}_user`, done.user.username, { user_id: done.user.id, revoked: done.revoked })
      if (input.json) io.out(renderJson({ user: toAdminUserView(done.user), revoked: done.revoked }))
      else io.out(`${verb}d ${done.user.username}${disabled ? `; revoked ${plural(done.revoked, 'session')}` : ''}\n`)
    },
  }
}

export const userDisable = disableCommand(true)
export const userEnable = disableCommand(false)

export const userPasswd: Command = {
  words: ['user', 'passwd'],
  summary: 'set a new password (stdin, else generated); revokes all sessions',
  help: `usage: chatgate user passwd <name> [--json]

Sets a new password without the old one and revokes every session of the account.
${PASSWORD_SOURCE}

${commonHelp}
`,
  options: { ...commonOptions },
  args: ['name'],
  async run(input) {
    const { ctx, io } = input
    const user = await requireUser(input, input.args[0]!)
    const { password, generated } = await choosePassword(io)
    const revoked = (await ctx.accounts.resetPassword(user.id, password)).length
    await ctx.audit('reset_password', user.username, { user_id: user.id, revoked })
    if (input.json) {
      io.out(renderJson({ user: toAdminUserView(user), revoked, ...(generated ? { password } : {}) }))
      return
    }
    io.out(`password of ${user.username} changed; revoked ${plural(revoked, 'session')}\n`)
    if (generated) io.out(`password: ${password}\n(shown once: store it now)\n`)
  },
}

import { liveNodesSince } from '../../cluster/liveness.js'
import { listSessions, revokeSessionAsAdmin } from '../../operators/operators.js'
import { encodeCursor, toAdminSessionView } from '../../views.js'
import { commonHelp, commonOptions, type Command } from '../command.js'
import { CliError } from '../errors.js'
import { listHelp, listOptions, moreRowsHint, readListOptions } from '../list-options.js'
import { inert, renderJson, renderTable, shortTime } from '../output.js'

export const sessionsList: Command = {
  words: ['sessions'],
  summary: 'sessions, newest first: active ones, or every state with --all',
  help: `usage: chatgate sessions [--user U] [--all] [--limit N] [--cursor C] [--json]
       chatgate sessions revoke <session_id> [--json]

Lists sessions (one per logged-in device), newest first: only active ones unless --all
(then revoked and expired ones too). ONLINE counts the session's live sockets.
A page may hold fewer rows than --limit when many rows are skipped; only the absence of a
next cursor means the end.

  --all         include revoked and expired sessions
${listHelp}
${commonHelp}
`,
  options: { ...listOptions, all: { type: 'boolean' } },
  args: [],
  async run({ ctx, io, values, json }) {
    const now = ctx.now()
    const page = await listSessions(
      ctx.store,
      { ...readListOptions(values), activeOnly: values.all !== true },
      now,
      liveNodesSince(ctx.config.nodeHeartbeatMs, now),
    )
    const rows = page.rows.map((r) => toAdminSessionView(r.session, r.connections, now))
    const next = encodeCursor(page.next)
    if (json) {
      io.out(renderJson({ sessions: rows, next_cursor: next }))
      return
    }
    if (rows.length === 0) io.out(values.all ? 'no sessions\n' : 'no active sessions\n')
    else
      io.out(
        renderTable(
          [
            { header: 'SESSION', max: 36 },
            { header: 'USER' },
            { header: 'KIND' },
            { header: 'DEVICE', max: 24 },
            { header: 'IP', max: 39 },
            { header: 'STATE' },
            { header: 'ONLINE' },
            { header: 'CREATED' },
            { header: 'LAST SEEN' },
          ],
          rows.map((s) => [
            s.session_id,
            s.username,
            s.kind,
            s.device_name,
            s.ip,
            s.state === 'revoked' ? `revoked (${s.revoked_reason ?? '?'})` : s.state,
            String(s.connections),
            shortTime(s.created_at),
            shortTime(s.last_seen_at),
          ]),
        ),
      )
    if (next) io.err(moreRowsHint(next))
  },
}

export const sessionsRevoke: Command = {
  words: ['sessions', 'revoke'],
  summary: 'revoke a session; its live sockets close with 4501',
  help: `usage: chatgate sessions revoke <session_id> [--json]

Revokes the session (reason revoked_by_admin): its token stops working at once, and the
running server closes its live sockets with 4501 within a second. Revoking a session that
is already revoked changes nothing and still exits 0.

${commonHelp}
`,
  options: { ...commonOptions },
  args: ['session_id'],
  async run({ ctx, io, args, json }) {
    const id = args[0]!
    const done = await revokeSessionAsAdmin(ctx.store, ctx.sessions, id)
    if (!done) throw new CliError(`no session "${inert(id)}"`)
    await ctx.audit('revoke_session', done.session.id, { username: done.session.username, user_id: done.session.userId, revoked: done.revoked })
    if (json) io.out(renderJson({ session_id: done.session.id, username: done.session.username, revoked: done.revoked }))
    else io.out(done.revoked ? `revoked session ${done.session.id} of ${done.session.username}\n` : `session ${done.session.id} was already revoked\n`)
  },
}

import { liveNodesSince } from '../../cluster/liveness.js'
import { listLiveDevices } from '../../operators/operators.js'
import { encodeCursor, toDeviceView } from '../../views.js'
import type { Command } from '../command.js'
import { commonHelp } from '../command.js'
import { listHelp, listOptions, moreRowsHint, readListOptions } from '../list-options.js'
import { renderJson, renderTable, shortTime } from '../output.js'

export const devices: Command = {
  words: ['devices'],
  summary: 'live devices: sockets connected right now, on live nodes',
  help: `usage: chatgate devices [--user U] [--limit N] [--cursor C] [--json]

Lists the devices connected right now (one row per live WebSocket), newest first.
Revoke one with: chatgate sessions revoke <session_id>

${listHelp}
${commonHelp}
`,
  options: listOptions,
  args: [],
  async run({ ctx, io, values, json }) {
    const page = await listLiveDevices(ctx.store, readListOptions(values), liveNodesSince(ctx.config.nodeHeartbeatMs, ctx.now()))
    const rows = page.rows.map(toDeviceView)
    const next = encodeCursor(page.next)
    if (json) {
      io.out(renderJson({ devices: rows, next_cursor: next }))
      return
    }
    if (rows.length === 0) io.out('no live devices\n')
    else
      io.out(
        renderTable(
          [
            { header: 'SESSION', max: 36 },
            { header: 'USER' },
            { header: 'DEVICE', max: 24 },
            { header: 'IP', max: 39 },
            { header: 'NODE', max: 24 },
            { header: 'CONNECTED' },
            { header: 'USER AGENT', max: 40 },
          ],
          rows.map((d) => [d.session_id, d.username, d.device_name, d.ip, d.node_id, shortTime(d.connected_at), d.user_agent]),
        ),
      )
    if (next) io.err(moreRowsHint(next))
  },
}

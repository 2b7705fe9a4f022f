/**
 * A bot that signs in, stays connected through restarts and logs what it hears.
 * Run: CHATGATE_URL=http://127.0.0.1:8080 BOT_USER=bot BOT_PASSWORD=… npx tsx examples/node-bot.ts
 * (in another project: `import { ChatgateClient } from 'chatgate/client'`).
 */
import { ChatgateClient, type ChatgateError } from '../src/client/node.js'

const client = new ChatgateClient({ baseUrl: process.env.CHATGATE_URL ?? 'http://127.0.0.1:8080' })
const username = process.env.BOT_USER ?? 'bot'
const password = process.env.BOT_PASSWORD ?? 'bot-password-123'

try {
  await client.login({ username, password, deviceName: 'node-bot' })
} catch (e) {
  if ((e as ChatgateError).code !== 'INCORRECT_USERNAME') throw e
  await client.register({ username, password, deviceName: 'node-bot' })
}

const conn = client.connect()
conn.on('welcome', (w) => console.log(`connected as ${w.username}; ${w.devices.length} device(s)`))
conn.on('devices', (devices) => console.log('devices:', devices.map((d) => `${d.device_name}${d.online ? ' (online)' : ''}`).join(', ')))
conn.on('event', (data) => console.log('event:', data))
conn.on('state', (state) => console.log('state:', state))
conn.on('error', (e) => console.warn('server said something odd:', e.code))
conn.on('ended', ({ reason }) => {
  console.log(`ended: ${reason}`)
  process.exit(reason === 'closed' ? 0 : 1)
})
process.once('SIGINT', () => conn.close())

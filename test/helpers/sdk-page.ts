/** The page: imports the SDK from `base` and records everything it hears in window.heard. */
export const APP_PAGE = (base: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>sdk</title>
<script type="module">
import { ChatgateClient } from '${base}/client.js'
window.heard = []
window.app = {
  async start(username) {
    const signup = new ChatgateClient({ baseUrl: '${base}' })
    await signup.register({ username, password: 'password-123', deviceName: 'signup' })
    const client = new ChatgateClient({ baseUrl: '${base}' })
    await client.login({ username, password: 'password-123', deviceName: 'browser' })
    window.client = client
    const conn = client.connect()
    for (const name of ['welcome', 'event', 'ended', 'state', 'error', 'devices']) conn.on(name, (value) => window.heard.push({ name, value: JSON.parse(JSON.stringify(value ?? null)) }))
    return client.credentials
  },
  async tryLogin(username) {
    try {
      await new ChatgateClient({ baseUrl: '${base}' }).register({ username, password: 'password-123' })
      return 'signed in'
    } catch (e) {
      return e.name + ' ' + e.code
    }
  },
}
window.ready = true
</script></head><body><h1>sdk</h1></body></html>`

// The example app: log in, see your devices live, log out the others. It imports the SDK from the
// chatgate node itself (GET /client.js); every text it shows is set with textContent.
const $ = (id) => document.getElementById(id)
const server = () => $('server').value.replace(/\/+$/, '')
const { ChatgateClient } = await import(`${server()}/client.js`)

let client = new ChatgateClient({ baseUrl: server() })
const kept = sessionStorage.getItem('chatgate')
if (kept) {
  client.restore(JSON.parse(kept))
  start()
}

async function signIn(how) {
  $('error').textContent = ''
  client = new ChatgateClient({ baseUrl: server() })
  try {
    await client[how]({ username: $('username').value, password: $('password').value, deviceName: navigator.userAgent.slice(0, 64) })
    sessionStorage.setItem('chatgate', JSON.stringify(client.credentials))
    start()
  } catch (e) {
    $('error').textContent = `${e.code}: ${e.message}`
  }
}
$('login').addEventListener('submit', (ev) => {
  ev.preventDefault()
  signIn('login')
})
$('register').addEventListener('click', () => signIn('register'))

function showDevices(devices) {
  $('devices').replaceChildren(
    ...devices.map((d) => {
      const li = document.createElement('li')
      li.textContent = `${d.device_name} · ${d.ip}${d.online ? ' · online' : ''}`
      if (d.online) li.className = 'online'
      return li
    }),
  )
}

function start() {
  $('login').hidden = true
  $('app').hidden = false
  $('me').textContent = client.credentials.username
  const conn = client.connect()
  conn.on('state', (s) => ($('state').textContent = s))
  conn.on('welcome', (w) => showDevices(w.devices))
  conn.on('devices', showDevices)
  conn.on('event', (data) => {
    const li = document.createElement('li')
    li.textContent = JSON.stringify(data)
    $('events').append(li)
  })
  conn.on('ended', ({ reason }) => {
    sessionStorage.removeItem('chatgate')
    $('app').hidden = true
    $('login').hidden = false
    $('error').textContent = reason === 'closed' ? '' : `Signed out: ${reason}`
  })
  $('logout-others').onclick = async () => {
    const { revoked } = await client.logoutOthers()
    $('state').textContent = `${revoked} other device(s) logged out`
  }
  $('logout').onclick = () => client.logout().catch(() => undefined)
}

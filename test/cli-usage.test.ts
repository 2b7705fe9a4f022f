import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../src/cli/run.js'

// The argument parsing of the CLI, in process: every command's --help and the usage errors.
// A temp DATABASE_URL that must stay untouched proves none of these reached the database.
const dir = mkdtempSync(join(tmpdir(), 'chatgate-cli-usage-'))
test.after(() => rmSync(dir, { recursive: true, force: true }))

async function run(argv: string[]) {
  let out = ''
  let err = ''
  const code = await runCli(argv, {
    out: (t) => {
      out += t
    },
    err: (t) => {
      err += t
    },
    stdin: Readable.from([]),
    env: { DATABASE_URL: join(dir, 'chatgate.db') },
  })
  return { code, out, err }
}

const commands = [['user', 'add'], ['user', 'disable'], ['user', 'enable'], ['user', 'passwd'], ['devices'], ['sessions'], ['sessions', 'revoke']]

test('cli usage › should print the help of every command with --help and -h, and exit 0', async () => {
  for (const words of commands) {
    for (const flag of ['--help', '-h']) {
      const r = await run([...words, flag])
      assert.is(r.code, 0, `${words.join(' ')} ${flag}`)
      assert.ok(r.out.startsWith(`usage: chatgate ${words.join(' ')}`), r.out)
      assert.match(r.out, /--json/)
      assert.is(r.err, '')
    }
    const viaHelp = await run(['help', ...words])
    assert.ok(viaHelp.out.startsWith(`usage: chatgate ${words.join(' ')}`))
  }
  for (const argv of [['--help'], ['help'], ['-h']]) {
    const r = await run(argv)
    assert.is(r.code, 0)
    for (const words of commands) assert.ok(r.out.includes(`  ${words.join(' ')} `), `top help lists ${words.join(' ')}`)
  }
  const user = await run(['user', '--help'])
  assert.is(user.code, 0)
  assert.match(user.out, /user add[\s\S]*user passwd/)
})

test('cli usage › should exit 2 with a message and the usage on stderr for a wrong command line', async () => {
  const cases: [string[], RegExp][] = [
    [[], /missing command/],
    [['frob'], /unknown command "frob"/],
    [['user'], /missing user command/],
    [['user', 'frob'], /unknown user command "frob"/],
    [['user', 'add'], /missing <name>/],
    [['user', 'add', 'a', 'b'], /unexpected argument "b"/],
    [['user', 'add', 'ann', '--email'], /--email/],
    [['user', 'disable', 'ann', '--admin'], /Unknown option '--admin'/],
    [['devices', 'extra'], /unexpected argument "extra"/],
    [['sessions', 'revoke'], /missing <session_id>/],
    [['sessions', '--all=yes'], /--all/],
  ]
  for (const [argv, message] of cases) {
    const r = await run(argv)
    assert.is(r.code, 2, argv.join(' '))
    assert.is(r.out, '', argv.join(' '))
    assert.match(r.err, message)
    assert.match(r.err, /usage: chatgate/)
  }
  assert.equal(readdirSync(dir), [], 'no command line error opened the database')
})

test.run()

import { readFileSync } from 'node:fs'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CLOSE_CODES, CloseCode } from '../src/gateway/close-codes.js'

/** The rows of the close-code table in docs/API.md, as [code, name, reconnect, the client should]. */
function docsTable(): string[][] {
  const text = readFileSync(new URL('../docs/API.md', import.meta.url), 'utf8')
  const section = text.slice(text.indexOf('### Close codes'), text.indexOf('### Liveness'))
  return section
    .split('\n')
    .filter((l) => /^\| \d{4} \|/.test(l))
    .map((l) =>
      l
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    )
}

test('gateway › should document exactly the close codes of src/gateway/close-codes.ts', () => {
  const fromCode = Object.entries(CLOSE_CODES).map(([name, c]) => [String(c.code), name, c.reconnect ? 'yes' : 'no', c.clientShould])
  assert.equal(docsTable(), fromCode)
})

test('gateway › should keep 4000–4499 reconnectable and 4500–4999 terminal', () => {
  for (const [name, c] of Object.entries(CLOSE_CODES)) {
    if (c.code >= 4000 && c.code < 4500) assert.ok(c.reconnect, name)
    if (c.code >= 4500) assert.not.ok(c.reconnect, name)
    assert.is(CloseCode[name as keyof typeof CloseCode], c.code)
  }
})

test.run()

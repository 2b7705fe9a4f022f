import type { IncomingMessage } from 'node:http'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { findControlCharacterHeader } from '../src/request/header-check.js'

const controls = suite('request › control characters in header values')

const requestWith = (value: string) => ({ rawHeaders: ['User-Agent', 'ok', 'X-Probe', value] }) as unknown as IncomingMessage

controls('should refuse exactly Unicode Cc less TAB, over the whole Basic Multilingual Plane', () => {
  const cc = /\p{Cc}/u
  const wrong: string[] = []
  for (let cp = 0; cp <= 0xffff; cp++) {
    const ch = String.fromCharCode(cp)
    const expected = cp !== 0x09 && cc.test(ch) ? 'x-probe' : null
    if (findControlCharacterHeader(requestWith(`a${ch}b`)) !== expected) wrong.push(cp.toString(16))
  }
  assert.equal(wrong, [], `code points judged wrongly: ${wrong.slice(0, 10).join(', ')}`)
})

controls('should name the first offending header, lowercased', () => {
  const req = { rawHeaders: ['Host', 'x', 'X-One', 'a\x9bb', 'X-Two', '\x00'] } as unknown as IncomingMessage
  assert.is(findControlCharacterHeader(req), 'x-one')
  assert.is(findControlCharacterHeader(requestWith('tab\tis fine, so is ÿ and €')), null)
})

controls.run()

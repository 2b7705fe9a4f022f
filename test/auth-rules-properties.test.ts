import fc from 'fast-check'
import { suite } from 'uvu'
import { checkPasswordRule, isComparablePassword, isValidUsername, normalizeUsername, parseEmail, parseUsername } from '../src/auth/rules.js'
import { codeOf } from './helpers/api-errors.js'

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length

/** The contract's username rule written out by hand, independent of the regex in rules.ts. */
function modelUsername(input: string): string | null {
  let out = ''
  for (const ch of input) {
    const code = ch.charCodeAt(0)
    out += ch.length === 1 && code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : ch
  }
  const allowed = (ch: string) => (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch === '_' || ch === '-'
  if (out.length < 3 || out.length > 32 || out.startsWith('_') || ![...out].every(allowed)) return null
  return out
}

// Strings near the accepted space (the rule's alphabet in both cases, some look-alikes) and anywhere else.
const ruleAlphabet = fc.constantFrom(...'abcXYZ019_-'.split(''))
const usernameish = fc.oneof(
  fc.string({ unit: ruleAlphabet, maxLength: 40 }),
  // Every length around the 3 and 32 limits equally often, not only the short strings fast-check favours.
  fc.integer({ min: 1, max: 36 }).chain((n) => fc.string({ unit: ruleAlphabet, minLength: n, maxLength: n })),
  fc.string({ unit: fc.constantFrom(...'aZ_-\u0131\u0130\uff21é\u00a0 \t'.split('')), maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
)

const rules = suite('properties: validators')

rules('properties › parseUsername should accept exactly the contract rule and only ever throw INVALID_USERNAME', () => {
  fc.assert(
    fc.property(usernameish, (input) => {
      const code = codeOf(() => parseUsername(input))
      const expected = modelUsername(input)
      if (expected === null) return code === 'INVALID_USERNAME'
      return code === null && parseUsername(input) === expected && isValidUsername(expected) && parseUsername(expected) === expected
    }),
    { numRuns: 300 },
  )
})

rules('properties › normalizeUsername should lowercase ASCII letters and change nothing else', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (input) => {
      const out = normalizeUsername(input)
      if (out.length !== input.length) return false
      for (let i = 0; i < input.length; i++) {
        const a = input.charCodeAt(i)
        const b = out.charCodeAt(i)
        if (a >= 65 && a <= 90 ? b !== a + 32 : b !== a) return false
      }
      return true
    }),
    { numRuns: 300 },
  )
})

rules('properties › checkPasswordRule should accept exactly 8 to 72 bytes of UTF-8, whatever the characters', () => {
  const password = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 90 }))
  fc.assert(
    fc.property(password, (p) => {
      const bytes = utf8Bytes(p)
      const code = codeOf(() => checkPasswordRule(p))
      const ok = bytes >= 8 && bytes <= 72
      return (ok ? code === null : code === 'INVALID_PASSWORD') && isComparablePassword(p) === bytes <= 72
    }),
    { numRuns: 300 },
  )
})

rules('properties › parseEmail should return a trimmed, lowercased, single-@ address or throw BAD_REQUEST', () => {
  const email = fc.oneof(
    fc.emailAddress(),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.tuple(fc.emailAddress(), fc.constantFrom(' ', '\t', 'X')).map(([e, pad]) => pad + e.toUpperCase() + pad),
  )
  fc.assert(
    fc.property(email, (input) => {
      const code = codeOf(() => parseEmail(input))
      if (code !== null) return code === 'BAD_REQUEST'
      const out = parseEmail(input)
      return out === out.toLowerCase() && out === out.trim() && out.length <= 254 && out.split('@').length === 2 && !/\s/.test(out) && parseEmail(out) === out
    }),
    { numRuns: 300 },
  )
})

rules.run()

import { nanoid } from 'nanoid'
import { CliError } from './errors.js'

/** More than any valid password (72 bytes), small enough that a wrong pipe cannot fill memory. */
const MAX_STDIN_BYTES = 1024

/**
 * The password piped on stdin (one line, its trailing newline dropped), or null when stdin is a
 * terminal or empty: the caller then generates one.
 */
export async function readPipedPassword(stdin: NodeJS.ReadableStream & { isTTY?: boolean }): Promise<string | null> {
  if (stdin.isTTY) return null
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += buf.length
    if (size > MAX_STDIN_BYTES) throw new CliError(`the password on stdin is longer than ${MAX_STDIN_BYTES} bytes`)
    chunks.push(buf)
  }
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '')
  return text === '' ? null : text
}

/** A random password of 24 URL-safe characters (~143 bits), printed once by the caller. */
export const generatePassword = (): string => nanoid(24)

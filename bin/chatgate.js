#!/usr/bin/env node
// The `chatgate` command: runs the compiled CLI in dist/ (built by `npm install` through `prepare`).
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli/main.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('chatgate: dist/ is missing; run npm run build\n')
  process.exit(1)
}
await import(cli.href)

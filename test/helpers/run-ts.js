// `node test/helpers/run-ts.js file.ts args…` runs a TypeScript file (a test file, a node's src/main.ts) with tsx's loader registered from
// here, as bin/chatgate.js runs the CLI, rather than with `--import tsx`: worker threads inherit
// --import, so every bcrypt and checkpoint thread of every server a test starts loaded tsx too
// (about 0.35 s of CPU each) for files that are plain .js.
//
// The workers run as production runs them: the password worker is CommonJS (see its header), so
// piscina's require() of it never goes through Node 20's require(esm).
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { register } from 'tsx/esm/api'

register()
const file = resolve(process.argv[2] ?? '')
// The file sees the command line it would see if node had run it directly.
process.argv.splice(1, 2, file)
await import(pathToFileURL(file).href)

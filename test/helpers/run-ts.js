// `node --no-experimental-require-module test/helpers/run-ts.js file.ts args…` runs a TypeScript file (a test file, a node's src/main.ts) with tsx's loader registered from
// here, as bin/chatgate.js runs the CLI, rather than with `--import tsx`: worker threads inherit
// --import, so every bcrypt and checkpoint thread of every server a test starts loaded tsx too
// (about 0.35 s of CPU each) for files that are plain .js.
//
// Without tsx in the workers, piscina's worker loads the password worker (ESM) with require() first,
// and Node 20's require(esm) then crashed the whole test process now and then under load ("FATAL
// ERROR: v8::Module::IsGraphAsync must be used on an instantiated module", from piscina's
// worker.js). --no-experimental-require-module (inherited by the workers) makes that require throw
// at once, and piscina falls back to import(), as on Node 20.12-20.18.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { register } from 'tsx/esm/api'

register()
const file = resolve(process.argv[2] ?? '')
// The file sees the command line it would see if node had run it directly.
process.argv.splice(1, 2, file)
await import(pathToFileURL(file).href)

import { runCli } from './run.js'

// The `chatgate` command (bin/chatgate.js, `npm run cli --`). stdin is touched only by commands
// that read a password, so an unread pipe never keeps the process alive.
process.exitCode = await runCli(process.argv.slice(2), {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get stdin() {
    return process.stdin
  },
  env: process.env,
})

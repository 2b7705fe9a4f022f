import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// The TypeScript source through tsx, as every test runs it; bin/chatgate.js (dist/) is test/build-dist's.
const cliMain = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the `chatgate` command (`node --import tsx src/cli/main.ts …`) as a child process. `input`
 * is piped to stdin and closed; without it stdin is /dev/null (not a terminal, empty). Fails after `timeoutMs`.
 */
export function runCli(args: string[], options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], {
      // Blank values count as unset for loadConfig: the test's own environment must not leak in.
      env: { ...process.env, LOG_LEVEL: '', CHATGATE_SERVICE_TOKEN: '', METRICS_TOKEN: '', BCRYPT_COST: '4', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`chatgate ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms\n${stderr}`))
    }, options.timeoutMs ?? 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    if (options.input !== undefined) child.stdin!.end(options.input)
  })
}

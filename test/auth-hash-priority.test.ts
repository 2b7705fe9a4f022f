import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Piscina } from 'piscina'
import { loadConfig } from '../src/config.js'

// The bcrypt worker lowers its own thread's priority by HASH_THREAD_NICE (default 10), and keeps
// the process's priority at 0. Checked on the real worker file through a pool like the app's.
const workerFile = new URL('../src/auth/password-worker.cjs', import.meta.url).href
const niceOf = async (nice: number): Promise<number> => {
  const pool = new Piscina({
    filename: new URL('./helpers/priority-probe-worker.js', import.meta.url).href,
    workerData: { nice, workerFile },
    minThreads: 1,
    maxThreads: 1,
  })
  try {
    return (await pool.run(null)) as number
  } finally {
    await pool.destroy()
  }
}

test('hash threads › should run bcrypt at niceness 10 by default and at HASH_THREAD_NICE when set', async () => {
  assert.is(loadConfig({}).hashThreadNice, 10)
  assert.is(loadConfig({ HASH_THREAD_NICE: '0' }).hashThreadNice, 0)
  assert.throws(() => loadConfig({ HASH_THREAD_NICE: '20' }))
  assert.is(await niceOf(10), 10)
  assert.is(await niceOf(0), 0)
})

test.run()

import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { nodeArgsFor } from './entry.js'
import { freePort } from './redis.js'

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url))

export interface RunningService {
  url: string
  /** The demo key printed at startup in embedded mode without CLIENTS_FILE. */
  demoApiKey?: string
  output: () => string
  process: ChildProcess
  stop (signal?: NodeJS.Signals): Promise<number | null>
}

/** Runs `src/server.ts` (built, when dist/ is current) as a real process on a free loopback port and waits for it to listen. */
export async function startService (env: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunningService> {
  const port = await freePort()
  const child = spawn(process.execPath, nodeArgsFor(SERVER), {
    // The child's own coverage would be merged with the wrong source mapping.
    // Request rate limits are tested on their own; elsewhere they would only pace the tests.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', _TAPJS_PROCESSINFO_COVERAGE_: '0', RECONCILE_INTERVAL_MINUTES: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${out}`)
    const ready = await fetch(`${url}/health/live`).then((r) => r.ok, () => false)
    // In demo mode the key is printed right after listening; wait for it too.
    if (ready && (env.CLIENTS_FILE !== undefined || env.GENESYS_CLIENT_ID !== undefined || /Demo API key/.test(out))) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (Date.now() >= deadline) {
    child.kill('SIGKILL')
    throw new Error(`service did not start within ${timeoutMs} ms:\n${out}`)
  }
  return {
    url,
    demoApiKey: /Demo API key:\s+(\S+)/.exec(out)?.[1],
    output: () => out,
    process: child,
    stop (signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
      return new Promise((resolve) => {
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
        child.once('exit', (code) => { clearTimeout(killer); resolve(code) })
        child.kill(signal)
      })
    },
  }
}
